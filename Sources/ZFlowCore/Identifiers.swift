/// A name hashed through a digest of its UTF-8 bytes computed once, when the name is made.
///
/// Every state-machine event looks names up in several dictionaries and sets: hashing the string each time
/// (SipHash over its bytes) was the largest single cost of the scheduler's core. Equality compares the digests
/// first and the strings only when they agree.
public protocol PrehashedName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The name as it travels on the wire.
    var rawValue: String { get }
    /// FNV-1a of the UTF-8 bytes of `rawValue`.
    var digest: UInt64 { get }
}

extension PrehashedName {
    /// FNV-1a of the UTF-8 bytes of `text`.
    public static func digest(of text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
    /// Equal when the digests and the strings are equal.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.digest == rhs.digest && lhs.rawValue == rhs.rawValue }
    /// Feeds the precomputed digest to the hasher.
    public func hash(into hasher: inout Hasher) { hasher.combine(digest) }
    /// The hash `Set` and `Dictionary` use, mixed from the digest and their seed without running SipHash
    /// (`Hashable`'s customisation point for types that already carry a good hash).
    public func _rawHashValue(seed: Int) -> Int {
        var mixed = digest ^ UInt64(UInt(bitPattern: seed))
        mixed = (mixed ^ (mixed >> 33)) &* 0xff51_afd7_ed55_8ccd
        mixed = (mixed ^ (mixed >> 33)) &* 0xc4ce_b9fe_1a85_ec53
        return Int(truncatingIfNeeded: mixed ^ (mixed >> 33))
    }
    /// Orders names by their strings.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    /// The name.
    public var description: String { rawValue }
}

/// A name of one kind (the phantom `Kind` keeps task keys, worker names and the rest apart as types).
public struct Name<Kind>: PrehashedName, ExpressibleByStringLiteral {
    /// The name as it travels on the wire.
    public let rawValue: String
    /// FNV-1a of the UTF-8 bytes.
    public let digest: UInt64

    /// Wraps a name.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
        digest = Self.digest(of: rawValue)
    }
    /// Wraps a name literal.
    public init(stringLiteral value: String) { self.init(value) }
}

/// What a `TaskKey` names.
public enum TaskKeyKind {}
/// What a `WorkerID` names.
public enum WorkerIDKind {}
/// What a `ClientID` names.
public enum ClientIDKind {}
/// What a `PeerAddress` names.
public enum PeerAddressKind {}
/// What a `RoutingID` names.
public enum RoutingIDKind {}

/// The unique name of a task, and of its result, in a cluster.
public typealias TaskKey = Name<TaskKeyKind>
/// A worker's unique name in a cluster (its `--name`, or one the worker made up).
public typealias WorkerID = Name<WorkerIDKind>
/// A client's unique name in a cluster: the routing id its DEALER socket sets.
public typealias ClientID = Name<ClientIDKind>
/// The address of a worker's peer ROUTER socket, e.g. `tcp://127.0.0.1:40123`.
public typealias PeerAddress = Name<PeerAddressKind>
/// The routing id a DEALER presents to the scheduler's ROUTER, before it is known as a worker.
public typealias RoutingID = Name<RoutingIDKind>

/// Identifies one assignment of a task to a worker; a result reported under an older run is stale.
public struct RunID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The scheduler's counter value for this assignment.
    public let rawValue: UInt64
    /// Wraps a counter value.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// The counter value as text.
    public var description: String { "run\(rawValue)" }
    /// Orders runs by assignment.
    public static func < (lhs: RunID, rhs: RunID) -> Bool { lhs.rawValue < rhs.rawValue }
}

