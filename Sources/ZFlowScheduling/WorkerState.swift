import Collections
import ZFlowCore

/// A worker's pure state machine: which tasks wait, fetch, run, and which results are held.
///
/// The shell calls `handle(_:)` for every event and MUST carry out the returned actions in order. The bytes of
/// results live in the shell's store; this machine decides what is stored, fetched, run and discarded.
public struct WorkerState: Sendable {
    /// A task or dependency as the worker tracks it.
    ///
    /// A class owned by the state, not a struct: reading one field of a struct in a dictionary copies the whole
    /// record (its sets and arrays retained and released), several times per event. Its fields skip Swift's
    /// dynamic exclusivity checks: only the state machine touches them, from one thread, and the checks cost
    /// more than the work (as for `SchedulerState.SchedulerTask`).
    public final class WorkerTask: @unchecked Sendable {
        /// The key.
        public let key: TaskKey
        /// Where it is.
        @exclusivity(unchecked) public var status: WorkerTaskStatus
        /// The assignment, for tasks this worker runs; nil for dependencies fetched from peers.
        @exclusivity(unchecked) public var assignment: TaskAssignment?
        /// Inputs not yet here. Invariant: empty unless status is `waiting`.
        @exclusivity(unchecked) public var waitingOn: Set<TaskKey> = []
        /// Local tasks waiting for this key.
        @exclusivity(unchecked) public var dependents: Set<TaskKey> = []
        /// Peers that hold it (dependencies only).
        @exclusivity(unchecked) public var holders: [PeerAddress] = []
        /// Peers already tried without success.
        @exclusivity(unchecked) public var tried: Set<PeerAddress> = []
        /// The run being executed. Invariant: set exactly when status is `executing`; it may be older than
        /// `assignment.runID` when the scheduler re-sent the task meanwhile, and then reports under the newer.
        @exclusivity(unchecked) public var executingRun: RunID?
        /// Size of the stored result.
        @exclusivity(unchecked) public var nbytes: UInt64 = 0
        /// Arrival order, for priority ties.
        @exclusivity(unchecked) public var order: UInt64
        /// Kept until the scheduler frees it, whatever local tasks use it: a copy it asked for
        /// (`acquire-replicas`, reported when it arrives) or a result reported in `held` after re-registering.
        @exclusivity(unchecked) public var keptUntilFreed = false

        init(
            key: TaskKey, status: WorkerTaskStatus, assignment: TaskAssignment? = nil, holders: [PeerAddress] = [],
            nbytes: UInt64 = 0, order: UInt64, keptUntilFreed: Bool = false
        ) {
            self.key = key
            self.status = status
            self.assignment = assignment
            self.holders = holders
            self.nbytes = nbytes
            self.order = order
            self.keptUntilFreed = keptUntilFreed
        }
    }

    /// Behaviour knobs.
    public let config: WorkerConfig
    /// Every task and dependency by key.
    public internal(set) var tasks: [TaskKey: WorkerTask] = [:]
    /// A ready task's place in the run queue: the scheduler's priority first, then earlier arrival.
    public struct ReadyEntry: Comparable, Sendable {
        /// The task's place in line, as the scheduler sent it.
        public let priority: TaskPriority
        /// The task's arrival order.
        public let order: UInt64
        /// The task.
        public let key: TaskKey
        /// Runs-earlier is "larger", for a max-heap.
        public static func < (lhs: ReadyEntry, rhs: ReadyEntry) -> Bool {
            lhs.priority != rhs.priority ? rhs.priority < lhs.priority : lhs.order > rhs.order
        }
    }

    /// The run queue. Invariant: holds an entry for every task in status `ready`; entries of tasks that left
    /// `ready` (freed) are skipped when popped.
    public internal(set) var ready = Heap<ReadyEntry>()
    /// The ready tasks in the order they will run.
    public var readyQueue: [TaskKey] {
        var listed = Set<TaskKey>()
        return ready.unordered.sorted(by: >)
            .filter { tasks[$0.key]?.status == .ready && tasks[$0.key]?.order == $0.order && listed.insert($0.key).inserted }
            .map(\.key)
    }

