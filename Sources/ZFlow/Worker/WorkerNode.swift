import Foundation
import Logging
import ZFlowCore
import ZFlowScheduling
import ZFlowWire
import ZFlowZMQ

/// The worker process's I/O shell: a loop thread owning the scheduler DEALER, the peer ROUTER, DEALERs to
/// peers and the `WorkerState`, plus a pool of executor threads.
public final class WorkerNode: @unchecked Sendable {
    /// How to run.
    public struct Options: Sendable {
        /// The scheduler's address, e.g. `tcp://127.0.0.1:8786`.
        public var scheduler: String
        /// The worker's unique name (default: host-pid).
        public var name: String
        /// Executor threads.
        public var nthreads: Int = 1
        /// The interface the peer socket binds and the host it advertises.
        public var host: String = "127.0.0.1"
        /// Tasks handed to the executor threads at once, per thread, until runs are measured
        /// (see `WorkerConfig.dispatchDepth`).
        public var dispatchDepth: Int = 2
        /// The most tasks per thread handed over at once when runs are short (`WorkerConfig.maxDispatchDepth`).
        public var maxDispatchDepth: Int = 64
        /// How often to heartbeat when otherwise quiet.
        public var heartbeatInterval: Interval = .milliseconds(1000)
        /// Largest accepted message frame, in bytes (a result larger cannot move between workers).
        public var maxMessageSize: Int64 = 1 << 30
        /// A directory of input files this worker can read, advertised to the scheduler and clients.
        public var dataDirectory: String?
        /// Abstract resources this worker offers (`GPU=2`); tasks that need some run only while they are free.
        public var resources: Resources = [:]
        /// The memory results may use; nil: no limit (never spill, never pause).
        public var memoryLimit: UInt64?
        /// Above this fraction of `memoryLimit` in memory, least recently used results are spilled to disk.
        public var memoryTarget: Double = 0.6
        /// Above this fraction still in memory after spilling, the worker starts no new tasks until it falls.
        public var memoryPause: Double = 0.8
        /// Where spilled results go (default: a new directory under the system's temporary directory).
        public var localDirectory: URL?
        /// With a security directory, every socket is CURVE: the scheduler is reached with this worker's
        /// identity, and the peer socket lets in only the keys listed there (with a key pair of its own, whose
        /// public key travels with the peer address).
        public var security: SecurityDirectory?
        /// What functions may reach: shell commands (`--allow-shell`) and files (`--allow-files`, `--data-dir`).
        public var permissions = WorkerPermissions()
        /// Messages queued for one peer at most, each way, on the peer socket: a peer that does not read its
        /// replies gets no more until it does (replies beyond are dropped; the asker's deadline retries them).
        public var peerHighWaterMark: Int32 = 64

        /// Options for a worker of `scheduler`.
        public init(scheduler: String, name: String? = nil, nthreads: Int = 1) {
            self.scheduler = scheduler
            self.name = name ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
            self.nthreads = nthreads
        }
    }

    private let options: Options
    private let functions: FunctionRegistry
    private let logger: Logger
    private let thread = LoopThread<String>(name: "zflow-worker-loop")
    /// Why the worker stopped on its own: the scheduler refused it for good (version, name taken).
    public private(set) var refusal: ProtocolViolation?

    /// Prepares a worker that runs `functions`; nothing connects until `start()`.
    public init(options: Options, functions: FunctionRegistry, logger: Logger = Logger(label: "zflow.worker")) {
        self.options = options
        self.functions = functions
        self.logger = logger
    }

