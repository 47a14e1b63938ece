/// What a worker states about itself when it registers.
public struct WorkerRegistration: Hashable, Sendable {
    /// Its unique name.
    public var name: WorkerID
    /// Executor threads.
    public var nthreads: Int
    /// Names of the functions it can run.
    public var functions: [String]
    /// The address of its peer ROUTER.
    public var address: PeerAddress
    /// How often it sends a heartbeat when otherwise quiet.
    public var heartbeatInterval: Interval
    /// The protocol version it speaks.
    public var version: Int
    /// Results it already holds (after a reconnect).
    public var held: [KeySize]
    /// A directory of input files only this worker (or workers sharing it) can read, if it has one.
    public var dataDirectory: String?
    /// Abstract resources it offers (`--resources`).
    public var resources: Resources
    /// Its functions that act on its machine (run commands): only admins may submit them.
    public var adminFunctions: [String]

    /// Describes a worker.
    public init(
        name: WorkerID, nthreads: Int, functions: [String], address: PeerAddress,
        heartbeatInterval: Interval, version: Int = ProtocolVersion.current, held: [KeySize] = [],
        dataDirectory: String? = nil, resources: Resources = [:], adminFunctions: [String] = []
    ) {
        self.adminFunctions = adminFunctions
        self.name = name
        self.nthreads = nthreads
        self.functions = functions
        self.address = address
        self.heartbeatInterval = heartbeatInterval
        self.version = version
        self.held = held
        self.dataDirectory = dataDirectory
        self.resources = resources
    }
}

/// Operations a worker sends to the scheduler.
public enum WorkerToScheduler: Hashable, Sendable {
    /// `register`: join the cluster.
    case register(WorkerRegistration)
    /// `task-finished`: a run succeeded; its result is held here.
    case taskFinished(key: TaskKey, runID: RunID, nbytes: UInt64, duration: Interval)
    /// `task-erred`: a run failed.
    case taskErred(key: TaskKey, runID: RunID, error: RemoteError)
    /// `task-crashed`: a run trapped with `signal` (overflow, force unwrap, `fatalError`…) and the worker is
    /// about to die; sent by its loop on behalf of the fatal-signal handler.
    case taskCrashed(key: TaskKey, runID: RunID, signal: Int32)
    /// `missing-data`: a peer the scheduler named did not have a key.
    case missingData(key: TaskKey, holder: PeerAddress)
    /// `steal-response`: answers `steal-request`: whether the task was given up (it had not started) or kept.
    case stealResponse(key: TaskKey, runID: RunID, stolen: Bool)
    /// `add-keys`: these results are now held here too (copies fetched for `acquire-replicas`).
    case addKeys([KeySize])
    /// `heartbeat`: the worker is alive (sent only when the line was otherwise quiet).
    case heartbeat
    /// `worker-metrics`: the worker's running totals (sent with a heartbeat when they changed).
    case metrics(WorkerMetrics)
    /// `unregister`: the worker leaves.
    case unregister
}

/// Operations the scheduler sends to a worker.
public enum SchedulerToWorker: Hashable, Sendable {
    /// `registered`: registration accepted.
    case registered
    /// `compute-task`: run these tasks.
    case computeTask(TaskAssignment)
    /// `free-keys`: drop these results, or abandon these tasks.
    case freeKeys([TaskKey])
    /// `steal-request`: give this run of a task back if it has not started; answered by `steal-response`.
    case stealRequest(key: TaskKey, runID: RunID)
    /// `acquire-replicas`: fetch copies of these results from their holders and keep them (`add-keys` follows).
    case acquireReplicas([DependencyLocation])
    /// `retire`: every result only this worker held has a copy elsewhere; unregister and stop.
    case retire
    /// `error`: the worker's last message was refused.
    case error(ProtocolViolation)
}

/// Operations a client sends to the scheduler.
public enum ClientToScheduler: Hashable, Sendable {
    /// `register-client`: the client connects.
    case register(version: Int)
    /// `submit`: run these tasks; the client holds a future for each.
    case submit([TaskSpec])
    /// `release`: the client dropped its last future for these keys.
    case release([TaskKey])
    /// `cancel`: stop these tasks and their dependents.
    case cancel([TaskKey])
    /// `who-has`: where are these results?
    case whoHas([TaskKey])
    /// `scattered`: the client stored these values on a worker; the client holds futures for them.
    case scattered(worker: WorkerID, keys: [KeySize])
    /// `info`: ask for a snapshot of the cluster (and who holds `keys`).
    case info(keys: [TaskKey])
    /// `retire-workers`: move the results only these workers (names or peer addresses) hold to others, then
    /// stop them.
    case retireWorkers([WorkerID])
    /// `heartbeat`: the client is alive.
    case heartbeat
    /// `unregister`: the client leaves; its futures are released.
    case unregister
}

/// Operations the scheduler sends to a client.
public enum SchedulerToClient: Hashable, Sendable {
    /// `registered`: the client may submit.
    case registered
    /// `task-finished`: the result of `key` is in memory at `holders`.
    case taskFinished(key: TaskKey, nbytes: UInt64, holders: [PeerAddress])
    /// `task-erred`: `key` failed.
    case taskErred(key: TaskKey, error: RemoteError)
    /// `task-cancelled`: `key` was cancelled (by this or another client).
    case taskCancelled(key: TaskKey)
    /// `who-has-reply`: holders of each key asked about; keys not in memory have none.
    case whoHas([TaskKey: [PeerAddress]])
    /// `info-reply`: a snapshot of the cluster.
    case info(SchedulerInfo)
    /// `error`: the client's last message was refused.
    case error(ProtocolViolation)
}

/// Operations sent to a worker's peer ROUTER by other workers and by clients.
public enum PeerRequest: Hashable, Sendable {
    /// `get-data`: send these results.
    case getData([TaskKey])
    /// `put-data`: store these values (client `scatter`).
    case putData([KeyedPayload])
}

/// Replies from a worker's peer ROUTER.
public enum PeerReply: Hashable, Sendable {
    /// `data`: the results found, and the keys not held here.
    case data(found: [KeyedPayload], missing: [TaskKey])
    /// `put-data-ok`: these values are stored.
    case putDataStored([TaskKey])
    /// `push-result`: unsolicited, to a client named in `compute-task.notify`: the small result of a task it
    /// waits for. It answers no request.
    case pushed(KeyedPayload)
    /// `error`: the request was refused.
    case error(ProtocolViolation)
}