    /// Dependencies to fetch, oldest first. Invariant: exactly the tasks in status `fetch`.
    public internal(set) var toFetch: OrderedSet<TaskKey> = []
    /// Keys handed to the executor pool (running, or queued there). Invariant: exactly the tasks in status
    /// `executing`; with `abandoned`, at most `config.maximumExecutionSlots`.
    public internal(set) var executing: Set<TaskKey> = []
    /// Runs handed to the pool whose task was freed: their slots stay taken until they end or are withdrawn.
    /// Invariant: `executing.count + abandoned.count` never exceeds `config.maximumExecutionSlots`.
    public internal(set) var abandoned: Set<RunID> = []
    /// Fetch requests in flight by peer, with their deadline.
    public internal(set) var inFlight: [PeerAddress: (keys: [TaskKey], deadline: Instant, sent: Instant)] = [:]

    /// Moving average of measured run times, for the adaptive dispatch depth.
    public internal(set) var averageRunTime: Interval?
    /// Moving average of peer-to-peer bandwidth in bytes/s, over fetches of at least 1 MiB (nil until one).
    public internal(set) var measuredBandwidth: Double?
    /// True while memory is full: no new task starts (running ones finish, fetches and serving go on).
    public internal(set) var isPaused = false
    /// Resources not held by a running task. Starts as `config.resources`.
    public internal(set) var availableResources: Resources
    /// Resources held by each run in the pool (only runs of tasks that need some).
    public internal(set) var heldResources: [RunID: Resources] = [:]

    /// How many runs may be in the pool now: `dispatchDepth` per thread until runs are measured, then enough
    /// to queue about `dispatchQueueTime` of work per thread, within `maxDispatchDepth`.
    public var executionSlots: Int {
        let threads = max(config.nthreads, 1)
        guard config.maxDispatchDepth > config.dispatchDepth, let average = averageRunTime else {
            return threads * max(config.dispatchDepth, 1)
        }
        let depth = config.dispatchQueueTime.nanoseconds / max(average.nanoseconds, 1)
        return threads * Int(min(max(depth, 1), UInt64(config.maxDispatchDepth)))
    }

    var nextOrder: UInt64 = 0
    var now = Instant.zero
    /// Set when a key joined `toFetch` or a request ended: only then can a new fetch start, so only then is
    /// `toFetch` scanned (scanning it after every event would cost O(n) per event).
    var fetchesMayStart = false
    var actions: [WorkerAction] = []

    /// Creates an idle worker.
    public init(config: WorkerConfig) {
        self.config = config
        availableResources = config.resources
    }

    /// Applies one event and returns what the shell must do, in order.
    ///
    /// The shell MUST call this for every decoded scheduler operation, executor outcome, peer reply and
    /// periodically with `.tick`, and MUST carry out every returned action.
    public mutating func handle(_ event: WorkerEvent) -> [WorkerAction] {
        actions.removeAll(keepingCapacity: true)
        switch event {
        case .computeTask(let assignment, let now):
            self.now = now
            onComputeTask(assignment)
        case .freeKeys(let keys, let now):
            self.now = now
            for key in keys { onFreeKey(key) }
        case .executed(let key, let run, let outcome, let now):
            self.now = now
            onExecuted(key, run, outcome)
        case .inputsLost(let key, let run, let lost, let now):
            self.now = now
            onInputsLost(key, run, lost)
        case .fetched(let peer, let found, let missing, let now):
            self.now = now
            onFetched(peer, found: found, missing: missing)
        case .dataStored(let items, let now):
            self.now = now
            for item in items { onDataStored(item) }
        case .stealRequest(let key, let run, let now):
            self.now = now
            onStealRequest(key, run)
        case .paused(let paused, let now):
            self.now = now
            isPaused = paused
        case .forgotten(let now):
            self.now = now
            onForgotten()
        case .acquireReplicas(let locations, let now):
            self.now = now
            onAcquireReplicas(locations)
        case .tick(let now):
            self.now = now
            let late = inFlight.filter { $0.value.deadline <= now }.keys.sorted()
            for peer in late { onFetched(peer, found: [], missing: inFlight[peer]!.keys) }
        }
        if fetchesMayStart {
            fetchesMayStart = false
            startFetches()
        }
        startExecutions()
        return actions
    }

    /// Tasks waiting here for a thread or for their inputs.
    public var queuedCount: Int { tasks.values.reduce(0) { $0 + ($1.status == .ready || $1.status == .waiting ? 1 : 0) } }

    /// Results held here with their sizes, for re-registration.
    public var held: [KeySize] {
        tasks.values.filter { $0.status == .memory }.map { KeySize(key: $0.key, nbytes: $0.nbytes) }
            .sorted { $0.key < $1.key }
    }