    /// Binds the peer socket, connects to the scheduler and starts the loop.
    ///
    /// - Returns: the advertised peer address.
    /// - Throws: `ZMQError` when the scheduler address is invalid or the peer socket cannot bind.
    @discardableResult
    public func start() throws -> String {
        let options = options
        let logger = logger
        return try thread.start(
            setUp: {
                let context = ZMQContext()
                let keys = try options.security.map { try IdentityKeys(directory: $0, role: .worker) }
                // The peer socket's own key pair, made anew at each start; its public key travels with the address.
                let peerServer = try options.security.map { _ in try CurveKeyPair.generate() }
                let gatekeeper = try options.security.map { try Gatekeeper(context: context, directory: $0, logger: logger) }
                let peers = try ZMQSocket(context, .router)
                try peers.configureForZFlow(maxMessageSize: options.maxMessageSize, highWaterMark: options.peerHighWaterMark)
                try peers.makeRouterMandatory()
                if let peerServer { try peers.makeCurveServer(secretKey: peerServer.secretKey, domain: "zflow-peer") }
                let bound = try peers.bind("tcp://\(options.host):*")
                guard let port = bound.split(separator: ":").last else { throw ZMQError(function: "zmq_bind", errno: EINVAL) }
                let address = PeerEndpoint(endpoint: "tcp://\(options.host):\(port)", serverKey: peerServer?.publicKey).address
                let scheduler = try ZMQSocket(context, .dealer)
                try scheduler.configureForZFlow()
                if let keys { try scheduler.makeCurveClient(serverKey: keys.scheduler, keys: keys.identity) }
                try scheduler.setIdentity("worker:\(options.name):\(UUID().uuidString.prefix(8))")
                let monitor = try scheduler.monitorHandshakes()
                try scheduler.connect(options.scheduler)
                let crashes = try CrashReporter()
                return (address.rawValue, (context, scheduler, monitor, peers, address, keys, gatekeeper, crashes))
            },
            loop: { [self] (context, scheduler, monitor, peers, address, keys, gatekeeper, crashes) in
                var loop = WorkerLoop(
                    context: context, scheduler: scheduler, monitor: monitor, peers: peers, address: address, keys: keys,
                    crashes: crashes, options: options, functions: functions, control: thread.control, logger: logger)
                loop.run()
                monitor.close()
                refusal = loop.refusal
                gatekeeper?.stop()
            })
    }

    /// Asks the worker to unregister and stop; returns at once.
    public func stop() { thread.stop() }

    /// Blocks until the loop has stopped.
    public func waitUntilStopped() { thread.waitUntilStopped() }
}

/// The body of a worker's loop thread.
private struct WorkerLoop {
    let context: ZMQContext
    let scheduler: ZMQSocket
    /// Reports the security handshakes of `scheduler`.
    let monitor: ZMQSocket
    let peers: ZMQSocket
    let address: PeerAddress
    /// This worker's keys under security; nil without.
    let keys: IdentityKeys?
    let options: WorkerNode.Options
    let functions: FunctionRegistry
    let control: Mailbox<Void>
    let logger: Logger
    let completions = Mailbox<ExecutionResult>()
    /// Where executor threads that trap report the run they were in.
    let crashes: CrashReporter
    let pool: ExecutorPool
    let decoder = OperationDecoder()
    let toScheduler: Outbox
    let toPeers: Outbox
    var state: WorkerState
    /// Results held here, in memory or spilled to disk.
    var store: ResultStore
    /// Whether new tasks are held back because results fill memory.
    var paused = false
    /// Runs started since the last flush, handed to the pool together.
    var dispatch: [ExecutorPool.Job] = []
    /// Each function's run time, a moving average (for `ExecutorPool.Job.mayBeLong`): an average, not the
    /// longest run, so that one run slowed by the machine does not mark a tiny function long for good.
    var typicalRun: [String: Interval] = [:]
    /// Results of finished runs, until the state machine says to keep or drop them.
    var pending: [RunID: Payload] = [:]
    /// DEALERs to other workers, by address.
    var peerSockets: [PeerAddress: ZMQSocket] = [:]
    var lastSentToScheduler = Instant.zero
    var metrics = WorkerMetrics()
    /// The metrics last reported to the current registration; nil: none yet (so the next heartbeat sends them).
    var reportedMetrics: WorkerMetrics?
    /// True from sending `register` until `registered` arrives: further 310 errors then need no new `register`.
    var registering = true
    /// When `register` was last sent; it is sent again when no answer came within a few heartbeat intervals.
    var registerSent = Instant.zero
    /// How long an unanswered `register` waits before it is sent again: 5 heartbeat intervals, doubling per
    /// try up to 30 s (backoff while the scheduler is away); reset once registered.
    var registerRetry = Interval(nanoseconds: 0)
    /// Set when the scheduler refused this worker for good; the loop then stops.
    var refusal: ProtocolViolation?
    /// Set when the scheduler retired this worker; the loop then unregisters and stops.
    var retired = false
    /// Whether failed handshakes with the scheduler amount to a refusal.
    var handshakeFailures = HandshakeFailures()

