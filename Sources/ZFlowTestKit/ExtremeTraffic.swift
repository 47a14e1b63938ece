import Foundation
import ZFlowCore
import ZFlowWire
import ZFlowZMQ

/// Sends `ExtremeMessages` to real processes over real sockets: what a peer holding valid keys, or anyone on
/// a plaintext cluster, could send. The receivers must answer or refuse, and never stop.
public enum ExtremeTraffic {
    /// Which direction's messages a socket sends.
    public enum Direction: Sendable {
        /// As a worker to the scheduler (a `register` first, an `unregister` last).
        case worker
        /// As a client to the scheduler (a `register-client` first).
        case client
        /// As a client to a worker's peer socket.
        case peer
    }

    /// Sends `count` messages of `direction` on `socket`, each one operation, without waiting: a message that
    /// finds the queue full is dropped. Replies are read and thrown away as they come, so the socket never
    /// stops the sender.
    ///
    /// - Returns: how many messages were sent.
    @discardableResult
    public static func send(
        _ count: Int, _ direction: Direction, on socket: ZMQSocket, seed: UInt64
    ) -> Int {
        var messages = ExtremeMessages(seed: seed)
        var sent = 0
        func put(_ frames: [Data]) {
            if (try? socket.send(frames, dontWait: true)) != nil { sent += 1 }
            while (try? socket.receive(dontWait: true)) ?? nil != nil {}
        }
        switch direction {
        case .worker:
            put(OperationWriter.frames([WorkerToScheduler.register(
                WorkerRegistration(name: "extreme", nthreads: 1, functions: [], address: PeerAddress("tcp://127.0.0.1:1"),
                    heartbeatInterval: .seconds(1)))]))
            for _ in 0..<count { put(OperationWriter.frames([messages.workerToScheduler()])) }
            put(OperationWriter.frames([WorkerToScheduler.unregister]))
        case .client:
            put(OperationWriter.frames([ClientToScheduler.register(version: ProtocolVersion.current)]))
            for _ in 0..<count { put(OperationWriter.frames([messages.clientToScheduler()])) }
        case .peer:
            for _ in 0..<count { put(OperationWriter.frames([messages.peerRequest()])) }
        }
        return sent
    }
}