    // MARK: - Handlers

    /// Whether `task` holds a value a peer stored (`put-data`) that the scheduler does not count as this
    /// worker's: it names the holders of a key it knows, and this worker is not among `holders`.
    func isUnconfirmedPut(_ task: WorkerTask, named holders: [PeerAddress]) -> Bool {
        task.status == .memory && task.assignment?.function == "scatter" && task.assignment?.runID == RunID(0)
            && !holders.contains(config.address)
    }

    mutating func onComputeTask(_ assignment: TaskAssignment) {
        let key = assignment.key
        let task: WorkerTask
        if let existing = tasks[key] {
            task = existing
            switch existing.status {
            case .memory where isUnconfirmedPut(existing, named: []) && assignment.function != "scatter":
                // A value a peer stored (`put-data`) under the key of a task assigned here is no result of that
                // task: it is dropped and the task runs, so no client can plant another's result.
                actions.append(.discard([key]))
                existing.status = .waiting
                task.assignment = assignment
            case .memory:
                actions.append(
                    .send(.taskFinished(key: key, runID: assignment.runID, nbytes: existing.nbytes, duration: Interval(nanoseconds: 0))))
                task.assignment = assignment
                return
            case .executing, .waiting, .ready:
                task.assignment = assignment
                return
            case .fetch, .flight, .missing, .error:
                task.assignment = assignment
                if existing.status == .fetch { toFetch.remove(key) }
            }
        } else {
            task = WorkerTask(key: key, status: .waiting, assignment: assignment, order: nextOrder)
            tasks[key] = task
            nextOrder += 1
        }
        task.status = .waiting
        var waiting = Set<TaskKey>()
        for location in assignment.dependencies {
            let dependency = location.key
            let input: WorkerTask
            if let known = tasks[dependency] {
                input = known
                if isUnconfirmedPut(input, named: location.holders) {
                    // A value a peer stored here that the scheduler does not count as this worker's copy is not
                    // the input it names: dropped, and the input is fetched from the holders named.
                    actions.append(.discard([dependency]))
                    input.assignment = nil
                    input.nbytes = location.nbytes
                    input.status = .missing
                }
                if input.status == .missing || input.status == .fetch {
                    input.holders = location.holders
                    input.tried = []
                    setFetchStatus(dependency, .fetch)
                }
            } else {
                input = WorkerTask(
                    key: dependency, status: .fetch, holders: location.holders, nbytes: location.nbytes,
                    order: nextOrder)
                tasks[dependency] = input
                toFetch.append(dependency)
                fetchesMayStart = true
                nextOrder += 1
            }
            input.dependents.insert(key)
            if input.status != .memory { waiting.insert(dependency) }
        }
        task.waitingOn = waiting
        if waiting.isEmpty { makeReady(task) }
    }

    mutating func makeReady(_ key: TaskKey) { makeReady(tasks[key]!) }

    mutating func makeReady(_ task: WorkerTask) {
        task.status = .ready
        ready.insert(ReadyEntry(priority: task.assignment?.priority ?? TaskPriority(), order: task.order, key: task.key))
    }

    /// Sets a dependency's status, keeping `toFetch` in step.
    mutating func setFetchStatus(_ key: TaskKey, _ status: WorkerTaskStatus) {
        if tasks[key]!.status == .fetch { toFetch.remove(key) }
        tasks[key]!.status = status
        if status == .fetch {
            toFetch.append(key)
            fetchesMayStart = true
        }
    }

    mutating func onExecuted(_ key: TaskKey, _ run: RunID, _ outcome: TaskOutcome) {
        if let used = heldResources.removeValue(forKey: run) { availableResources.add(used) }
        guard let task = tasks[key], task.status == .executing, task.executingRun == run,
            let reportAs = task.assignment?.runID
        else {
            abandoned.remove(run)
            actions.append(.dropResult(key, run))
            return
        }
        executing.remove(key)
        task.executingRun = nil
        switch outcome {
        case .success(let nbytes, let duration):
            averageRunTime = Interval(
                nanoseconds: averageRunTime.map { $0.nanoseconds / 8 * 7 + duration.nanoseconds / 8 } ?? duration.nanoseconds)
            task.status = .memory
            task.nbytes = nbytes
            actions.append(.storeResult(key, run))
            if let notify = task.assignment?.notify, !notify.isEmpty, nbytes <= config.pushLimit {
                actions.append(.push(key, to: notify))
            }
            actions.append(.send(.taskFinished(key: key, runID: reportAs, nbytes: nbytes, duration: duration)))
            for dependent in task.dependents.sorted() { inputArrived(key, for: dependent) }
        case .failure(let error):
            task.status = .error
            actions.append(.send(.taskErred(key: key, runID: reportAs, error: error)))
        }
        for dependency in task.assignment?.dependencies ?? [] { dropIfUnused(dependency.key, after: key) }
    }