    init(
        context: ZMQContext, scheduler: ZMQSocket, monitor: ZMQSocket, peers: ZMQSocket, address: PeerAddress,
        keys: IdentityKeys?, crashes: CrashReporter, options: WorkerNode.Options, functions: FunctionRegistry,
        control: Mailbox<Void>, logger: Logger
    ) {
        self.crashes = crashes
        self.context = context
        self.scheduler = scheduler
        self.monitor = monitor
        self.peers = peers
        self.address = address
        self.keys = keys
        toScheduler = Outbox(secure: keys != nil)
        toPeers = Outbox(nonBlocking: true, secure: keys != nil)
        self.options = options
        self.functions = functions
        self.control = control
        self.logger = logger
        self.pool = ExecutorPool(
            count: options.nthreads, name: "zflow-exec", results: completions,
            context: TaskContext(permissions: options.permissions, memoryLimit: options.memoryLimit), crashes: crashes)
        var config = WorkerConfig(
            nthreads: options.nthreads, dispatchDepth: options.dispatchDepth, maxDispatchDepth: options.maxDispatchDepth)
        config.pushLimit = UInt64(OperationWriter.inlineLimit)
        config.fetchTimeout = .seconds(300)
        config.resources = options.resources
        config.address = address
        self.state = WorkerState(config: config)
        let directory =
            options.localDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("zflow-worker-\(options.name)-\(getpid())")
        store = ResultStore(
            targetBytes: options.memoryLimit.map { UInt64(Double($0) * options.memoryTarget) }, directory: directory)
    }

    var registration: WorkerRegistration {
        WorkerRegistration(
            name: WorkerID(options.name), nthreads: options.nthreads, functions: functions.names, address: address,
            heartbeatInterval: options.heartbeatInterval, held: state.held, dataDirectory: options.dataDirectory,
            resources: options.resources, adminFunctions: functions.adminNames)
    }

    mutating func run() {
        registerSent = MonotonicClock.now()
        registerRetry = options.heartbeatInterval * 5
        toScheduler.add(WorkerToScheduler.register(registration))
        flush()
        let tickInterval = Interval.milliseconds(100)
        var nextTick = MonotonicClock.now() + tickInterval
        while true {
            var poller = ZMQPoller()
            let schedulerIndex = poller.add(scheduler)
            let peersIndex = poller.add(peers)
            let completionsIndex = poller.add(fileDescriptor: completions.fileDescriptor)
            let monitorIndex = poller.add(monitor)
            let crashesIndex = poller.add(fileDescriptor: crashes.fileDescriptor)
            let controlIndex = poller.add(fileDescriptor: control.fileDescriptor)
            let peerAddresses = Array(peerSockets.keys)
            for peer in peerAddresses { poller.add(peerSockets[peer]!) }
            let waitMilliseconds = Int((nextTick - MonotonicClock.now()).milliseconds) + 1
            let ready: [Int]
            do {
                ready = try poller.poll(timeoutMilliseconds: waitMilliseconds)
            } catch {
                logger.error("poll failed: \(error)")
                break
            }
            if ready.contains(controlIndex) || retired {
                _ = control.drain()
                toScheduler.add(WorkerToScheduler.unregister)
                flush()
                break
            }
            if ready.contains(crashesIndex) { reportCrashes() }
            if ready.contains(monitorIndex) { readHandshakes() }
            if ready.contains(schedulerIndex) { receiveFromScheduler() }
            if refusal != nil { break }
            if ready.contains(peersIndex) { serveRequests() }
            if ready.contains(completionsIndex) { collectResults() }
            for (offset, peer) in peerAddresses.enumerated() where ready.contains(controlIndex + 1 + offset) {
                receiveReplies(from: peer)
            }
            let now = MonotonicClock.now()
            if now >= nextTick {
                perform(state.handle(.tick(now: now)))
                pauseIfMemoryIsFull()
                heartbeatIfDue()
                nextTick = now + tickInterval
            }
            flush()
        }
        pool.shutdown()
        store.removeAll()
        for socket in peerSockets.values { socket.close() }
        peers.close()
        scheduler.close()
    }

