import CZMQShim

/// A failed libzmq call: which function, and the errno it left.
public struct ZMQError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The errno value.
    public let errno: Int32
    /// The libzmq function that failed.
    public let function: String

    /// Captures the calling thread's errno for `function`.
    public init(function: String, errno: Int32 = czmq_errno()) {
        self.errno = errno
        self.function = function
    }

    /// True when the call would have blocked (`EAGAIN`).
    public var wouldBlock: Bool { errno == EAGAIN }

    /// `function: strerror`.
    public var description: String { "\(function): \(String(cString: zmq_strerror(errno)))" }
}

/// Calls a libzmq function that returns -1 on failure, retrying `EINTR`.
@discardableResult
func zmqCall(_ function: String, _ body: () -> Int32) throws(ZMQError) -> Int32 {
    while true {
        let result = body()
        if result >= 0 { return result }
        let error = ZMQError(function: function)
        if error.errno == EINTR { continue }
        throw error
    }
}
