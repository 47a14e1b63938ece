/// The unique name of a task, and of its result, in a cluster.
///
/// Keys are hashed through a hash of their UTF-8 bytes computed once when the key
/// is made: every state-machine event looks keys up in several dictionaries and sets, and hashing the string
/// each time was the largest single cost of the scheduler's core.
public struct TaskKey: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The key as it travels on the wire.
    public let rawValue: String
    /// FNV-1a of the UTF-8 bytes.
    private let digest: UInt64

    /// Wraps a key string.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in rawValue.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        digest = hash
    }
    /// Wraps a key literal.
    public init(stringLiteral value: String) { self.init(value) }
    /// The key string.
    public var description: String { rawValue }
    /// Equal when the digests and the strings are equal.
    public static func == (lhs: TaskKey, rhs: TaskKey) -> Bool {
        lhs.digest == rhs.digest && lhs.rawValue == rhs.rawValue
    }
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
    /// Orders keys by their strings.
    public static func < (lhs: TaskKey, rhs: TaskKey) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A worker's unique name in a cluster (its `--name`, or one the worker made up).
public struct WorkerID: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The name as it travels on the wire.
    public let rawValue: String
    /// Wraps a worker name.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// Wraps a worker name literal.
    public init(stringLiteral value: String) { self.rawValue = value }
    /// The worker name.
    public var description: String { rawValue }
    /// Orders workers by their names.
    public static func < (lhs: WorkerID, rhs: WorkerID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A client's unique name in a cluster: the routing id its DEALER socket sets.
public struct ClientID: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The name as it travels on the wire.
    public let rawValue: String
    /// Wraps a client name.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// Wraps a client name literal.
    public init(stringLiteral value: String) { self.rawValue = value }
    /// The client name.
    public var description: String { rawValue }
    /// Orders clients by their names.
    public static func < (lhs: ClientID, rhs: ClientID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The address of a worker's peer ROUTER socket, e.g. `tcp://127.0.0.1:40123`.
public struct PeerAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The ZeroMQ endpoint string.
    public let rawValue: String
    /// Wraps an endpoint string.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// The endpoint string.
    public var description: String { rawValue }
    /// Orders addresses by their strings.
    public static func < (lhs: PeerAddress, rhs: PeerAddress) -> Bool { lhs.rawValue < rhs.rawValue }
}

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

/// The routing id a DEALER presents to the scheduler's ROUTER, before it is known as a worker.
public struct RoutingID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The routing id's bytes as text.
    public let rawValue: String
    /// Wraps a routing id.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// The routing id.
    public var description: String { rawValue }
    /// Orders routing ids by their strings.
    public static func < (lhs: RoutingID, rhs: RoutingID) -> Bool { lhs.rawValue < rhs.rawValue }
}
