import CZMQShim

/// A ZeroMQ context: owns the I/O threads; sockets keep it alive.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// Creates a context with libzmq's defaults (one I/O thread).
    public init() {
        handle = zmq_ctx_new()
    }

    deinit {
        while zmq_ctx_term(handle) == -1 && czmq_errno() == EINTR {}
    }

    /// The libzmq version as `major.minor.patch`.
    public static var version: String {
        let number = czmq_version()
        return "\(number / 10000).\(number / 100 % 100).\(number % 100)"
    }
}
