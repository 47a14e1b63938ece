import Foundation
import Logging
import ZFlowCore
import ZFlowScheduling
import ZFlowWire
import ZFlowZMQ

/// The scheduler process's I/O shell: one loop thread owning the ROUTER socket and the `SchedulerState`.
///
/// It decodes each message into events, feeds them to the state machine, and sends the resulting
/// operations, batched per destination, once per loop iteration.
public final class SchedulerServer: @unchecked Sendable {
    /// Where and how to listen.
    public struct Options: Sendable {
        /// The interface to bind (`127.0.0.1` for loopback only, `*` for all).
        public var host: String = "127.0.0.1"
        /// The TCP port; 0 picks a free one.
        public var port: Int = 8786
        /// State machine knobs.
        public var state = SchedulerConfig()
        /// Largest accepted message frame, in bytes (the scheduler never carries results, only task arguments).
        public var maxMessageSize: Int64 = 256 << 20
        /// Messages queued for one peer at most, each way (each at most `Outbox.maxHeaderBytes`, so at most
        /// 25 MiB of replies wait for one peer). A peer whose queue to it is full (it does not read) is cut off: a
        /// client is forgotten, a worker treated as dead. ZFlow's own clients and workers never fill it: their
        /// I/O threads read whatever arrives. One that sends faster than the scheduler reads is slowed by TCP.
        public var highWaterMark: Int32 = 100
        /// With a security directory, the socket is a CURVE server that lets in only the keys listed there, and
        /// roles come from the keys; without, anyone who reaches the port is a client that may do everything.
        public var security: SecurityDirectory?
        /// Creates the defaults.
        public init() {}
    }

    private let options: Options
    private let logger: Logger
    private let thread = LoopThread<String>(name: "zflow-scheduler-loop")

    /// Prepares a server; nothing listens until `start()`.
    public init(options: Options = Options(), logger: Logger = Logger(label: "zflow.scheduler")) {
        self.options = options
        self.logger = logger
    }

    /// Binds and starts the loop thread.
    ///
    /// - Returns: the bound endpoint, e.g. `tcp://0.0.0.0:8786`.
    /// - Throws: `ZMQError` when the address cannot be bound (port taken, bad host).
    @discardableResult
    public func start() throws -> String {
        let options = options
        let logger = logger
        return try thread.start(
            setUp: {
                let context = ZMQContext()
                let gatekeeper = try options.security.map { try Gatekeeper(context: context, directory: $0, logger: logger) }
                let router = try ZMQSocket(context, .router)
                try router.configureForZFlow(maxMessageSize: options.maxMessageSize, highWaterMark: options.highWaterMark)
                try router.makeRouterMandatory()
                if let security = options.security {
                    try router.makeCurveServer(secretKey: try security.schedulerKeys().secretKey, domain: "zflow-scheduler")
                }
                return (try router.bind("tcp://\(options.host):\(options.port)"), (router, gatekeeper))
            },
            loop: { [self] resources in
                let (router, gatekeeper) = resources
                var loop = SchedulerLoop(
                    router: router, control: thread.control, config: options.state, secure: gatekeeper != nil,
                    logger: logger)
                loop.run()
                router.close()
                gatekeeper?.stop()
            })
    }

    /// Asks the loop to stop; returns at once. `waitUntilStopped()` waits for it.
    public func stop() { thread.stop() }

    /// Blocks until the loop has stopped and the socket is closed.
    public func waitUntilStopped() { thread.waitUntilStopped() }
}

/// The body of the scheduler's loop thread.
private struct SchedulerLoop {
    let router: ZMQSocket
    let control: Mailbox<Void>
    var state: SchedulerState
    /// Whether the router is a CURVE server: principals then come from the keys (`User-Id`), not routing ids.
    let secure: Bool
    let logger: Logger
    let decoder = OperationDecoder()
    let outbox: Outbox
    var payloadBytesRelayed: UInt64 = 0

    init(router: ZMQSocket, control: Mailbox<Void>, config: SchedulerConfig, secure: Bool, logger: Logger) {
        self.router = router
        self.control = control
        self.state = SchedulerState(config: config)
        self.secure = secure
        outbox = Outbox(nonBlocking: true, secure: secure)
        self.logger = logger
    }

    mutating func run() {
        var poller = ZMQPoller()
        let routerIndex = poller.add(router)
        let controlIndex = poller.add(fileDescriptor: control.fileDescriptor)
        let tickInterval = state.config.tickInterval
        var nextTick = MonotonicClock.now() + tickInterval
        while true {
            let waitMilliseconds = Int((nextTick - MonotonicClock.now()).milliseconds) + 1
            let ready: [Int]
            do {
                ready = try poller.poll(timeoutMilliseconds: waitMilliseconds)
            } catch {
                logger.error("poll failed: \(error)")
                return
            }
            if ready.contains(controlIndex) {
                _ = control.drain()
                return
            }
            let drained = ready.contains(routerIndex) ? receiveAll() : true
            let now = MonotonicClock.now()
            // Liveness is judged only with the inbound queue read to the end: a heartbeat still queued behind
            // a burst of client messages must not let its worker expire.
            if drained && now >= nextTick {
                perform(state.handle(.tick(now: now)))
                nextTick = now + tickInterval
            }
            flush()
        }
    }

