import Foundation
import ZFlowCore
import ZFlowScheduling

// MARK: - Virtual time

extension Instant {
    /// The instant `milliseconds` after the clock's origin, for virtual time in tests.
    ///
    /// - Parameter milliseconds: Milliseconds since `Instant.zero`.
    /// - Returns: The instant.
    public static func ms(_ milliseconds: UInt64) -> Instant { Instant(nanoseconds: milliseconds * 1_000_000) }
}

// MARK: - Identifiers and addresses

extension RoutingID {
    /// A routing id for a test worker (real workers add a random suffix, docs/PROTOCOL.md §2).
    ///
    /// - Parameter name: The worker's name.
    /// - Returns: The routing id the scheduler sees for that worker.
    public static func worker(_ name: WorkerID) -> RoutingID { RoutingID("worker:\(name.rawValue)") }
}

extension PeerAddress {
    /// The made-up peer address `tcp://<name>:9000` that `WorkerRegistration.dummy` advertises for a worker.
    ///
    /// - Parameter name: The worker's name.
    /// - Returns: The address of that worker's peer ROUTER in tests.
    public static func dummy(_ name: WorkerID) -> PeerAddress { PeerAddress("tcp://\(name.rawValue):9000") }
}

extension Payload {
    /// An empty MessagePack array (`0x90`): the argument list the builders use unless told otherwise.
    public static let emptyArguments = Payload([0x90])
}

// MARK: - Messages

extension TaskSpec {
    /// A task spec with test defaults: function `inc`, no arguments, priority 0.
    ///
    /// - Parameters:
    ///   - key: The task's key.
    ///   - function: The function to run.
    ///   - deps: Keys of the tasks it depends on.
    ///   - priority: Larger runs earlier.
    /// - Returns: The spec.
    public static func dummy(
        _ key: TaskKey, function: String = "inc", deps: [TaskKey] = [], priority: Int = 0
    ) -> TaskSpec {
        TaskSpec(key: key, function: function, arguments: .emptyArguments, dependencies: deps, priority: priority)
    }
}

extension DependencyLocation {
    /// A dependency location with test defaults: 8 bytes.
    ///
    /// - Parameters:
    ///   - key: The dependency's key.
    ///   - nbytes: The size of its result.
    ///   - holders: Peer addresses of the workers that hold it.
    /// - Returns: The location.
    public static func dummy(_ key: TaskKey, nbytes: UInt64 = 8, holders: [PeerAddress]) -> DependencyLocation {
        DependencyLocation(key: key, nbytes: nbytes, holders: holders)
    }
}

extension TaskAssignment {
    /// A `compute-task` assignment with test defaults, matching what the scheduler sends for `TaskSpec.dummy`.
    ///
    /// - Parameters:
    ///   - key: The task's key.
    ///   - run: The run id's raw value.
    ///   - function: The function to run.
    ///   - deps: Where each dependency can be fetched.
    ///   - priority: Larger runs earlier.
    ///   - notify: Clients to push the result to (the scheduler names them for tasks submitted with `pushResult`).
    /// - Returns: The assignment.
    public static func dummy(
        _ key: TaskKey, run: UInt64 = 1, function: String = "inc", deps: [DependencyLocation] = [],
        priority: Int = 0, notify: [ClientID] = []
    ) -> TaskAssignment {
        TaskAssignment(
            key: key, runID: RunID(run), function: function, arguments: .emptyArguments, dependencies: deps,
            priority: TaskPriority(user: priority), notify: notify)
    }
}

extension WorkerRegistration {
    /// A `register` payload with test defaults: one thread, function `inc`, a 100 ms heartbeat.
    ///
    /// - Parameters:
    ///   - name: The worker's name.
    ///   - nthreads: Executor threads.
    ///   - functions: Functions it offers.
    ///   - address: Its peer address; `PeerAddress.dummy(name)` when nil.
    ///   - heartbeat: Its heartbeat interval.
    ///   - version: The protocol version it claims.
    ///   - held: Results it already holds.
    ///   - resources: Abstract resources it offers.
    /// - Returns: The registration.
    public static func dummy(
        name: WorkerID = "w1", nthreads: Int = 1, functions: [String] = ["inc"], address: PeerAddress? = nil,
        heartbeat: Interval = .milliseconds(100), version: Int = ProtocolVersion.current, held: [KeySize] = [],
        resources: Resources = [:]
    ) -> WorkerRegistration {
        WorkerRegistration(
            name: name, nthreads: nthreads, functions: functions, address: address ?? .dummy(name),
            heartbeatInterval: heartbeat, version: version, held: held, resources: resources)
    }
}

extension RemoteError {
    /// A task failure with test defaults: a `ValueError` saying `boom`.
    ///
    /// - Parameters:
    ///   - key: The task that failed.
    ///   - function: The function it named.
    ///   - worker: The worker that ran it.
    /// - Returns: The error.
    public static func dummy(key: TaskKey? = nil, function: String? = "inc", worker: WorkerID? = nil) -> RemoteError {
        RemoteError(typeName: "ValueError", message: "boom", key: key, function: function, worker: worker)
    }
}