    /// Tells the scheduler which runs trapped, at once and before anything else, then lets the trapping threads
    /// go on dying (the process ends with them; a nanny starts it again).
    mutating func reportCrashes() {
        let reports = crashes.takeReports()
        guard !reports.isEmpty else { return }
        for report in reports {
            let key = state.executing.first { state.tasks[$0]?.executingRun == report.run }
            logger.critical("run \(report.run) of \(key?.rawValue ?? "an unknown task") trapped with signal \(report.signal): reporting it")
            guard let key else { continue }
            toScheduler.add(WorkerToScheduler.taskCrashed(key: key, runID: report.run, signal: report.signal))
        }
        toScheduler.flush(on: scheduler, logger: logger)
        // libzmq's I/O thread writes the report to the connection in the background and tells nobody when it
        // has; the process dies as soon as the trapping thread goes on. Give the I/O thread a moment (the
        // process is lost anyway, and nothing else waits on this loop now).
        Thread.sleep(forTimeInterval: Self.crashReportGrace.seconds)
        crashes.acknowledge()
    }

    /// How long the loop lets a crash report travel before the trapping thread may end the process.
    static let crashReportGrace = Interval.milliseconds(100)

    /// Reads the scheduler connection's handshake events: a scheduler that refuses this worker's key, or that
    /// speaks other security, refuses it for good.
    mutating func readHandshakes() {
        while let frames = try? monitor.receive(dontWait: true) {
            guard let event = HandshakeEvent(monitorFrames: frames) else { continue }
            guard handshakeFailures.record(event) else {
                if event != .succeeded { logger.warning("a security handshake with the scheduler failed (\(event))") }
                continue
            }
            let reason: String
            if let keys {
                reason =
                    event == .refusedByServer
                    ? "its key (\(keys.principal), \(keys.identity.publicKey)) is not listed in the scheduler's security directory, or was revoked"
                    : "the CURVE handshake failed: is scheduler.public this scheduler's key, and does it use security?"
            } else {
                reason = "the scheduler requires CURVE security: start this worker with --security DIR"
            }
            refusal = ProtocolViolation(.forbidden, reason)
            logger.error("the scheduler refused this worker: \(reason)")
        }
    }

    /// Sends a heartbeat (and changed metrics) when nothing went to the scheduler for one interval; called
    /// from the loop's tick and, during long batches, between operations, so a busy worker is not expired.
    mutating func heartbeatIfDue() {
        if registering, MonotonicClock.now() - registerSent >= registerRetry {
            registerSent = MonotonicClock.now()
            registerRetry = min(registerRetry * 2, max(.seconds(30), options.heartbeatInterval * 5))
            toScheduler.add(WorkerToScheduler.register(registration))
        }
        guard MonotonicClock.now() - lastSentToScheduler >= options.heartbeatInterval else { return }
        toScheduler.add(WorkerToScheduler.heartbeat)
        let inPool = state.executing.count
        metrics.running = UInt64(min(inPool, options.nthreads))
        metrics.queued = UInt64(inPool - Int(metrics.running) + state.queuedCount)
        metrics.storedKeys = UInt64(store.count)
        metrics.storedBytes = store.memoryBytes
        metrics.spilledKeys = UInt64(store.spilledKeys)
        metrics.spilledBytes = store.spilledBytes
        metrics.spillCount = store.spillCount
        metrics.memoryLimit = options.memoryLimit ?? 0
        metrics.paused = paused
        metrics.bandwidth = state.measuredBandwidth ?? 0
        if metrics != reportedMetrics {
            toScheduler.add(WorkerToScheduler.metrics(metrics))
            reportedMetrics = metrics
        }
        toScheduler.flush(on: scheduler, logger: logger)
        lastSentToScheduler = MonotonicClock.now()
    }

