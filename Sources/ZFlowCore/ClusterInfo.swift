/// What a worker has done since it started, reported in `worker-metrics`.
public struct WorkerMetrics: Hashable, Sendable, Codable {
    /// Task runs finished (successfully or not).
    public var executed: UInt64 = 0
    /// Keys fetched from peers.
    public var fetchedKeys: UInt64 = 0
    /// Bytes fetched from peers.
    public var fetchedBytes: UInt64 = 0
    /// Keys served to peers and clients.
    public var servedKeys: UInt64 = 0
    /// Bytes served to peers and clients.
    public var servedBytes: UInt64 = 0
    /// Tasks running on its executor threads, when it reported.
    public var running: UInt64 = 0
    /// Tasks waiting on the worker for a thread or for their inputs, when it reported.
    public var queued: UInt64 = 0
    /// Results in the worker's own store (including fetched copies), when it reported.
    public var storedKeys: UInt64 = 0
    /// Bytes in the worker's own store, when it reported.
    public var storedBytes: UInt64 = 0
    /// Results on disk (spilled), when it reported.
    public var spilledKeys: UInt64 = 0
    /// Bytes of results on disk, when it reported.
    public var spilledBytes: UInt64 = 0
    /// Results written to disk since start.
    public var spillCount: UInt64 = 0
    /// Its memory limit for results in bytes (`--memory-limit`); 0: none.
    public var memoryLimit: UInt64 = 0
    /// Whether it holds back new tasks because results fill its memory.
    public var paused: Bool = false
    /// Measured peer-to-peer bandwidth in bytes/s (moving average over fetches of 1 MiB or more); 0 until measured.
    public var bandwidth: Double = 0
    /// Zeroed metrics.
    public init() {}
}

/// A worker as the scheduler sees it, for `client.schedulerInfo()` and `zflow status`.
public struct WorkerInfo: Hashable, Sendable, Codable {
    /// The worker's unique name.
    public var name: String
    /// The address of its peer socket.
    public var address: String
    /// Its executor threads.
    public var nthreads: Int
    /// Tasks assigned to it and not finished.
    public var processing: Int
    /// Keys whose results it holds.
    public var keysHeld: Int
    /// Bytes of results it holds.
    public var bytesHeld: UInt64
    /// The functions it can run.
    public var functions: [String]
    /// Milliseconds since the scheduler last heard from it.
    public var lastSeenMilliseconds: UInt64
    /// Tasks the scheduler recorded as finished on it.
    public var tasksCompleted: UInt64
    /// What it last reported about itself.
    public var metrics: WorkerMetrics
    /// Its data directory (`zflow-worker --data-dir`), if any.
    public var dataDirectory: String?

    /// Describes a worker.
    public init(
        name: String, address: String, nthreads: Int, processing: Int, keysHeld: Int, bytesHeld: UInt64,
        functions: [String], lastSeenMilliseconds: UInt64, tasksCompleted: UInt64 = 0, metrics: WorkerMetrics = WorkerMetrics(),
        dataDirectory: String? = nil
    ) {
        self.name = name
        self.address = address
        self.nthreads = nthreads
        self.processing = processing
        self.keysHeld = keysHeld
        self.bytesHeld = bytesHeld
        self.functions = functions
        self.lastSeenMilliseconds = lastSeenMilliseconds
        self.tasksCompleted = tasksCompleted
        self.metrics = metrics
        self.dataDirectory = dataDirectory
    }
}

/// The scheduler's running totals.
public struct SchedulerCounters: Hashable, Sendable, Codable {
    /// Tasks that finished successfully since start.
    public var tasksCompleted: UInt64 = 0
    /// Tasks that erred since start.
    public var tasksErred: UInt64 = 0
    /// Bytes of payload frames the scheduler sent. No scheduler operation carries a result or scattered
    /// value, so this stays 0; only task arguments above the inline limit (4 KiB) would count.
    public var payloadBytesRelayed: UInt64 = 0
    /// Messages the scheduler rejected as malformed or unexpected.
    public var messagesRejected: UInt64 = 0
    /// `steal-request`s sent to busy workers.
    public var stealRequests: UInt64 = 0
    /// Tasks moved to another worker by a granted steal.
    public var tasksStolen: UInt64 = 0
    /// Creates zeroed counters.
    public init() {}
}

/// A snapshot of the cluster: workers, task counts by state, counters.
public struct SchedulerInfo: Hashable, Sendable, Codable {
    /// Connected workers, sorted by name.
    public var workers: [WorkerInfo]
    /// How many tasks are in each state (by `TaskStatus` raw value).
    public var taskCounts: [String: Int]
    /// Connected clients.
    public var clients: Int
    /// Running totals.
    public var counters: SchedulerCounters
    /// Who holds each key asked about (worker names).
    public var whoHas: [String: [String]]

    /// Describes the cluster.
    public init(
        workers: [WorkerInfo], taskCounts: [String: Int], clients: Int, counters: SchedulerCounters,
        whoHas: [String: [String]]
    ) {
        self.workers = workers
        self.taskCounts = taskCounts
        self.clients = clients
        self.counters = counters
        self.whoHas = whoHas
    }
}
