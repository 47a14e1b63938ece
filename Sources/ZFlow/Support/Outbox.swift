import Foundation
import Logging
import ZFlowWire
import ZFlowZMQ

/// Operations waiting to be sent, batched per destination: one multipart message per destination per loop
/// iteration, split when a batch grows past `maxOperations` or `maxHeaderBytes` so that no receiver has to
/// unpack (and hold in memory) an unbounded header at once.
final class Outbox {
    /// Operations per message at most.
    static let maxOperations = 4096
    /// Header bytes per message at most (a single larger operation still goes alone): with the high-water mark,
    /// what bounds the memory queued for a peer that does not read.
    static let maxHeaderBytes = 256 << 10

    /// Writers by routing id in text form (`RoutingIdentity`); bytes are made once per message at flush.
    private var writers: [String: OperationWriter] = [:]
    private var order: [String] = []
    private var sealed: [(routing: String, frames: [Data])] = []
    /// The destination of the previous `add`: runs of operations to one peer skip the dictionary.
    private var lastRouting: String?
    private var lastWriter: OperationWriter?
    /// Operations added since the last flush.
    private(set) var pendingOperations = 0
    /// Whether `flush` drops a message whose peer's queue is full (a ROUTER with `ZMQ_ROUTER_MANDATORY`) instead
    /// of waiting for room.
    private let nonBlocking: Bool
    /// Routing ids whose queue was full at a flush since `takeOverflowed` was last called.
    private var overflowed: [String] = []

    /// Payloads over this size travel in parts (`OperationWriter(chunkBytes:)`); nil: one frame each.
    private let chunkBytes: Int?

    /// The part size for payloads on CURVE connections, where encryption is about twice as fast on 1 MiB frames
    /// as on large ones.
    static let curveChunkBytes = 1 << 20

    /// An empty outbox; a `nonBlocking` one never waits for a peer (see `takeOverflowed`); a `secure` one sends
    /// large payloads in parts of `curveChunkBytes`.
    init(nonBlocking: Bool = false, secure: Bool = false) {
        self.nonBlocking = nonBlocking
        chunkBytes = secure ? Self.curveChunkBytes : nil
    }

    /// The routing ids of peers whose send queue was full, so that a message to them was dropped, in order.
    func takeOverflowed() -> [String] {
        defer { overflowed.removeAll() }
        return overflowed
    }

    /// Operations waiting before a loop flushes in the middle of a batch of input rather than at its end:
    /// large outputs start moving while the rest of the input is read, small ones still leave together.
    static let earlyFlushOperations = 512

    /// Adds an operation for the peer behind `routing`, a routing id in the text form of `RoutingIdentity`
    /// (empty: the socket's only peer).
    func add<M: WireMessage>(_ message: M, to routing: String = "") {
        let writer: OperationWriter
        if let lastWriter, routing == lastRouting {
            writer = lastWriter
        } else if let existing = writers[routing] {
            writer = existing
        } else {
            writer = OperationWriter(chunkBytes: chunkBytes)
            writers[routing] = writer
        }
        lastRouting = routing
        lastWriter = writer
        if writer.isEmpty { order.append(routing) }
        writer.add(message)
        pendingOperations += 1
        if writer.count >= Self.maxOperations || writer.header.count >= Self.maxHeaderBytes {
            sealed.append((routing, writer.finish()))
        }
    }

    /// True when nothing is waiting.
    var isEmpty: Bool { pendingOperations == 0 }

    /// True when enough is waiting to send it before the rest of the input is read.
    var isWorthFlushingEarly: Bool { pendingOperations >= Self.earlyFlushOperations }

    /// Sends every waiting message on `socket`, prefixing the routing id when there is one.
    ///
    /// - Returns: bytes of payload frames sent (frames after the header).
    @discardableResult
    func flush(on socket: ZMQSocket, logger: Logger) -> Int {
        var messages = sealed
        sealed.removeAll(keepingCapacity: true)
        pendingOperations = 0
        for routing in order {
            guard let writer = writers[routing], !writer.isEmpty else { continue }
            messages.append((routing, writer.finish()))
        }
        order.removeAll(keepingCapacity: true)
        if writers.count > 1024 {
            writers.removeAll()
            lastRouting = nil
            lastWriter = nil
        }
        var payloadBytes = 0
        for (routing, frames) in messages {
            payloadBytes += frames.dropFirst(2).reduce(0) { $0 + $1.count }
            do {
                try socket.send(routing.isEmpty ? frames : [RoutingIdentity.bytes(routing)] + frames, dontWait: nonBlocking)
            } catch where error.wouldBlock {
                if !overflowed.contains(routing) { overflowed.append(routing) }
            } catch where error.errno == EHOSTUNREACH {
                // The peer left before its reply: nothing to do.
                logger.debug("no route to '\(routing)'")
            } catch {
                logger.warning("send failed: \(error)")
            }
        }
        return payloadBytes
    }
}
