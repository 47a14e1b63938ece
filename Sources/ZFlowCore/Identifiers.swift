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

/// The unique name of a task, and of its result, in a cluster.
public struct TaskKey: PrehashedName, ExpressibleByStringLiteral {
    /// The key as it travels on the wire.
    public let rawValue: String
    /// FNV-1a of the UTF-8 bytes.
    public let digest: UInt64

    /// Wraps a key string.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
        digest = Self.digest(of: rawValue)
    }
    /// Wraps a key literal.
    public init(stringLiteral value: String) { self.init(value) }
}

/// A worker's unique name in a cluster (its `--name`, or one the worker made up).
public struct WorkerID: PrehashedName, ExpressibleByStringLiteral {
    /// The name as it travels on the wire.
    public let rawValue: String
    /// FNV-1a of the UTF-8 bytes.
    public let digest: UInt64
    /// Wraps a worker name.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
        digest = Self.digest(of: rawValue)
    }
    /// Wraps a worker name literal.
    public init(stringLiteral value: String) { self.init(value) }
}

/// A client's unique name in a cluster: the routing id its DEALER socket sets.
public struct ClientID: PrehashedName, ExpressibleByStringLiteral {
    /// The name as it travels on the wire.
    public let rawValue: String
    /// FNV-1a of the UTF-8 bytes.
    public let digest: UInt64
    /// Wraps a client name.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
        digest = Self.digest(of: rawValue)
    }
    /// Wraps a client name literal.
    public init(stringLiteral value: String) { self.init(value) }
}

/// The address of a worker's peer ROUTER socket, e.g. `tcp://127.0.0.1:40123`.
public struct PeerAddress: PrehashedName {
    /// The ZeroMQ endpoint string.
    public let rawValue: String
    /// FNV-1a of the UTF-8 bytes.
    public let digest: UInt64
    /// Wraps an endpoint string.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
        digest = Self.digest(of: rawValue)
    }
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
public struct RoutingID: PrehashedName {
    /// The routing id's bytes as text.
    public let rawValue: String
    /// FNV-1a of the UTF-8 bytes.
    public let digest: UInt64
    /// Wraps a routing id.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
        digest = Self.digest(of: rawValue)
    }
}