    /// Holds back new tasks while results still fill memory after spilling, and resumes once they do not.
    mutating func pauseIfMemoryIsFull() {
        if let error = store.lastDiskError { logger.warning("\(error)") }
        guard let limit = options.memoryLimit else { return }
        // One result alone cannot be spilled (the newest stays): pausing for it would stop its own consumers.
        let full = Double(store.memoryBytes) > Double(limit) * options.memoryPause && store.residentKeys > 1
        guard full != paused else { return }
        paused = full
        logger.warning(
            full
                ? "paused: \(store.memoryBytes) bytes of results in memory, over \(options.memoryPause) of the \(limit)-byte limit"
                : "resumed: results in memory are back under the pause threshold")
        perform(state.handle(.paused(full, now: MonotonicClock.now())))
    }

    /// Runs shorter than this on average are handed to executor threads in batches.
    static let shortRun = Interval(nanoseconds: 200_000)

    /// Hands the runs started since the last call to the executor pool.
    mutating func submitRuns() {
        guard !dispatch.isEmpty else { return }
        // Runs measured short are taken in batches (one hand-off for many); others one at a time.
        let short = state.averageRunTime.map { $0 < Self.shortRun } ?? false
        pool.submit(dispatch, takeAtOnce: short ? options.maxDispatchDepth : 1)
        dispatch.removeAll(keepingCapacity: true)
    }

    mutating func flush() {
        submitRuns()
        // Peers first: a result pushed to a waiting client should reach it before the scheduler's
        // `task-finished` does, or the client fetches what is already on its way.
        toPeers.flush(on: peers, logger: logger)
        for routing in toPeers.takeOverflowed() {
            logger.warning("'\(routing)' does not read its replies (its queue is full): a reply to it was dropped")
        }
        if !toScheduler.isEmpty {
            toScheduler.flush(on: scheduler, logger: logger)
            lastSentToScheduler = MonotonicClock.now()
        }
    }

    // MARK: - Scheduler

    /// Scheduler messages read per loop iteration at most: a scheduler that keeps sending must not starve the
    /// peers and clients waiting on this worker's data, nor the results of finished runs.
    static let schedulerMessagesPerTurn = 8

    mutating func receiveFromScheduler() {
        for _ in 0..<Self.schedulerMessagesPerTurn {
            guard let frames = try? scheduler.receive(dontWait: true) else { return }
            let now = MonotonicClock.now()
            let results: [Result<SchedulerToWorker, WireError>]
            do {
                results = try decoder.decode(SchedulerToWorker.self, frames: frames)
            } catch {
                logger.warning("unreadable message from the scheduler: \(error)")
                continue
            }
            for (index, result) in results.enumerated() {
                if index % 1024 == 1023 { heartbeatIfDue() }
                switch result {
                case .success(.registered):
                    registering = false
                    registerRetry = options.heartbeatInterval * 5
                    // A new registration starts a new record on the scheduler: report the metrics again.
                    reportedMetrics = nil
                    logger.info("registered with \(options.scheduler) as '\(options.name)'")
                case .success(.computeTask(let assignment)):
                    perform(state.handle(.computeTask(assignment, now: now)))
                case .success(.freeKeys(let keys)):
                    perform(state.handle(.freeKeys(keys, now: now)))
                case .success(.stealRequest(let key, let run)):
                    perform(state.handle(.stealRequest(key, run, now: now)))
                case .success(.acquireReplicas(let locations)):
                    perform(state.handle(.acquireReplicas(locations, now: now)))
                case .success(.retire):
                    logger.info("retired by the scheduler: every result only this worker held has a copy elsewhere")
                    retired = true
                case .success(.error(let violation)):
                    if violation.code == .unknownWorker {
                        guard !registering else { continue }
                        logger.warning("the scheduler does not know this worker; registering again")
                        perform(state.handle(.forgotten(now: MonotonicClock.now())))
                        registering = true
                        registerSent = MonotonicClock.now()
                        toScheduler.add(WorkerToScheduler.register(registration))
                    } else if violation.code == .nameTaken || violation.code == .versionMismatch {
                        logger.error("the scheduler refused this worker: \(violation)")
                        refusal = violation
                    } else {
                        logger.error("the scheduler refused a message: \(violation)")
                    }
                case .failure(let error):
                    logger.warning("unreadable operation from the scheduler: \(error)")
                }
            }
            // Runs start and results leave after each message, not after the whole queue: the scheduler
            // sends large assignments in several messages.
            submitRuns()
            if toScheduler.isWorthFlushingEarly || toPeers.isWorthFlushingEarly { flush() }
        }
    }

