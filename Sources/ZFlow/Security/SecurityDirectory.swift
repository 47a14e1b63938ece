import Foundation
import ZFlowCore
import ZFlowZMQ

/// A cluster's security directory, as `zflow keygen DIR` makes it: CurveZMQ key pairs in Z85 text files.
///
///     DIR/scheduler.public   DIR/scheduler.secret       the scheduler's key pair
///     DIR/workers/NAME.public  DIR/workers/NAME.secret  worker identities
///     DIR/clients/NAME.public  DIR/clients/NAME.secret  client identities
///     DIR/admins/NAME.public   DIR/admins/NAME.secret   admin identities (clients that may act on the cluster)
///
/// Secret files are mode 0600. The scheduler and every worker accept exactly the keys of the `*.public` files in
/// the three role folders, re-read when a folder changes: deleting `NAME.public` revokes NAME for new
/// connections. A host needs only what it uses: the scheduler's public key, its own identity and (scheduler and
/// workers) the role folders' public keys.
public struct SecurityDirectory: Hashable, Sendable, CustomStringConvertible {
    /// The directory.
    public let path: String
    /// The identity a client or worker connects with (a key file's name in its role folder); nil: the default
    /// (`client`, `worker`, or the only one there).
    public let identity: String?

    /// Names a security directory; nothing is read until a key is needed.
    public init(_ path: String, identity: String? = nil) {
        self.path = path
        self.identity = identity
    }

    /// The directory's path.
    public var description: String { path }

    /// The security directory named by `ZFLOW_SECURITY` (and `ZFLOW_IDENTITY`), if set.
    public static var fromEnvironment: SecurityDirectory? {
        let environment = ProcessInfo.processInfo.environment
        guard let path = environment["ZFLOW_SECURITY"], !path.isEmpty else { return nil }
        return SecurityDirectory(path, identity: environment["ZFLOW_IDENTITY"].flatMap { $0.isEmpty ? nil : $0 })
    }

    // MARK: - Creating