// MARK: - Partial matchers

extension ProtocolViolation {
    /// A violation with `code` and no text, to compare against actions passed through `ignoringErrorText`.
    ///
    /// - Parameter code: The status code.
    /// - Returns: The violation with an empty message.
    public static func code(_ code: ErrorCode) -> ProtocolViolation { ProtocolViolation(code, "") }
}

extension SchedulerAction {
    /// The same action with the message of an `error` blanked, so tests compare recipient and code only.
    public var ignoringErrorText: SchedulerAction {
        switch self {
        case .toWorker(let routing, .error(let violation)): return .toWorker(routing, .error(.code(violation.code)))
        case .toClient(let client, .error(let violation)): return .toClient(client, .error(.code(violation.code)))
        default: return self
        }
    }
}

// MARK: - Scheduler harness

/// A `SchedulerState` driven with virtual time that checks every invariant after every step.
///
/// Each method feeds one event stamped with `now`, runs `SchedulerState.checkInvariants()` and returns the
/// actions, as dask's `ws` fixture validates state. Workers use the routing id `RoutingID.worker(name)`.
public struct SchedulerHarness {
    /// The state machine under test.
    public private(set) var state: SchedulerState
    /// The virtual time stamped on the next event; tests move it forward.
    public var now: Instant = .zero

    /// Creates a harness around an empty scheduler.
    ///
    /// - Parameter config: The scheduler's configuration.
    public init(config: SchedulerConfig = SchedulerConfig()) {
        state = SchedulerState(config: config)
    }

    /// Feeds one event, checks the invariants and returns the actions.
    ///
    /// - Parameter event: The event.
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func handle(_ event: SchedulerEvent) -> [SchedulerAction] {
        let actions = state.handle(event)
        state.checkInvariants()
        return actions
    }

    /// The principal each client's operations come from, once given (default `Principal.localAdmin`).
    public var clientPrincipals: [ClientID: Principal] = [:]
    /// The principal each worker's operations come from: the one it last registered as (default
    /// `Principal.localWorker`).
    public var workerPrincipals: [WorkerID: Principal] = [:]

    /// Feeds an operation from the worker with routing id `worker:<name>`.
    ///
    /// - Parameters:
    ///   - name: The worker's name.
    ///   - message: The operation.
    ///   - principal: Who sends it (default: the one it registered as, else a worker of a cluster without
    ///     security); a `register` sent as someone records them for the worker's later operations.
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func fromWorker(
        _ name: WorkerID, _ message: WorkerToScheduler, as principal: Principal? = nil
    ) -> [SchedulerAction] {
        if case .register = message, let principal { workerPrincipals[name] = principal }
        return handle(
            .fromWorker(.worker(name), message, principal: principal ?? workerPrincipals[name] ?? .localWorker, now: now))
    }

    /// Feeds an operation from a client.
    ///
    /// - Parameters:
    ///   - client: The client.
    ///   - message: The operation.
    ///   - principal: Who sends it (default: the one it registered as, else `Principal.localAdmin`).
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func fromClient(
        _ client: ClientID, _ message: ClientToScheduler, as principal: Principal? = nil
    ) -> [SchedulerAction] {
        handle(.fromClient(client, message, principal: principal ?? clientPrincipals[client] ?? .localAdmin, now: now))
    }

    /// Feeds a tick at `now`.
    ///
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func tick() -> [SchedulerAction] { handle(.tick(now: now)) }

    /// Registers a worker built by `WorkerRegistration.dummy`.
    ///
    /// - Parameters:
    ///   - name: The worker's name.
    ///   - nthreads: Executor threads.
    ///   - functions: Functions it offers.
    ///   - held: Results it already holds.
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func registerWorker(
        _ name: WorkerID, nthreads: Int = 1, functions: [String] = ["inc"], held: [KeySize] = []
    ) -> [SchedulerAction] {
        fromWorker(name, .register(.dummy(name: name, nthreads: nthreads, functions: functions, held: held)))
    }

    /// Registers a client speaking the current protocol version; its later operations come from `principal`.
    ///
    /// - Parameters:
    ///   - client: The client.
    ///   - principal: Who it is (default: a client of a cluster without security, which may do everything).
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func registerClient(_ client: ClientID = "c1", as principal: Principal = .localAdmin) -> [SchedulerAction] {
        clientPrincipals[client] = principal
        return fromClient(client, .register(version: ProtocolVersion.current))
    }

    /// Submits tasks from a client.
    ///
    /// - Parameters:
    ///   - specs: The tasks.
    ///   - client: The client.
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func submit(_ specs: [TaskSpec], from client: ClientID = "c1") -> [SchedulerAction] {
        fromClient(client, .submit(specs))
    }

