import Collections
import ZFlowCore

/// The scheduler's pure state machine: every task, every worker, every client, and the decisions.
///
/// No sockets, threads or clocks: the shell calls `handle(_:)` with each event and MUST carry out the returned
/// actions in order. Tests drive it directly with virtual time.
public struct SchedulerState: Sendable {
    /// A task as the scheduler tracks it.
    ///
    /// A class, not a struct: handlers read and update a task many times per event, and a struct in a
    /// dictionary is copied out and back on every access (measured: a third of the core's time). Records are
    /// owned by one `SchedulerState` and never shared with another, so the state still behaves as a value for
    /// its one owner; `Sendable` holds because the state is only ever used from one thread at a time. For the
    /// same reason its fields skip Swift's dynamic exclusivity checks (`@exclusivity(unchecked)`), which took
    /// about 5 % of the scheduler's time; without them the core does 225k instead of 195k tasks/s.
    public final class SchedulerTask: @unchecked Sendable {
        /// The task's key.
        public var key: TaskKey { spec.key }
        /// What to run.
        @exclusivity(unchecked) public var spec: TaskSpec
        /// Where it is in its life.
        @exclusivity(unchecked) public var status: TaskStatus
        /// Keys of tasks whose results it needs (unique, in argument order).
        @exclusivity(unchecked) public var dependencies: [TaskKey]
        /// Tasks that need its result. Invariant: symmetric with `dependencies` for tasks still known.
        @exclusivity(unchecked) public var dependents: Set<TaskKey> = []
        /// Dependencies not yet in memory. Invariant: empty unless status is `waiting`.
        @exclusivity(unchecked) public var waitingOn: Set<TaskKey> = []
        /// Workers holding its result. Invariant: non-empty exactly when status is `memory`.
        @exclusivity(unchecked) public var holders: [WorkerID] = []
        /// The worker running it. Invariant: set exactly when status is `processing`.
        @exclusivity(unchecked) public var processingOn: WorkerID?
        /// The current assignment.
        @exclusivity(unchecked) public var runID: RunID?
        /// Size of its encoded result, once known.
        @exclusivity(unchecked) public var nbytes: UInt64 = 0
        /// Why it failed. Invariant: set exactly when status is `erred`.
        public var error: RemoteError? {
            get { failure?.error }
            set { failure = newValue.map(Failure.init) }
        }
        /// The error, out of line: few tasks fail, and an inline `RemoteError` would add ~100 bytes to every
        /// task record.
        @exclusivity(unchecked) private var failure: Failure?
        /// Clients holding a future for it.
        @exclusivity(unchecked) public var wantedBy: SortedSmallSet<ClientID> = []
        /// Arrival order on this scheduler, for ties after `priority`.
        @exclusivity(unchecked) public var order: UInt64
        /// Its place in line.
        @exclusivity(unchecked) public var priority: TaskPriority
        /// The seconds it was expected to take when assigned (its share of the worker's `occupancy`).
        @exclusivity(unchecked) public var expectedDuration: Double = 0
        /// Workers (with their connection, and that connection's revival count then) that expired while it was
        /// processing on them, oldest first (see `SchedulerConfig.allowedFailures`).
        @exclusivity(unchecked) public var suspects: [(worker: WorkerID, routing: RoutingID, revivals: Int)] = []

        init(spec: TaskSpec, status: TaskStatus, dependencies: [TaskKey], order: UInt64, priority: TaskPriority) {
            self.spec = spec
            self.status = status
            self.dependencies = dependencies
            self.order = order
            self.priority = priority
        }

        /// True when `self` runs before `other`: priority, then arrival.
        func runsBefore(_ other: SchedulerTask) -> Bool {
            priority != other.priority ? priority < other.priority : order < other.order
        }
    }

    /// A task's error, held by reference.
    final class Failure: Sendable {
        let error: RemoteError
        init(_ error: RemoteError) { self.error = error }
    }

    /// A connected worker.
    ///
    /// A class for the same reason as `SchedulerTask` (and unchecked for exclusivity likewise): its sets are
    /// updated on every task event.
    public final class WorkerRecord: @unchecked Sendable {
        /// Its name.
        public let id: WorkerID
        /// The routing id of its DEALER.
        public let routing: RoutingID
        /// Its peer socket address.
        @exclusivity(unchecked) public var address: PeerAddress
        /// Executor threads.
        @exclusivity(unchecked) public var nthreads: Int
        /// Functions it can run.
        @exclusivity(unchecked) public var functions: Set<String>
        /// Heartbeat interval it promised.
        @exclusivity(unchecked) public var heartbeatInterval: Interval
        /// Abstract resources it declared.
        @exclusivity(unchecked) public var resources: Resources = [:]
        /// Tasks assigned and not finished. Invariant: exactly the tasks with `processingOn == id`.
        @exclusivity(unchecked) public var processing: Set<TaskKey> = []
        /// Expected seconds of work assigned to it: the sum of `expectedDuration` over `processing`.
        @exclusivity(unchecked) public var occupancy: Double = 0
        /// Results it holds. Invariant: exactly the tasks in memory that list it in `holders`.
        @exclusivity(unchecked) public var held: Set<TaskKey> = []
        /// Sum of `nbytes` of `held`.
        @exclusivity(unchecked) public var bytesHeld: UInt64 = 0
        /// When the scheduler last heard from it.
        @exclusivity(unchecked) public var lastSeen: Instant
        /// Tasks finished on it.
        @exclusivity(unchecked) public var tasksCompleted: UInt64 = 0
        /// What it last reported about itself.
        @exclusivity(unchecked) public var metrics = WorkerMetrics()
        /// Its data directory, if it has one.
        @exclusivity(unchecked) public var dataDirectory: String?
        /// The key it registered with; every later message of its connection comes from the same.
        public let principal: Principal