    /// Creates a security directory for one cluster: the scheduler's key pair, a `worker` and a `client`
    /// identity, and the role folders.
    ///
    /// - Throws: `SecurityError` when `path` already holds a scheduler key or cannot be written.
    @discardableResult
    public static func create(at path: String) throws(SecurityError) -> SecurityDirectory {
        let directory = SecurityDirectory(path)
        if FileManager.default.fileExists(atPath: directory.file("scheduler.secret")) {
            throw SecurityError("\(path) already holds a scheduler key; add identities with --add ROLE NAME")
        }
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for role in Role.allCases {
                try FileManager.default.createDirectory(
                    atPath: directory.file(role.folder), withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o755])
            }
        } catch {
            throw SecurityError("cannot create \(path): \(error.localizedDescription)")
        }
        try directory.writePair(try generate(), base: directory.file("scheduler"))
        try directory.add(.worker, name: "worker")
        try directory.add(.client, name: "client")
        return directory
    }

    /// Adds an identity: `ROLE/NAME.public` and `ROLE/NAME.secret`. The scheduler and workers accept it from
    /// their next check of the folder on.
    ///
    /// - Throws: `SecurityError` for a name that is not a plain file name, one that exists, or a write failure.
    public func add(_ role: Role, name: String) throws(SecurityError) {
        guard Self.isIdentityName(name) else {
            throw SecurityError("identity names are letters, digits, '.', '-' and '_' (at most 64, not 'local'), got '\(name)'")
        }
        let base = file("\(role.folder)/\(name)")
        guard !FileManager.default.fileExists(atPath: base + ".public"),
            !FileManager.default.fileExists(atPath: base + ".secret")
        else { throw SecurityError("\(role.folder)/\(name) exists already in \(path)") }
        do {
            try FileManager.default.createDirectory(atPath: file(role.folder), withIntermediateDirectories: true)
        } catch {
            throw SecurityError("cannot create \(file(role.folder)): \(error.localizedDescription)")
        }
        try writePair(try Self.generate(), base: base)
    }

    /// Whether `name` may name a key file: 1 to 64 of letters, digits, `.`, `-`, `_`, not starting with `.`, and
    /// not `local` (the name of every principal of a cluster without security).
    static func isIdentityName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && !name.hasPrefix(".") && name != Principal.localAdmin.name
            && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic && $0.isASCII || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }
    }

    private static func generate() throws(SecurityError) -> CurveKeyPair {
        do {
            return try CurveKeyPair.generate()
        } catch {
            throw SecurityError("cannot make a CURVE key pair: \(error) (is libzmq built with CURVE?)")
        }
    }

    private func writePair(_ pair: CurveKeyPair, base: String) throws(SecurityError) {
        try write(pair.secretKey + "\n", to: base + ".secret", mode: 0o600)
        try write(pair.publicKey + "\n", to: base + ".public", mode: 0o644)
    }

    private func write(_ text: String, to file: String, mode: Int) throws(SecurityError) {
        guard FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: mode]),
            let handle = FileHandle(forWritingAtPath: file)
        else { throw SecurityError("cannot write \(file)") }
        handle.write(Data(text.utf8))
        try? handle.close()
    }

    // MARK: - Reading

    /// The scheduler's key pair (`scheduler.secret`).
    public func schedulerKeys() throws(SecurityError) -> CurveKeyPair { try keyPair(secretFile: file("scheduler.secret")) }

    /// The scheduler's public key (`scheduler.public`), which clients and workers connect with.
    public func schedulerPublicKey() throws(SecurityError) -> String { try key(in: file("scheduler.public")) }

    /// The identity a program of `role` connects with: `identity` if set (looked up in the role's folder, and
    /// for clients in `admins` too), else the default name (`worker`, `client`), else the only key there; a
    /// client that `prefersAdmin` takes an admin identity when the directory holds one.
    ///
    /// - Throws: `SecurityError` naming what is missing.
    public func identityKeys(for role: Role, prefersAdmin: Bool = false) throws(SecurityError) -> (Principal, CurveKeyPair) {
        let roles: [Role] =
            role == .worker ? [.worker] : prefersAdmin ? [.admin, .client] : [.client, .admin]
        if let identity {
            for candidate in roles where FileManager.default.fileExists(atPath: file("\(candidate.folder)/\(identity).secret")) {
                return (Principal(candidate, identity), try keyPair(secretFile: file("\(candidate.folder)/\(identity).secret")))
            }
            throw SecurityError(
                "no identity '\(identity)' in \(roles.map { file($0.folder) }.joined(separator: " or ")) (a \(identity).secret file)")
        }
        for candidate in roles {
            let names = secretNames(in: candidate)
            let name = names.contains(role.rawValue) ? role.rawValue : names.count == 1 ? names[0] : nil
            if let name { return (Principal(candidate, name), try keyPair(secretFile: file("\(candidate.folder)/\(name).secret"))) }
            if names.count > 1 {
                throw SecurityError("\(file(candidate.folder)) holds several identities (\(names.joined(separator: ", "))): choose one with --identity")
            }
        }
        throw SecurityError(
            "no \(role) identity in \(path): expected a .secret file in \(file(role.folder)) (zflow keygen \(path) --add \(role) NAME)")
    }

    /// Every accepted public key with the principal it stands for, read from the role folders now, and what was
    /// left out: a file that is not a key (one being written, say) is skipped alone, so that the rest, and every
    /// revocation, still takes effect; a key listed under two roles is refused under both.
    public func accessList() -> (list: AccessList, problems: [String]) {
        var principals: [String: Principal] = [:]
        var problems: [String] = []
        var ambiguous: Set<String> = []
        for role in Role.allCases {
            let folder = file(role.folder)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for name in names.sorted() where name.hasSuffix(".public") {
                do {
                    let key = try key(in: "\(folder)/\(name)")
                    if let other = principals[key], other.role != role { ambiguous.insert(key) }
                    principals[key] = Principal(role, String(name.dropLast(".public".count)))
                } catch {
                    problems.append(error.description)
                }
            }
        }
        for key in ambiguous.sorted() {
            problems.append("key \(key) is listed under two roles: refused under both")
            principals.removeValue(forKey: key)
        }
        return (AccessList(principals), problems)
    }

    /// When each role folder last changed (a key added or removed), to re-read the access list only then.
    func folderStamps() -> [Date?] {
        Role.allCases.map { role in
            (try? FileManager.default.attributesOfItem(atPath: file(role.folder)))?[.modificationDate] as? Date
        }
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    private func secretNames(in role: Role) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: file(role.folder))) ?? [])
            .filter { $0.hasSuffix(".secret") }.map { String($0.dropLast(".secret".count)) }.sorted()
    }

    private func key(in file: String) throws(SecurityError) -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw SecurityError("cannot read \(file): missing or unreadable (is --security the directory zflow keygen made?)")
        }
        let text = String(decoding: data.prefix(256), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard CurveKeyPair.isKey(text) else { throw SecurityError("\(file) does not hold a Z85 CURVE key") }
        return text
    }

    private func keyPair(secretFile: String) throws(SecurityError) -> CurveKeyPair {
        let secret = try key(in: secretFile)
        do {
            return try CurveKeyPair(secretKey: secret)
        } catch {
            throw SecurityError("\(secretFile): \(error)")
        }
    }
}

/// The public keys a cluster accepts, each with the principal (role and name) it authenticates as.
public struct AccessList: Hashable, Sendable {
    /// Principal by Z85 public key.
    public let principals: [String: Principal]

    /// A list of keys.
    public init(_ principals: [String: Principal]) { self.principals = principals }

    /// The ZAP answer for a connection: let in a CURVE client whose key is listed, as `role:name`.
    public func decide(_ request: ZAPRequest) -> ZAPDecision {
        guard request.mechanism == "CURVE", let key = request.clientKey else {
            return .deny(reason: "mechanism \(request.mechanism) is not accepted: CURVE only")
        }
        guard let principal = principals[key] else { return .deny(reason: "public key \(key) is not listed") }
        return .allow(userID: principal.userID)
    }
}

/// A security directory is missing, unreadable or incomplete; the message names the file and what to do.
public struct SecurityError: Error, Hashable, Sendable, CustomStringConvertible {
    /// One line.
    public let description: String
    init(_ description: String) { self.description = description }
}