    /// The worker `key` is processing on, or nil when it is not processing.
    ///
    /// - Parameter key: The task.
    /// - Returns: The worker's name.
    public func worker(of key: TaskKey) -> WorkerID? { state.tasks[key]?.processingOn }

    /// The current run of `key`, or nil when it is not assigned.
    ///
    /// - Parameter key: The task.
    /// - Returns: The run id.
    public func runID(of key: TaskKey) -> RunID? { state.tasks[key]?.runID }

    /// Reports `task-finished` for the current run of a processing task, from the worker running it.
    ///
    /// - Parameters:
    ///   - key: A task in status `processing`.
    ///   - nbytes: The size of its result.
    ///   - duration: How long it ran.
    /// - Returns: The actions, in order.
    /// - Warning: Traps when `key` is not processing.
    @discardableResult
    public mutating func finish(
        _ key: TaskKey, nbytes: UInt64 = 8, duration: Interval = .milliseconds(1)
    ) -> [SchedulerAction] {
        guard let worker = worker(of: key), let run = runID(of: key) else {
            preconditionFailure("finish(\(key)): the task is not processing")
        }
        return fromWorker(worker, .taskFinished(key: key, runID: run, nbytes: nbytes, duration: duration))
    }

    /// Reports `task-erred` for the current run of a processing task, from the worker running it.
    ///
    /// - Parameters:
    ///   - key: A task in status `processing`.
    ///   - error: The failure.
    /// - Returns: The actions, in order.
    /// - Warning: Traps when `key` is not processing.
    @discardableResult
    public mutating func fail(_ key: TaskKey, error: RemoteError) -> [SchedulerAction] {
        guard let worker = worker(of: key), let run = runID(of: key) else {
            preconditionFailure("fail(\(key)): the task is not processing")
        }
        return fromWorker(worker, .taskErred(key: key, runID: run, error: error))
    }
}

// MARK: - Worker harness

/// A `WorkerState` driven with virtual time that checks its invariants after every step.
///
/// Each method feeds one event stamped with `now`, traps with the list of broken invariants
/// (`WorkerState.invariantViolations()`) if any, and returns the actions.
public struct WorkerHarness {
    /// The state machine under test.
    public private(set) var state: WorkerState
    /// The virtual time stamped on the next event; tests move it forward.
    public var now: Instant = .zero

    /// Creates a harness around an idle worker.
    ///
    /// - Parameter config: The worker's configuration.
    public init(config: WorkerConfig = WorkerConfig()) {
        state = WorkerState(config: config)
    }

    /// Creates a harness around an idle worker with `nthreads` threads and default settings otherwise.
    ///
    /// - Parameter nthreads: Executor threads.
    public init(nthreads: Int) { self.init(config: WorkerConfig(nthreads: nthreads)) }

    /// Feeds one event, checks the invariants and returns the actions.
    ///
    /// - Parameter event: The event.
    /// - Returns: The actions, in order.
    /// - Warning: Traps when an invariant is broken.
    @discardableResult
    public mutating func handle(_ event: WorkerEvent) -> [WorkerAction] {
        let actions = state.handle(event)
        let problems = state.invariantViolations()
        precondition(
            problems.isEmpty, "WorkerState invariants broken after \(event):\n" + problems.joined(separator: "\n"))
        return actions
    }

    /// Feeds a `compute-task`.
    ///
    /// - Parameter assignment: The assignment.
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func computeTask(_ assignment: TaskAssignment) -> [WorkerAction] {
        handle(.computeTask(assignment, now: now))
    }

    /// Feeds a `free-keys`.
    ///
    /// - Parameter keys: The keys.
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func freeKeys(_ keys: [TaskKey]) -> [WorkerAction] { handle(.freeKeys(keys, now: now)) }

    /// Feeds the outcome of a run.
    ///
    /// - Parameters:
    ///   - key: The task.
    ///   - run: The run id's raw value.
    ///   - outcome: How it ended.
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func executed(_ key: TaskKey, run: UInt64 = 1, _ outcome: TaskOutcome) -> [WorkerAction] {
        handle(.executed(key, RunID(run), outcome, now: now))
    }

    /// Feeds a peer's answer to a fetch.
    ///
    /// - Parameters:
    ///   - peer: The peer asked.
    ///   - found: Keys it sent, with their sizes.
    ///   - missing: Keys it did not have.
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func fetched(
        from peer: PeerAddress, found: [KeySize] = [], missing: [TaskKey] = []
    ) -> [WorkerAction] {
        handle(.fetched(from: peer, found: found, missing: missing, now: now))
    }

    /// Feeds values a client stored here (`put-data`).
    ///
    /// - Parameter items: The keys and sizes stored.
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func dataStored(_ items: [KeySize]) -> [WorkerAction] { handle(.dataStored(items, now: now)) }

    /// Feeds a tick at `now`.
    ///
    /// - Returns: The actions, in order.
    @discardableResult
    public mutating func tick() -> [WorkerAction] { handle(.tick(now: now)) }
}