        init(
            id: WorkerID, routing: RoutingID, principal: Principal, address: PeerAddress, nthreads: Int,
            functions: Set<String>, heartbeatInterval: Interval, lastSeen: Instant
        ) {
            self.id = id
            self.routing = routing
            self.principal = principal
            self.address = address
            self.nthreads = nthreads
            self.functions = functions
            self.heartbeatInterval = heartbeatInterval
            self.lastSeen = lastSeen
        }
    }

    /// A connected client.
    public struct ClientRecord: Sendable, Equatable {
        /// `submit` operations received from it: the `generation` of its next tasks' priority.
        public var submissions: UInt64 = 0
        /// When the scheduler last heard from it.
        public var lastSeen: Instant
        /// The key it registered with; every later message of its connection comes from the same.
        public var principal: Principal
    }

    /// One entry of the transition log.
    public struct Transition: Sendable, Equatable, CustomStringConvertible {
        /// The task.
        public var key: TaskKey
        /// State before (nil: new).
        public var from: TaskStatus?
        /// State after (nil: forgotten).
        public var to: TaskStatus?
        /// The event that caused it.
        public var stimulus: Stimulus
        /// `key: from → to (stimulus)`.
        public var description: String {
            "\(key): \(from?.rawValue ?? "new") → \(to?.rawValue ?? "forgotten") (\(stimulus))"
        }
    }

    /// Names the event that caused a transition: its kind (the operation's wire name, or `tick`) and its
    /// sequence number. Built without formatting, since every event on the hot path makes one.
    public struct Stimulus: Sendable, Equatable, CustomStringConvertible {
        /// The operation's wire name, or `tick`.
        public var kind: String
        /// The event's sequence number in this scheduler.
        public var number: UInt64
        /// `kind-number`.
        public var description: String { "\(kind)-\(number)" }
    }

    /// Behaviour knobs.
    public let config: SchedulerConfig
    /// Every known task by key.
    public internal(set) var tasks: [TaskKey: SchedulerTask] = [:]
    /// Registered workers by name.
    public internal(set) var workers: [WorkerID: WorkerRecord] = [:]
    /// Registered workers by routing id. Invariant: the inverse of `workers[_].routing`.
    public internal(set) var workerByRouting: [RoutingID: WorkerID] = [:]
    /// Registered clients.
    public internal(set) var clients: [ClientID: ClientRecord] = [:]
    /// Ready tasks parked until a worker that may run them registers (then assigned by priority, then
    /// arrival). Invariant: exactly the tasks in status `noWorker`.
    public internal(set) var noWorker: Set<TaskKey> = []
    /// Queued root tasks in the order they will be handed out (`TaskStatus.queued`). Entries of tasks that left
    /// the queue are skipped when reached. Invariant: holds an entry for every task in status `queued`.
    public internal(set) var queue = Heap<QueueEntry>()
    /// Tasks in status `queued`.
    public internal(set) var queuedCount = 0
    /// Steal requests awaiting the victim's `steal-response`, by task.
    public internal(set) var steals: [TaskKey: PendingSteal] = [:]
    /// Workers being retired: they get no new tasks and leave once their own results have copies elsewhere.
    public internal(set) var retiring: Set<WorkerID> = []
    /// How often each expired connection registered again: an expiry followed by a revival was no death (a
    /// pause, an overloaded machine), so it does not count against the tasks that were running there.
    public internal(set) var revivals: [RoutingID: Int] = [:]
    /// Connections of workers that expired, to tell a revival (same connection registering again) from a restart.
    var expiredRoutings: Set<RoutingID> = []
    /// Results each departed worker held when it left, by name, with the task each belonged to (its `order`: a key
    /// submitted anew is another task), so that a worker coming back may claim them again (`register.held`) while
    /// they still stand for that task, and nothing else. Bounded: cleared once it names more than
    /// `config.maxWorkers`.
    var formerHoldings: [WorkerID: (principal: Principal, tasks: [TaskKey: UInt64])] = [:]
    /// Functions some worker declared as admin functions (they act on its machine), besides
    /// `config.adminFunctions`: only admins may submit them. Bounded: names beyond `config.maxWorkers` are not
    /// added (such a function then runs for admins only if configured).
    public internal(set) var declaredAdminFunctions: Set<String> = []
    /// Copies asked for by retirement and not yet reported by `add-keys`: key → the worker asked to fetch it.
    public internal(set) var replicating: [TaskKey: WorkerID] = [:]
    /// Running totals.
    public internal(set) var counters = SchedulerCounters()
    /// Measured average duration per function.
    public internal(set) var averageDuration: [String: Interval] = [:]
    /// The latest transitions, oldest first, at most `config.transitionLogCapacity`.
    public internal(set) var transitionLog: Deque<Transition> = []

