import CZMQShim
import Foundation

/// A ZeroMQ socket. Not thread-safe: create and use it on one thread only.
public final class ZMQSocket {
    /// ZeroMQ socket types (integer constants, since Swift enum raw values must be literals).
    public struct Kind: Hashable, Sendable {
        /// The libzmq constant.
        public let rawValue: Int32
        /// ROUTER: prefixes each received message with the sender's routing id.
        public static let router = Kind(rawValue: ZMQ_ROUTER)
        /// DEALER: asynchronous request/reply peer of a ROUTER.
        public static let dealer = Kind(rawValue: ZMQ_DEALER)
        /// PUSH: one end of a pipeline.
        public static let push = Kind(rawValue: ZMQ_PUSH)
        /// PULL: the other end of a pipeline.
        public static let pull = Kind(rawValue: ZMQ_PULL)
        /// PAIR: exclusive pair, for inproc wiring.
        public static let pair = Kind(rawValue: ZMQ_PAIR)
        /// REP: answers one request at a time (the ZAP handler).
        public static let rep = Kind(rawValue: ZMQ_REP)
    }

    /// Frames at least this large are received and sent without copying.
    public static let zeroCopyThreshold = 64 * 1024

    let context: ZMQContext
    let handle: UnsafeMutableRawPointer
    private let message: UnsafeMutablePointer<zmq_msg_t>
    private var closed = false
    /// Whether `receive` reads the `User-Id` that the ZAP handler gave the sender (CURVE servers).
    var readsUserID = false
    /// The `User-Id` of the sender of the last message received, when `readsUserID` (nil: none given).
    public private(set) var lastUserID: String?

