import ZFlowCore

/// How one run of a task ended on an executor thread.
public enum TaskOutcome: Equatable, Sendable {
    /// The function returned; its encoded result has `nbytes` bytes.
    case success(nbytes: UInt64, duration: Interval)
    /// The function threw, or its arguments could not be decoded.
    case failure(RemoteError)
}

/// Something that happened to a worker.
public enum WorkerEvent: Equatable, Sendable {
    /// The scheduler assigned a task.
    case computeTask(TaskAssignment, now: Instant)
    /// The scheduler released results or abandoned tasks.
    case freeKeys([TaskKey], now: Instant)
    /// An executor thread finished a run; the shell holds its result bytes until told to store or drop them.
    case executed(TaskKey, RunID, TaskOutcome, now: Instant)
    /// The shell, about to start this run, found these of its inputs gone from its store (a spilled result that
    /// could not be read back): the run does not start, and the results are reported lost.
    case inputsLost(TaskKey, RunID, lost: [TaskKey], now: Instant)
    /// A peer answered a fetch: these keys arrived (and are held by the shell), these it did not have.
    case fetched(from: PeerAddress, found: [KeySize], missing: [TaskKey], now: Instant)
    /// A client stored values here (`put-data`).
    case dataStored([KeySize], now: Instant)
    /// The scheduler asks for this run of a task back (`steal-request`).
    case stealRequest(TaskKey, RunID, now: Instant)
    /// Memory is full (true: start no new task) or has room again (false).
    case paused(Bool, now: Instant)
    /// The scheduler forgot this worker (it expired, or the scheduler restarted): every assignment is void.
    case forgotten(now: Instant)
    /// The scheduler wants copies of these results here (`acquire-replicas`).
    case acquireReplicas([DependencyLocation], now: Instant)
    /// Time passed; fetches past their deadline fail.
    case tick(now: Instant)
}

/// What the worker shell must do after an event, in order.
public enum WorkerAction: Equatable, Sendable {
    /// Run a task on an executor thread, with the stored results of `dependencies` as inputs.
    case execute(TaskAssignment)
    /// Ask the peer at `from` for these keys in one `get-data` request.
    case fetch([TaskKey], from: PeerAddress)
    /// Send an operation to the scheduler.
    case send(WorkerToScheduler)
    /// Send the stored result of `key` to these clients (`push-result`), unasked.
    case push(TaskKey, to: [ClientID])
    /// Keep the result of run `RunID` under its key.
    case storeResult(TaskKey, RunID)
    /// Withdraw a run from the executor pool if no thread has started it; if withdrawn, the shell reports it
    /// as `.executed(key, run, .failure(…))`, which frees its slot.
    case abandon(TaskKey, RunID)
    /// Throw away the result of a run nobody wants any more.
    case dropResult(TaskKey, RunID)
    /// Delete these stored results.
    case discard([TaskKey])
}

/// Tunable behaviour of a worker.
public struct WorkerConfig: Equatable, Sendable {
    /// Executor threads.
    public var nthreads: Int = 1
    /// Tasks handed to the executor pool per thread. Above 1, a thread starts its next task without waiting
    /// for the loop, and finished runs come back in batches (one wake-up for many tasks); 1 hands out a task
    /// only when a thread is free.
    public var dispatchDepth: Int = 1
    /// The most runs per thread handed to the pool once runs are measured short: the depth grows so that about
    /// `dispatchQueueTime` of work waits per thread (short tasks batch; long ones stay on the scheduler's side,
    /// where they can still go to another worker). Equal to `dispatchDepth`: fixed depth.
    public var maxDispatchDepth: Int = 1
    /// The work per thread the adaptive depth aims to keep queued in the pool.
    public var dispatchQueueTime: Interval = .milliseconds(1)
    /// Results up to this many bytes are pushed to the clients named in `compute-task.notify`; 0 pushes none.
    public var pushLimit: UInt64 = 0
    /// At most this many `get-data` requests in flight at once.
    public var maxFetchesInFlight: Int = 4
    /// The longest a fetch may go unanswered before it fails and the next holder is tried.
    public var fetchTimeout: Interval = .seconds(10)
    /// A fetch of small keys fails after this; larger ones get `bytes / fetchMinimumBandwidth` more (up to
    /// `fetchTimeout`), so a dead peer holding small inputs is given up on quickly.
    public var fetchResponseTime: Interval = .seconds(5)
    /// The slowest transfer rate (bytes/s) a live peer is assumed to manage, for fetch deadlines.
    public var fetchMinimumBandwidth: Double = 20e6
    /// The most bytes one `get-data` asks for (a single larger key is asked for alone).
    public var maxFetchBytes: UInt64 = 64 << 20
    /// Abstract resources this worker offers; a task needing some starts only while they are free.
    public var resources: Resources = [:]
    /// This worker's peer address: it names itself as the holder when it reports a result of its own lost.
    public var address = PeerAddress("")

    /// The defaults with `nthreads` threads.
    public init(nthreads: Int = 1, dispatchDepth: Int = 1, maxDispatchDepth: Int? = nil) {
        self.nthreads = nthreads
        self.dispatchDepth = dispatchDepth
        self.maxDispatchDepth = max(maxDispatchDepth ?? dispatchDepth, dispatchDepth)
    }

    /// The most runs that may ever be handed to the executor pool at once.
    public var maximumExecutionSlots: Int { max(nthreads, 1) * max(maxDispatchDepth, dispatchDepth, 1) }
}
