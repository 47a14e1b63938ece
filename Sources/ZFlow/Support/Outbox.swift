import Foundation
import Logging
import ZFlowWire
import ZFlowZMQ

/// Operations waiting to be sent to one destination; flushed as one multipart message per loop iteration.
final class Outbox {
    private var writers: [Data: OperationWriter] = [:]
    private var order: [Data] = []

    /// Adds an operation for the peer behind `routing` (an empty routing id: the socket's only peer).
    func add<M: WireMessage>(_ message: M, to routing: Data = Data()) {
        if let writer = writers[routing] {
            if writer.isEmpty { order.append(routing) }
            writer.add(message)
            return
        }
        let writer = OperationWriter()
        writer.add(message)
        writers[routing] = writer
        order.append(routing)
    }

    /// True when nothing is waiting.
    var isEmpty: Bool { order.isEmpty }

    /// Sends every waiting batch on `socket`, prefixing the routing id when there is one.
    ///
    /// - Returns: bytes of payload frames sent (frames after the header).
    @discardableResult
    func flush(on socket: ZMQSocket, logger: Logger) -> Int {
        var payloadBytes = 0
        for routing in order {
            guard let writer = writers[routing], !writer.isEmpty else { continue }
            let frames = writer.finish()
            payloadBytes += frames.dropFirst(2).reduce(0) { $0 + $1.count }
            do {
                try socket.send(routing.isEmpty ? frames : [routing] + frames)
            } catch {
                logger.warning("send failed: \(error)")
            }
        }
        order.removeAll(keepingCapacity: true)
        if writers.count > 1024 { writers.removeAll() }
        return payloadBytes
    }
}