    // MARK: - Peers asking this worker

    mutating func serveRequests() {
        while let frames = try? peers.receive(dontWait: true) {
            guard let routingBytes = frames.first else { continue }
            let routing = RoutingIdentity.text(routingBytes)
            // Under security the ZAP handler named every peer it let in; without, anyone may ask.
            let principal = keys == nil ? nil : peers.lastUserID.flatMap(Principal.init(userID:))
            if keys != nil && principal == nil {
                logger.error("dropped a peer message from '\(routing)' without a principal")
                continue
            }
            let results: [Result<PeerRequest, WireError>]
            do {
                results = try decoder.decode(PeerRequest.self, frames: Array(frames.dropFirst()))
            } catch {
                toPeers.add(PeerReply.error(error.violation), to: routing)
                continue
            }
            var refused = 0
            var firstRefused: ProtocolViolation?
            for result in results {
                switch result {
                case .success(.getData(let keys)):
                    var found: [KeyedPayload] = []
                    var missing: [TaskKey] = []
                    for key in keys {
                        if let payload = store.get(key) {
                            found.append(KeyedPayload(key: key, payload: payload))
                            metrics.servedKeys += 1
                            metrics.servedBytes += UInt64(payload.count)
                        } else {
                            missing.append(key)
                        }
                    }
                    toPeers.add(PeerReply.data(found: found, missing: missing), to: routing)
                case .success(.putData(let items)):
                    let sizes = items.map { KeySize(key: $0.key, nbytes: UInt64($0.payload.count)) }
                    if let refusal = state.refusalOfPut(sizes, from: principal, memoryLimit: options.memoryLimit) {
                        logger.warning("refused put-data from '\(routing)': \(refusal)")
                        toPeers.add(PeerReply.error(refusal), to: routing)
                        continue
                    }
                    for item in items { store.put(item.key, item.payload) }
                    perform(state.handle(.dataStored(sizes, now: MonotonicClock.now())))
                    toPeers.add(PeerReply.putDataStored(items.map(\.key)), to: routing)
                case .failure(let error):
                    refused += 1
                    firstRefused = firstRefused ?? error.violation
                }
            }
            // One error for the whole message, however many operations in it were malformed.
            if var violation = firstRefused {
                if refused > 1 { violation.message = "\(refused) operations refused; the first: \(violation.message)" }
                toPeers.add(PeerReply.error(violation), to: routing)
            }
        }
    }

    // MARK: - Replies to this worker's fetches

    mutating func receiveReplies(from peer: PeerAddress) {
        guard let socket = peerSockets[peer] else { return }
        while let frames = try? socket.receive(dontWait: true) {
            var found: [KeySize] = []
            var missing: [TaskKey] = []
            do {
                for result in try decoder.decode(PeerReply.self, frames: frames) {
                    switch result {
                    case .success(.data(let items, let absent)):
                        for item in items {
                            store.put(item.key, item.payload)
                            found.append(KeySize(key: item.key, nbytes: UInt64(item.payload.count)))
                            metrics.fetchedKeys += 1
                            metrics.fetchedBytes += UInt64(item.payload.count)
                        }
                        missing += absent
                    case .success(let other):
                        logger.warning("unexpected reply from \(peer): \(other.op)")
                    case .failure(let error):
                        logger.warning("unreadable reply from \(peer): \(error)")
                    }
                }
            } catch {
                logger.warning("unreadable reply from \(peer): \(error)")
            }
            perform(state.handle(.fetched(from: peer, found: found, missing: missing, now: MonotonicClock.now())))
        }
    }

    // MARK: - Executors

    mutating func collectResults() {
        for result in completions.drain() {
            metrics.executed += 1
            typicalRun[result.function] = Interval(
                nanoseconds: typicalRun[result.function].map { $0.nanoseconds / 8 * 7 + result.duration.nanoseconds / 8 }
                    ?? result.duration.nanoseconds)
            let outcome: TaskOutcome
            switch result.outcome {
            case .success(let payload):
                pending[result.run] = payload
                outcome = .success(nbytes: UInt64(payload.count), duration: result.duration)
            case .failure(let error):
                outcome = .failure(error)
            }
            perform(state.handle(.executed(result.key, result.run, outcome, now: MonotonicClock.now())))
        }
    }