    /// Sends what is waiting; peers whose queue was full are reported to the state machine as unreachable.
    mutating func flush() {
        payloadBytesRelayed += UInt64(outbox.flush(on: router, logger: logger))
        for routing in outbox.takeOverflowed() {
            logger.warning("'\(routing)' does not read what the scheduler sends (its queue is full): cut off")
            perform(state.handle(.unreachable(RoutingID(routing), now: MonotonicClock.now())))
        }
    }

    /// Reads queued messages (at most a bounded number, so ticks still come), flushing on the way once much
    /// is waiting.
    ///
    /// - Returns: true when the queue was read to the end.
    mutating func receiveAll() -> Bool {
        for _ in 0..<10_000 {
            let frames: [Data]?
            do {
                frames = try router.receive(dontWait: true)
            } catch {
                logger.warning("receive failed: \(error)")
                return true
            }
            guard let frames, let routingFrame = frames.first else { return true }
            handleMessage(routing: routingFrame, frames: Array(frames.dropFirst()))
            // What a large message caused leaves before the next is read, so workers and clients work on it
            // meanwhile instead of waiting for the whole queue.
            if outbox.isWorthFlushingEarly { flush() }
        }
        return false
    }

    mutating func handleMessage(routing: Data, frames: [Data]) {
        let identity = RoutingIdentity.text(routing)
        let now = MonotonicClock.now()
        let principal: Principal
        if secure {
            // The ZAP handler named every CURVE peer it let in; a message without a name cannot be from one.
            guard let userID = router.lastUserID, let named = Principal(userID: userID) else {
                logger.error("dropped a message from '\(identity)' without a principal")
                return
            }
            principal = named
        } else {
            principal = identity.hasPrefix("worker:") ? .localWorker : .localAdmin
        }
        if principal.role == .worker {
            let routingID = RoutingID(identity)
            dispatch(WorkerToScheduler.self, frames, from: identity) { state, message in
                state.handle(.fromWorker(routingID, message, principal: principal, now: now))
            } rejected: { violation in
                .rejectedFromWorker(routingID, violation, now: now)
            }
        } else {
            let client = ClientID(identity)
            dispatch(ClientToScheduler.self, frames, from: identity) { state, message in
                state.handle(.fromClient(client, message, principal: principal, now: now))
            } rejected: { violation in
                .rejectedFromClient(client, violation, now: now)
            }
        }
    }

    /// Decodes a message and feeds each operation to the state machine. Operations that cannot be decoded are
    /// answered by one error for the whole message, naming how many there were and the first.
    mutating func dispatch<Message: WireMessage>(
        _ type: Message.Type, _ frames: [Data], from identity: String,
        handle: (inout SchedulerState, Message) -> [SchedulerAction],
        rejected: (ProtocolViolation) -> SchedulerEvent
    ) {
        var refused = 0
        var first: WireError?
        do {
            for result in try decoder.decode(type, frames: frames) {
                switch result {
                case .success(let message): perform(handle(&state, message))
                case .failure(let error):
                    refused += 1
                    first = first ?? error
                }
            }
        } catch {
            refused += 1
            first = error
        }
        guard let first else { return }
        logger.warning("refused \(refused) operation(s) from '\(identity)': \(first)")
        var violation = first.violation
        if refused > 1 { violation.message = "\(refused) operations refused; the first: \(violation.message)" }
        let actions = state.handle(rejected(violation))
        guard case .unsupportedVersion(let version) = first, (0...255).contains(version) else {
            perform(actions)
            return
        }
        // A peer of another version could not read our frame 0: its error goes out in its own version (the
        // `error` op is the same in every version).
        var frames = OperationWriter.frames([SchedulerToClient.error(violation)])
        frames[0] = Data(ProtocolVersion.signature.prefix(2) + [UInt8(version)])
        do {
            try router.send([RoutingIdentity.bytes(identity)] + frames, dontWait: true)
        } catch {
            logger.debug("no version-mismatch reply to '\(identity)': \(error)")
        }
    }

    mutating func perform(_ actions: [SchedulerAction]) {
        for action in actions {
            switch action {
            case .toWorker(let routing, let message):
                if case .error(let violation) = message { logger.info("error to \(routing): \(violation)") }
                outbox.add(message, to: routing.rawValue)
            case .toClient(let client, let message):
                if case .info(var info) = message {
                    info.counters.payloadBytesRelayed = payloadBytesRelayed
                    outbox.add(SchedulerToClient.info(info), to: client.rawValue)
                } else {
                    outbox.add(message, to: client.rawValue)
                }
            }
        }
    }
}