    var nextOrder: UInt64 = 0
    var nextRun: UInt64 = 0
    var stimulus = Stimulus(kind: "", number: 0)
    var stimulusCounter: UInt64 = 0
    var now = Instant.zero
    var actions: [SchedulerAction] = []
    /// Workers that lost a task during the current event: the queue is offered to them when it ends.
    var workersWithRoom: [WorkerID] = []

    /// Creates an empty scheduler.
    public init(config: SchedulerConfig = SchedulerConfig()) {
        self.config = config
    }

    /// Applies one event and returns what the shell must do, in order.
    ///
    /// The shell MUST call this for every decoded operation, every refused message and at least every
    /// `config.tickInterval` with `.tick`, and MUST carry out every returned action.
    public mutating func handle(_ event: SchedulerEvent) -> [SchedulerAction] {
        actions.removeAll(keepingCapacity: true)
        stimulusCounter += 1
        switch event {
        case .fromWorker(let routing, let message, let principal, let now):
            self.now = now
            stimulus = Stimulus(kind: message.op, number: stimulusCounter)
            onWorkerMessage(routing, message, from: principal)
        case .fromClient(let client, let message, let principal, let now):
            self.now = now
            stimulus = Stimulus(kind: message.op, number: stimulusCounter)
            onClientMessage(client, message, from: principal)
        case .rejectedFromWorker(let routing, let violation, let now):
            self.now = now
            counters.messagesRejected += 1
            actions.append(.toWorker(routing, .error(violation)))
        case .rejectedFromClient(let client, let violation, let now):
            self.now = now
            counters.messagesRejected += 1
            actions.append(.toClient(client, .error(violation)))
        case .unreachable(let routing, let now):
            self.now = now
            stimulus = Stimulus(kind: "unreachable", number: stimulusCounter)
            onUnreachable(routing)
        case .tick(let now):
            self.now = now
            stimulus = Stimulus(kind: "tick", number: stimulusCounter)
            onTick()
        }
        if !retiring.isEmpty { advanceRetirement() }
        if !workersWithRoom.isEmpty {
            let offered = workersWithRoom
            workersWithRoom.removeAll(keepingCapacity: true)
            if queuedCount > 0 { for worker in Set(offered).sorted() { fillFromQueue(worker) } }
        }
        return coalescingFreeKeys(actions)
    }

    /// Joins each run of `free-keys` to one worker into one operation: releasing 20,000 keys is then one
    /// `free-keys` per worker, not 20,000. A run ends at any other operation to the same worker, so nothing
    /// is reordered with respect to what else that worker is told.
    public func coalescingFreeKeys(_ actions: [SchedulerAction]) -> [SchedulerAction] {
        var freeing = 0
        for case .toWorker(_, .freeKeys) in actions {
            freeing += 1
            if freeing > 1 { break }
        }
        guard freeing > 1 else { return actions }
        var merged: [SchedulerAction] = []
        merged.reserveCapacity(actions.count)
        var openRun: [RoutingID: Int] = [:]
        var joined: [Int: [TaskKey]] = [:]
        for action in actions {
            guard case .toWorker(let routing, let message) = action else {
                merged.append(action)
                continue
            }
            guard case .freeKeys(let keys) = message else {
                openRun[routing] = nil
                merged.append(action)
                continue
            }
            if let index = openRun[routing] {
                joined[index, default: []].append(contentsOf: keys)
            } else {
                openRun[routing] = merged.count
                merged.append(action)
            }
        }
        for (index, keys) in joined {
            guard case .toWorker(let routing, .freeKeys(let first)) = merged[index] else { continue }
            merged[index] = .toWorker(routing, .freeKeys(first + keys))
        }
        return merged
    }

    /// The transitions of `key` still in the log, oldest first.
    public func story(_ key: TaskKey) -> [Transition] { transitionLog.filter { $0.key == key } }

    mutating func record(_ key: TaskKey, from: TaskStatus?, to: TaskStatus?) {
        if transitionLog.count >= config.transitionLogCapacity { transitionLog.removeFirst() }
        transitionLog.append(Transition(key: key, from: from, to: to, stimulus: stimulus))
    }

    mutating func setStatus(_ key: TaskKey, _ status: TaskStatus) { setStatus(tasks[key]!, status) }

    mutating func setStatus(_ task: SchedulerTask, _ status: TaskStatus) {
        let old = task.status
        task.status = status
        if old == .queued { queuedCount -= 1 }
        if status == .queued { queuedCount += 1 }
        record(task.key, from: old, to: status)
    }
}
