import CZMQShim
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
        /// The interface to bind (`*` for all, `127.0.0.1` for loopback only).
        public var host: String = "*"
        /// The TCP port; 0 picks a free one.
        public var port: Int = 8786
        /// State machine knobs.
        public var state = SchedulerConfig()
        /// Largest accepted message frame, in bytes.
        public var maxMessageSize: Int64 = 1 << 31
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
        return try thread.start(
            setUp: {
                let router = try ZMQSocket(ZMQContext(), .router)
                try router.configureForZFlow(maxMessageSize: options.maxMessageSize)
                try router.setOption(ZMQ_RCVHWM, 0)
                return (try router.bind("tcp://\(options.host):\(options.port)"), router)
            },
            loop: { [self] router in
                var loop = SchedulerLoop(router: router, control: thread.control, config: options.state, logger: logger)
                loop.run()
                router.close()
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
    let logger: Logger
    let decoder = OperationDecoder()
    let outbox = Outbox()
    var payloadBytesRelayed: UInt64 = 0

    init(router: ZMQSocket, control: Mailbox<Void>, config: SchedulerConfig, logger: Logger) {
        self.router = router
        self.control = control
        self.state = SchedulerState(config: config)
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
            payloadBytesRelayed += UInt64(outbox.flush(on: router, logger: logger))
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
            if outbox.isWorthFlushingEarly { payloadBytesRelayed += UInt64(outbox.flush(on: router, logger: logger)) }
        }
        return false
    }

    mutating func handleMessage(routing: Data, frames: [Data]) {
        let identity = RoutingIdentity.text(routing)
        let now = MonotonicClock.now()
        if identity.hasPrefix("worker:") {
            let routingID = RoutingID(identity)
            do {
                for result in try decoder.decode(WorkerToScheduler.self, frames: frames) {
                    switch result {
                    case .success(let message): perform(state.handle(.fromWorker(routingID, message, now: now)))
                    case .failure(let error): reject(.rejectedFromWorker(routingID, error.violation, now: now), error, identity)
                    }
                }
            } catch {
                reject(.rejectedFromWorker(routingID, error.violation, now: now), error, identity)
            }
        } else {
            let client = ClientID(identity)
            do {
                for result in try decoder.decode(ClientToScheduler.self, frames: frames) {
                    switch result {
                    case .success(let message): perform(state.handle(.fromClient(client, message, now: now)))
                    case .failure(let error): reject(.rejectedFromClient(client, error.violation, now: now), error, identity)
                    }
                }
            } catch {
                reject(.rejectedFromClient(client, error.violation, now: now), error, identity)
            }
        }
    }

    mutating func reject(_ event: SchedulerEvent, _ error: WireError, _ identity: String) {
        logger.warning("refused a message from '\(identity)': \(error)")
        perform(state.handle(event))
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
