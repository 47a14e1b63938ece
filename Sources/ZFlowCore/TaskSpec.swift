/// Everything the scheduler needs to run one task: what to call, with what, after what.
public struct TaskSpec: Hashable, Sendable {
    /// The task's unique key; its result is stored under it.
    public var key: TaskKey
    /// The registered function to call.
    public var function: String
    /// The encoded argument list (a MessagePack array); futures inside are references to `dependencies`.
    public var arguments: Payload
    /// Keys whose results the arguments refer to; the task runs after all of them are in memory.
    public var dependencies: [TaskKey]
    /// Larger runs earlier; ties go to the earlier submission.
    public var priority: Int
    /// Names (or peer addresses) of the workers allowed to run it; empty means any worker.
    public var workers: [WorkerID]
    /// When true, `workers` is a preference: the task runs elsewhere if none of them is connected.
    public var allowOtherWorkers: Bool
    /// Resources the task holds while it runs; only workers that declare at least these amounts run it.
    public var resources: Resources
    /// How many more times a failed run is tried again (on any allowed worker) before the task errs.
    public var retries: Int
    /// Whether the worker should push a small result straight to the clients that want it: worth one message
    /// when a client waits on this task (`submit`), not for bulk work it gathers later (`map`).
    public var pushResult: Bool

    /// Describes a task.
    public init(
        key: TaskKey, function: String, arguments: Payload, dependencies: [TaskKey] = [], priority: Int = 0,
        workers: [WorkerID] = [], allowOtherWorkers: Bool = false, resources: Resources = [:], retries: Int = 0,
        pushResult: Bool = false
    ) {
        self.key = key
        self.function = function
        self.arguments = arguments
        self.dependencies = dependencies
        self.priority = priority
        self.workers = workers
        self.allowOtherWorkers = allowOtherWorkers
        self.resources = resources
        self.retries = retries
        self.pushResult = pushResult
    }
}

/// A dependency of a task handed to a worker: its key, its size and the peers that hold it.
public struct DependencyLocation: Hashable, Sendable {
    /// The dependency's key.
    public var key: TaskKey
    /// The size of its encoded result.
    public var nbytes: UInt64
    /// Peer addresses of the workers that hold it.
    public var holders: [PeerAddress]

    /// Describes where a dependency lives.
    public init(key: TaskKey, nbytes: UInt64, holders: [PeerAddress]) {
        self.key = key
        self.nbytes = nbytes
        self.holders = holders
    }
}

/// One task assigned to a worker by `compute-task`.
public struct TaskAssignment: Hashable, Sendable {
    /// The task's key.
    public var key: TaskKey
    /// This assignment; the worker reports its outcome under it.
    public var runID: RunID
    /// The registered function to call.
    public var function: String
    /// The encoded argument list.
    public var arguments: Payload
    /// Where each dependency can be fetched.
    public var dependencies: [DependencyLocation]
    /// Its place in the worker's run queue (the scheduler's order).
    public var priority: TaskPriority
    /// Resources it holds while it runs; the worker starts it only when they are free.
    public var resources: Resources
    /// Clients waiting for the result: a small result is pushed to them over the worker's peer socket, saving
    /// them the wait for `task-finished` and a `get-data` round trip.
    public var notify: [ClientID]

    /// Describes an assignment.
    public init(
        key: TaskKey, runID: RunID, function: String, arguments: Payload,
        dependencies: [DependencyLocation] = [], priority: TaskPriority = TaskPriority(), resources: Resources = [:],
        notify: [ClientID] = []
    ) {
        self.key = key
        self.runID = runID
        self.function = function
        self.arguments = arguments
        self.dependencies = dependencies
        self.priority = priority
        self.resources = resources
        self.notify = notify
    }
}

/// A key and the size of its stored result.
public struct KeySize: Hashable, Sendable {
    /// The key.
    public var key: TaskKey
    /// Bytes of its encoded result.
    public var nbytes: UInt64
    /// Pairs a key with its size.
    public init(key: TaskKey, nbytes: UInt64) {
        self.key = key
        self.nbytes = nbytes
    }
}

/// A key with its encoded value, as moved between workers and clients.
public struct KeyedPayload: Hashable, Sendable {
    /// The key.
    public var key: TaskKey
    /// The encoded value.
    public var payload: Payload
    /// Pairs a key with its bytes.
    public init(key: TaskKey, payload: Payload) {
        self.key = key
        self.payload = payload
    }
}