    /// Opens a socket of `kind` in `context` with linger 0, so closing never blocks.
    ///
    /// - Throws: `ZMQError` when libzmq refuses (e.g. too many sockets).
    public init(_ context: ZMQContext, _ kind: Kind) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, kind.rawValue) else {
            throw ZMQError(function: "zmq_socket")
        }
        self.context = context
        self.handle = handle
        message = .allocate(capacity: 1)
        zmq_msg_init(message)
        try setOption(ZMQ_LINGER, 0)
    }

    deinit {
        close()
        zmq_msg_close(message)
        message.deallocate()
    }

    /// Closes the socket; further calls fail. Called by deinit too.
    public func close() {
        guard !closed else { return }
        closed = true
        zmq_close(handle)
    }

    /// Sets an integer option (`ZMQ_SNDHWM`, `ZMQ_MAXMSGSIZE`, …).
    public func setOption(_ option: Int32, _ value: Int32) throws(ZMQError) {
        var value = value
        try zmqCall("zmq_setsockopt") { zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) }
    }

    /// Sets a 64-bit integer option (`ZMQ_MAXMSGSIZE`).
    public func setOption64(_ option: Int32, _ value: Int64) throws(ZMQError) {
        var value = value
        try zmqCall("zmq_setsockopt") { zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size) }
    }

    /// Makes a ROUTER report a message it cannot deliver: `EAGAIN` when the peer's queue is full (with
    /// `dontWait`), `EHOSTUNREACH` when no such peer is connected, instead of dropping it silently.
    public func makeRouterMandatory() throws(ZMQError) { try setOption(ZMQ_ROUTER_MANDATORY, 1) }

    /// Sets the routing id this socket presents to a ROUTER peer (before connecting).
    public func setIdentity(_ identity: String) throws(ZMQError) {
        let bytes = Array(identity.utf8)
        try zmqCall("zmq_setsockopt") { zmq_setsockopt(handle, ZMQ_ROUTING_ID, bytes, bytes.count) }
    }

    /// Binds to `endpoint` (e.g. `tcp://127.0.0.1:*`).
    ///
    /// - Returns: the endpoint actually bound, with the chosen port.
    public func bind(_ endpoint: String) throws(ZMQError) -> String {
        try zmqCall("zmq_bind(\(endpoint))") { zmq_bind(handle, endpoint) }
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        try zmqCall("zmq_getsockopt") { zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) }
        return String(cString: buffer)
    }

    /// Connects to `endpoint`; the connection is made in the background and retried by libzmq.
    public func connect(_ endpoint: String) throws(ZMQError) {
        try zmqCall("zmq_connect(\(endpoint))") { zmq_connect(handle, endpoint) }
    }

    /// Sends a multipart message.
    ///
    /// - Parameter dontWait: fail with `wouldBlock` instead of blocking at the high-water mark.
    public func send(_ frames: [Data], dontWait: Bool = false) throws(ZMQError) {
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if index < frames.count - 1 { flags |= ZMQ_SNDMORE }
            try sendFrame(frame, flags: flags)
        }
    }

    private func sendFrame(_ frame: Data, flags: Int32) throws(ZMQError) {
        if frame.count >= Self.zeroCopyThreshold {
            let outgoing = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
            defer { outgoing.deallocate() }
            let box = Unmanaged.passRetained(FrameBox(frame))
            let base = box.takeUnretainedValue().base
            let status = zmq_msg_init_data(outgoing, base, frame.count, { _, hint in
                Unmanaged<FrameBox>.fromOpaque(hint!).release()
            }, box.toOpaque())
            guard status == 0 else {
                box.release()
                throw ZMQError(function: "zmq_msg_init_data")
            }
            do {
                try zmqCall("zmq_msg_send") { zmq_msg_send(outgoing, handle, flags) }
            } catch {
                zmq_msg_close(outgoing)
                throw error
            }
            return
        }
        let status = frame.withUnsafeBytes { raw in zmq_send(handle, raw.baseAddress, raw.count, flags) }
        if status < 0 {
            let error = ZMQError(function: "zmq_send")
            if error.errno == EINTR { return try sendFrame(frame, flags: flags) }
            throw error
        }
    }

    /// Receives one multipart message.
    ///
    /// - Parameter dontWait: return nil instead of blocking when nothing is queued.
    /// - Returns: the frames, or nil when `dontWait` and nothing was queued.
    public func receive(dontWait: Bool = false) throws(ZMQError) -> [Data]? {
        var frames: [Data] = []
        var more = false
        repeat {
            let flags: Int32 = frames.isEmpty && dontWait ? ZMQ_DONTWAIT : 0
            let size: Int32
            do {
                size = try zmqCall("zmq_msg_recv") { zmq_msg_recv(message, handle, flags) }
            } catch where error.wouldBlock && frames.isEmpty {
                return nil
            }
            // Read the flag first: `takeFrame` moves a large frame out, leaving `message` empty (more = 0).
            more = zmq_msg_more(message) != 0
            // A ROUTER makes the routing-id frame itself, without the peer's metadata: read it off the first frame
            // that carries it.
            if readsUserID {
                if frames.isEmpty { lastUserID = nil }
                if lastUserID == nil { lastUserID = zmq_msg_gets(message, "User-Id").map { String(cString: $0) } }
            }
            frames.append(takeFrame(size: Int(size)))
        } while more
        return frames
    }

    /// Turns the received message into `Data`: copied when small, handed over without a copy when large.
    private func takeFrame(size: Int) -> Data {
        guard size >= Self.zeroCopyThreshold else {
            return Data(bytes: zmq_msg_data(message), count: size)
        }
        let owned = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        zmq_msg_init(owned)
        zmq_msg_move(owned, message)
        return Data(
            bytesNoCopy: zmq_msg_data(owned), count: size,
            deallocator: .custom { _, _ in
                zmq_msg_close(owned)
                owned.deallocate()
            })
    }
}

/// Keeps a frame's bytes alive until libzmq has sent them.
private final class FrameBox {
    let data: Data
    let base: UnsafeMutableRawPointer

    init(_ data: Data) {
        self.data = data
        // Large `Data` values own one contiguous heap allocation whose address stays fixed while the value
        // lives unmodified; this box keeps the value alive until libzmq's free callback runs.
        base = data.withUnsafeBytes { UnsafeMutableRawPointer(mutating: $0.baseAddress!) }
    }
}
