import ZFlowCore

/// Something that happened to the scheduler: a message arrived, a message was refused, or time passed.
public enum SchedulerEvent: Equatable, Sendable {
    /// A decoded operation from the DEALER with routing id `from`, which says it is a worker.
    case fromWorker(RoutingID, WorkerToScheduler, now: Instant)
    /// A decoded operation from a client.
    case fromClient(ClientID, ClientToScheduler, now: Instant)
    /// A worker-side message or operation that could not be decoded.
    case rejectedFromWorker(RoutingID, ProtocolViolation, now: Instant)
    /// A client-side message or operation that could not be decoded.
    case rejectedFromClient(ClientID, ProtocolViolation, now: Instant)
    /// Time passed; the shell sends this at least every `SchedulerConfig.tickInterval`.
    case tick(now: Instant)
}

/// What the shell must do after an event, in order.
public enum SchedulerAction: Equatable, Sendable {
    /// Send an operation to the worker behind this routing id.
    case toWorker(RoutingID, SchedulerToWorker)
    /// Send an operation to a client.
    case toClient(ClientID, SchedulerToClient)
}

/// Tunable behaviour of the scheduler.
public struct SchedulerConfig: Equatable, Sendable {
    /// A worker silent for this many of its heartbeat intervals is considered dead.
    public var heartbeatLiveness: UInt64 = 3
    /// A worker's stated heartbeat interval is raised to at least this, so `heartbeat_ms: 0` cannot expire it at once.
    public var minimumHeartbeatInterval: Interval = .milliseconds(10)
    /// A client silent this long is considered gone and its futures are released.
    public var clientTimeout: Interval = .seconds(60)
    /// The duration assumed for a function not yet measured.
    public var defaultTaskDuration: Interval = .milliseconds(1)
    /// Bytes per second assumed for moving data between workers.
    public var bandwidth: Double = 500e6
    /// How many transitions the story log keeps.
    public var transitionLogCapacity: Int = 100_000
    /// How often the shell should send `.tick`.
    public var tickInterval: Interval = .milliseconds(100)

    /// The defaults.
    public init() {}
}