    mutating func execute(_ assignment: TaskAssignment) {
        var collected: [TaskKey: Payload] = [:]
        var lost: [TaskKey] = []
        for dependency in assignment.dependencies {
            if let payload = store.get(dependency.key) { collected[dependency.key] = payload } else { lost.append(dependency.key) }
        }
        guard lost.isEmpty else {
            logger.warning("inputs \(lost) of \(assignment.key) are lost here: \(store.lastDiskError ?? "not in the store")")
            perform(state.handle(.inputsLost(assignment.key, assignment.runID, lost: lost, now: MonotonicClock.now())))
            return
        }
        let inputs = collected
        let worker = WorkerID(options.name)
        let registered = functions[assignment.function]
        let refusal = registered.flatMap { options.permissions.refusal(of: $0, on: options.name) }
        let function = refusal == nil ? registered : nil
        let mayBeLong = typicalRun[assignment.function].map { $0 >= Self.shortRun } ?? true
        dispatch.append((assignment.runID, mayBeLong, {
            let start = MonotonicClock.now()
            let outcome: Result<Payload, RemoteError>
            if let function {
                do {
                    outcome = .success(try function.call(arguments: assignment.arguments, inputs: inputs))
                } catch {
                    outcome = .failure(
                        RemoteError(
                            typeName: error is ArgumentError ? "ArgumentError" : String(describing: type(of: error)),
                            message: String(describing: error), key: assignment.key, function: assignment.function,
                            worker: worker))
                }
            } else if let refusal {
                outcome = .failure(
                    RemoteError(
                        typeName: "NotAllowed", message: refusal, key: assignment.key, function: assignment.function,
                        worker: worker))
            } else {
                outcome = .failure(
                    RemoteError(
                        typeName: "UnknownFunction", message: "worker '\(worker)' has no function '\(assignment.function)'",
                        key: assignment.key, function: assignment.function, worker: worker))
            }
            return ExecutionResult(
                key: assignment.key, run: assignment.runID, function: assignment.function, outcome: outcome,
                duration: MonotonicClock.now() - start)
        }))
    }

    // MARK: - Actions

    mutating func perform(_ actions: [WorkerAction]) {
        for action in actions {
            switch action {
            case .execute(let assignment):
                execute(assignment)
            case .fetch(let keys, let peer):
                do {
                    let socket = try peerSocket(peer)
                    try socket.send(OperationWriter.frames([PeerRequest.getData(keys)]))
                } catch {
                    logger.warning("cannot reach peer \(peer): \(error)")
                    perform(state.handle(.fetched(from: peer, found: [], missing: keys, now: MonotonicClock.now())))
                }
            case .send(let message):
                toScheduler.add(message)
            case .push(let key, let clients):
                guard let payload = store.get(key) else { continue }
                for client in clients {
                    toPeers.add(PeerReply.pushed(KeyedPayload(key: key, payload: payload)), to: client.rawValue)
                }
            case .storeResult(let key, let run):
                if let payload = pending.removeValue(forKey: run) { store.put(key, payload) }
            case .abandon(let key, let run):
                if let index = dispatch.firstIndex(where: { $0.run == run }) {
                    dispatch.remove(at: index)
                } else if !pool.withdraw(run: run) {
                    continue
                }
                let withdrawn = RemoteError(
                    typeName: "Cancelled", message: "withdrawn before it started", key: key, worker: WorkerID(options.name))
                perform(state.handle(.executed(key, run, .failure(withdrawn), now: MonotonicClock.now())))
            case .dropResult(_, let run):
                pending.removeValue(forKey: run)
            case .discard(let keys):
                for key in keys { store.remove(key) }
            }
        }
    }

    mutating func peerSocket(_ peer: PeerAddress) throws -> ZMQSocket {
        if let socket = peerSockets[peer] { return socket }
        let socket = try ZMQSocket.connectedToPeer(peer, context: context, keys: keys?.identity, maxMessageSize: options.maxMessageSize)
        peerSockets[peer] = socket
        return socket
    }
}
