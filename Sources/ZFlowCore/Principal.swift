/// What a connection may do, as its key says (never its name or routing id).
public enum Role: String, Hashable, Sendable, CaseIterable, Codable {
    /// Registers a worker, holds data and reports results.
    case worker
    /// Submits tasks, holds futures, scatters and gathers data.
    case client
    /// A client that may also act on the whole cluster: retire workers, cancel any key, run admin functions.
    case admin

    /// The folder of a security directory that lists this role's keys (`workers`, `clients`, `admins`).
    public var folder: String { rawValue + "s" }
}

/// Who sent a message: the role and name of the key its connection authenticated with.
///
/// With security on, the ZAP handler gives each connection the user id `role:name` of its key, and every message
/// from it carries that id. Without security, every client is `local-admin` and every worker `local-worker`.
public struct Principal: Hashable, Sendable, CustomStringConvertible {
    /// What it may do.
    public var role: Role
    /// The name of its key (the key file's name).
    public var name: String

    /// Names a principal.
    public init(_ role: Role, _ name: String) {
        self.role = role
        self.name = name
    }

    /// Parses a ZAP user id `role:name`; nil for anything else.
    public init?(userID: String) {
        guard let colon = userID.firstIndex(of: ":"), let role = Role(rawValue: String(userID[..<colon])) else {
            return nil
        }
        self.init(role, String(userID[userID.index(after: colon)...]))
    }

    /// The ZAP user id: `role:name`.
    public var userID: String { "\(role.rawValue):\(name)" }
    /// `role:name`.
    public var description: String { userID }

    /// Every client of a cluster without security: it may do everything, as before security existed.
    public static let localAdmin = Principal(.admin, "local")
    /// Every worker of a cluster without security.
    public static let localWorker = Principal(.worker, "local")

    /// True for clients and admins.
    public var isClient: Bool { role != .worker }
}