    /// A run that could not start because inputs held here are gone: its slot is freed and it waits for them
    /// again; each lost result is reported with `missing-data` naming this worker as the holder, so the
    /// scheduler recomputes it (or points to another copy) and takes the task back.
    mutating func onInputsLost(_ key: TaskKey, _ run: RunID, _ lost: [TaskKey]) {
        if let used = heldResources.removeValue(forKey: run) { availableResources.add(used) }
        guard let task = tasks[key], task.status == .executing, task.executingRun == run else {
            abandoned.remove(run)
            return
        }
        let waiting = Set(lost.filter { tasks[$0]?.dependents.contains(key) ?? false })
        guard !waiting.isEmpty else {
            // Not inputs this machine knows of: nothing to wait for, so the run fails rather than loop.
            let message = "inputs \(lost.sorted()) of this run are not held here"
            onExecuted(key, run, .failure(RemoteError(typeName: "MissingInput", message: message, key: key)))
            return
        }
        executing.remove(key)
        task.executingRun = nil
        task.status = .waiting
        task.waitingOn = waiting
        for inputKey in waiting.sorted() {
            let input = tasks[inputKey]!
            guard input.status == .memory else { continue }
            input.status = .missing
            input.assignment = nil
            input.keptUntilFreed = false
            input.holders = []
            input.tried = []
            actions.append(.send(.missingData(key: inputKey, holder: config.address)))
            // Every other local task that needs it waits for it too (the scheduler takes those back as well):
            // none starts only to find the same input gone.
            for dependent in input.dependents where dependent != key {
                guard let other = tasks[dependent], other.status == .ready || other.status == .waiting else { continue }
                other.status = .waiting
                other.waitingOn.insert(inputKey)
            }
        }
    }

    mutating func inputArrived(_ key: TaskKey, for dependent: TaskKey) {
        guard tasks[dependent]?.status == .waiting else { return }
        tasks[dependent]!.waitingOn.remove(key)
        if tasks[dependent]!.waitingOn.isEmpty { makeReady(dependent) }
    }

    /// Forgets a fetched copy once no local task needs it (the scheduler does not track copies).
    mutating func dropIfUnused(_ key: TaskKey, after dependent: TaskKey) {
        guard tasks[key] != nil else { return }
        tasks[key]!.dependents.remove(dependent)
        guard let task = tasks[key], task.assignment == nil, task.dependents.isEmpty, !task.keptUntilFreed else { return }
        tasks.removeValue(forKey: key)
        if task.status == .fetch { toFetch.remove(key) }
        if task.status == .memory { actions.append(.discard([key])) }
    }

    mutating func onFetched(_ peer: PeerAddress, found: [KeySize], missing: [TaskKey]) {
        if let request = inFlight[peer] {
            var bytes: UInt64 = 0
            for item in found { bytes.addSaturating(item.nbytes) }
            measureBandwidth(bytes: bytes, seconds: (now - request.sent).seconds)
        }
        // Replies carry no request id: a late reply to a request that timed out may arrive while a newer request
        // to the same peer is in flight. Only the keys a reply answers leave the in-flight request; the others
        // keep its deadline.
        if var request = inFlight[peer] {
            let answered = Set(found.map(\.key)).union(missing)
            request.keys.removeAll { answered.contains($0) }
            if request.keys.isEmpty { inFlight.removeValue(forKey: peer) } else { inFlight[peer] = request }
        }
        fetchesMayStart = true
        for item in found {
            guard let task = tasks[item.key], task.status == .flight else {
                if tasks[item.key]?.status != .memory { actions.append(.discard([item.key])) }
                continue
            }
            tasks[item.key]!.status = .memory
            tasks[item.key]!.nbytes = item.nbytes
            if task.keptUntilFreed { actions.append(.send(.addKeys([item]))) }
            for dependent in task.dependents.sorted() { inputArrived(item.key, for: dependent) }
        }
        for key in missing {
            guard tasks[key]?.status == .flight else { continue }
            tasks[key]!.tried.insert(peer)
            actions.append(.send(.missingData(key: key, holder: peer)))
            let untried = tasks[key]!.holders.filter { !tasks[key]!.tried.contains($0) }
            setFetchStatus(key, untried.isEmpty ? .missing : .fetch)
        }
    }

