import ZFlowCore

/// Something that happened to the scheduler: a message arrived, a message was refused, or time passed.
public enum SchedulerEvent: Equatable, Sendable {
    /// A decoded operation from the DEALER with routing id `from`, sent as a worker by `principal` (the key its
    /// connection authenticated with; `Principal.localWorker` without security).
    case fromWorker(RoutingID, WorkerToScheduler, principal: Principal, now: Instant)
    /// A decoded operation from a client, sent by `principal` (`Principal.localAdmin` without security).
    case fromClient(ClientID, ClientToScheduler, principal: Principal, now: Instant)
    /// A worker-side message or operation that could not be decoded.
    case rejectedFromWorker(RoutingID, ProtocolViolation, now: Instant)
    /// A client-side message or operation that could not be decoded.
    case rejectedFromClient(ClientID, ProtocolViolation, now: Instant)
    /// The peer behind this routing id does not read: its send queue is full and a message to it was dropped.
    /// A client is forgotten (its futures released), a worker treated as dead.
    case unreachable(RoutingID, now: Instant)
    /// Time passed; the shell sends this at least every `SchedulerConfig.tickInterval`.
    case tick(now: Instant)
}

/// A queued root task's place in the scheduler's queue: `a < b` when `a` is handed out first.
public struct QueueEntry: Comparable, Sendable {
    /// The task's place in line.
    public let priority: TaskPriority
    /// Its arrival order, for ties.
    public let order: UInt64
    /// The task.
    public let key: TaskKey
    /// Priority first, then arrival.
    public static func < (lhs: QueueEntry, rhs: QueueEntry) -> Bool {
        lhs.priority != rhs.priority ? lhs.priority < rhs.priority : lhs.order < rhs.order
    }
    /// Entries are equal when they order equally and name the same task.
    public static func == (lhs: QueueEntry, rhs: QueueEntry) -> Bool {
        lhs.priority == rhs.priority && lhs.order == rhs.order && lhs.key == rhs.key
    }
}

/// A `steal-request` sent and not yet answered.
public struct PendingSteal: Equatable, Sendable {
    /// The worker asked to give the task up.
    public var victim: WorkerID
    /// The worker that gets it if it is given up (nil once that worker left).
    public var thief: WorkerID?
    /// The run asked for.
    public var run: RunID
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
    /// A task may be processing on this many workers that die before it fails with `KilledWorker` (on the next).
    public var allowedFailures: Int = 3
    /// A worker's stated heartbeat interval is raised to at least this, so `heartbeat_ms: 0` cannot expire it at once.
    public var minimumHeartbeatInterval: Interval = .milliseconds(10)
    /// A client silent this long is considered gone and its futures are released.
    public var clientTimeout: Interval = .seconds(60)
    /// The duration assumed for a function not yet measured.
    public var defaultTaskDuration: Interval = .milliseconds(1)
    /// Bytes per second assumed for moving data between workers until workers report a measured figure.
    public var bandwidth: Double = 500e6
    /// Queuing: a worker is given root tasks (no dependencies, no restrictions) while it holds fewer than
    /// `saturation × nthreads` (rounded up) tasks; the rest wait on the scheduler in priority order.
    /// `.infinity` turns queuing off.
    public var saturation: Double = 1.25
    /// Short tasks: a worker may also hold as many root tasks as it runs in this time per thread (by the
    /// function's measured duration), so that tiny tasks do not wait for a round trip each.
    public var queueTime: Interval = .milliseconds(20)
    /// The most root tasks per thread a worker holds, however short they are.
    public var maximumQueuedPerThread: Int = 100_000
    /// Work stealing: move queued tasks from busy workers to idle ones (checked every tick and when a worker joins).
    public var workStealing: Bool = true
    /// A task is stolen only when moving its missing inputs takes at most this fraction of its expected duration.
    public var stealTransferRatio: Double = 0.5
    /// Tasks expected to run shorter than this are not stolen: a steal costs two messages.
    public var minimumStealDuration: Interval = .milliseconds(1)
    /// How many transitions the story log keeps.
    public var transitionLogCapacity: Int = 100_000
    /// How often the shell should send `.tick`.
    public var tickInterval: Interval = .milliseconds(100)
    /// The most workers registered at once; a further `register` gets `limitReached` (312).
    public var maxWorkers: Int = 10_000
    /// The most clients registered at once; a further `register-client` gets `limitReached` (312).
    public var maxClients: Int = 1_000
    /// The most executor threads a worker may declare.
    public var maxThreadsPerWorker: Int = 4_096
    /// The longest heartbeat interval a worker may declare: a worker silent for `heartbeatLiveness` times this
    /// is expired whatever it claimed.
    public var maximumHeartbeatInterval: Interval = .seconds(60)
    /// The largest result size (`nbytes`) a worker or client may report.
    public var maxResultBytes: UInt64 = 1 << 40
    /// Functions only an admin may submit: they act on the workers' machines (`shell`, `command`). Without
    /// security every client is an admin.
    public var adminFunctions: Set<String> = ["shell", "command"]

    /// The defaults.
    public init() {}
}
