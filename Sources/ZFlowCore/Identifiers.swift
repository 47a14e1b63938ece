/// The unique name of a task, and of its result, in a cluster.
public struct TaskKey: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The key as it travels on the wire.
    public let rawValue: String
    /// Wraps a key string.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// Wraps a key literal.
    public init(stringLiteral value: String) { self.rawValue = value }
    /// The key string.
    public var description: String { rawValue }
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