    /// Drops every task and fetch the scheduler no longer counts on after forgetting this worker: it
    /// reassigned them when the worker expired, so keeping them would run work twice or wait on inputs that
    /// no longer come. Results in memory stay (`register` reports them in `held`).
    mutating func onForgotten() {
        for key in tasks.keys.sorted() where tasks[key].map({ $0.status != .memory }) ?? false {
            onFreeKey(key)
        }
        for key in tasks.keys.sorted() {
            tasks[key]?.assignment = nil
            tasks[key]?.dependents = []
            // `register` reports it in `held`: the scheduler counts on it until it frees it.
            tasks[key]?.keptUntilFreed = true
        }
    }

    /// Fetches copies of results the scheduler wants here (a worker retiring elsewhere holds them), keeps them,
    /// and reports each with `add-keys` as it arrives; one already here is reported at once.
    mutating func onAcquireReplicas(_ locations: [DependencyLocation]) {
        var present: [KeySize] = []
        for location in locations {
            let key = location.key
            if let task = tasks[key] {
                tasks[key]!.keptUntilFreed = true
                if isUnconfirmedPut(task, named: location.holders) {
                    actions.append(.discard([key]))
                    task.assignment = nil
                    task.status = .missing
                }
                if task.status == .memory {
                    present.append(KeySize(key: key, nbytes: task.nbytes))
                } else if task.status == .missing || task.status == .fetch {
                    tasks[key]!.holders = location.holders
                    tasks[key]!.tried = []
                    setFetchStatus(key, .fetch)
                }
                continue
            }
            tasks[key] = WorkerTask(
                key: key, status: .fetch, holders: location.holders, nbytes: location.nbytes, order: nextOrder,
                keptUntilFreed: true)
            nextOrder += 1
            toFetch.append(key)
            fetchesMayStart = true
        }
        if !present.isEmpty { actions.append(.send(.addKeys(present))) }
    }

    /// Folds one fetch into `measuredBandwidth`; small fetches measure latency, not bandwidth, and are skipped.
    mutating func measureBandwidth(bytes: UInt64, seconds: Double) {
        guard bytes >= 1 << 20, seconds > 0 else { return }
        let sample = Double(bytes) / seconds
        measuredBandwidth = measuredBandwidth.map { $0 * 0.75 + sample * 0.25 } ?? sample
    }

    /// Gives a task up to another worker if it has not started (the scheduler's work stealing).
    ///
    /// Only a task still waiting for its inputs or for a thread is given up; one that runs, has finished or
    /// is unknown (or assigned again under a newer run) stays, and the answer says so.
    mutating func onStealRequest(_ key: TaskKey, _ run: RunID) {
        guard let task = tasks[key], task.assignment?.runID == run, task.status == .waiting || task.status == .ready,
            task.dependents.isEmpty
        else {
            actions.append(.send(.stealResponse(key: key, runID: run, stolen: false)))
            return
        }
        tasks.removeValue(forKey: key)
        for dependency in task.assignment?.dependencies ?? [] { dropIfUnused(dependency.key, after: key) }
        actions.append(.send(.stealResponse(key: key, runID: run, stolen: true)))
    }

    /// A peer stored a value (`put-data`). Only a key unknown here is taken (`refusalOfPut` refuses the others
    /// first): a stored value never replaces a result, a run or a fetch.
    mutating func onDataStored(_ item: KeySize) {
        guard tasks[item.key] == nil else { return }
        let task = WorkerTask(key: item.key, status: .memory, order: nextOrder)
        nextOrder += 1
        task.nbytes = item.nbytes
        task.assignment = TaskAssignment(key: item.key, runID: RunID(0), function: "scatter", arguments: Payload([]))
        tasks[item.key] = task
    }

    mutating func onFreeKey(_ key: TaskKey) {
        guard let task = tasks[key] else { return }
        // Local tasks still wait for it: kept as a dependency (a lost one is fetched when they are assigned again,
        // one being fetched goes on). `free-keys` names keys, not runs: it may be about an older run of this key.
        if !task.dependents.isEmpty {
            switch task.status {
            case .memory, .missing, .fetch, .flight:
                task.assignment = nil
                return
            case .waiting, .ready, .executing, .error:
                // Its own run goes (the scheduler took it back), but local tasks still wait for its result: it
                // stays as an input with no holder known, fetched once the scheduler assigns them again.
                stopOwnRun(task)
                task.status = .missing
                return
            }
        }
        tasks.removeValue(forKey: key)
        switch task.status {
        case .memory: actions.append(.discard([key]))
        case .fetch: toFetch.remove(key)
        case .executing, .ready, .waiting, .flight, .error, .missing: break
        }
        stopOwnRun(task)
    }

    /// Ends what a task does as a task of its own: a run in the pool is abandoned, its inputs are let go, and
    /// it keeps no assignment (a `ready` entry left in the run queue is skipped when popped).
    mutating func stopOwnRun(_ task: WorkerTask) {
        if task.status == .executing {
            executing.remove(task.key)
            if let run = task.executingRun {
                abandoned.insert(run)
                actions.append(.abandon(task.key, run))
            }
            task.executingRun = nil
        }
        let inputs = task.assignment?.dependencies ?? []
        task.assignment = nil
        task.waitingOn = []
        for dependency in inputs { dropIfUnused(dependency.key, after: task.key) }
    }

    // MARK: - Starting work

    /// Whether `nbytes` more still fit in a request already carrying `carried` bytes (sizes come from the wire:
    /// their sum may not fit in 64 bits).
    func fitsInOneFetch(_ carried: UInt64, _ nbytes: UInt64) -> Bool {
        let (sum, overflow) = carried.addingReportingOverflow(nbytes)
        return !overflow && sum <= config.maxFetchBytes
    }

    mutating func startFetches() {
        guard !toFetch.isEmpty, inFlight.count < config.maxFetchesInFlight else { return }
        var batches: [PeerAddress: [TaskKey]] = [:]
        var batchBytes: [PeerAddress: UInt64] = [:]
        var peerOrder: [PeerAddress] = []
        for key in toFetch {
            let task = tasks[key]!
            // A request carries at most `maxFetchBytes` (one larger key goes alone); the rest waits for the next.
            let candidates = task.holders.filter {
                !task.tried.contains($0) && inFlight[$0] == nil
                    && (batchBytes[$0].map { fitsInOneFetch($0, task.nbytes) } ?? true)
            }
            guard !candidates.isEmpty else { continue }
            let peer = candidates.first { batches[$0] != nil } ?? candidates.min()!
            if batches[peer] == nil {
                guard inFlight.count + peerOrder.count < config.maxFetchesInFlight else { continue }
                peerOrder.append(peer)
            }
            batches[peer, default: []].append(key)
            batchBytes[peer, default: 0].addSaturating(task.nbytes)
        }
        for peer in peerOrder {
            let keys = batches[peer]!
            for key in keys { setFetchStatus(key, .flight) }
            // A dead or stuck peer is given up on soon for small keys, later for large ones.
            let bytes = keys.reduce(0.0) { $0 + Double(tasks[$1]!.nbytes) }
            let allowed = min(config.fetchTimeout, config.fetchResponseTime + .seconds(bytes / config.fetchMinimumBandwidth))
            inFlight[peer] = (keys, now + allowed, now)
            actions.append(.fetch(keys, from: peer))
        }
    }

    /// Hands ready tasks to the pool, best first, while slots are free; a task whose resources are held by
    /// running tasks waits (tasks behind it that need none, or other ones, may start).
    mutating func startExecutions() {
        guard !isPaused else { return }
        var waitingForResources: [ReadyEntry] = []
        while executing.count + abandoned.count < executionSlots, let entry = ready.popMax() {
            let key = entry.key
            guard let task = tasks[key], task.status == .ready, task.order == entry.order else { continue }
            let assignment = task.assignment!
            if !assignment.resources.isEmpty {
                guard availableResources.covers(assignment.resources) else {
                    waitingForResources.append(entry)
                    continue
                }
                availableResources.subtract(assignment.resources)
                heldResources[assignment.runID] = assignment.resources
            }
            task.status = .executing
            task.executingRun = assignment.runID
            executing.insert(key)
            actions.append(.execute(assignment))
        }
        for entry in waitingForResources { ready.insert(entry) }
    }
}
