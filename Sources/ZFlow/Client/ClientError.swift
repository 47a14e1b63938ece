import ZFlowCore

/// A task failed on a worker (or because a dependency failed): key, function, worker and the error's text.
public typealias TaskError = RemoteError

/// Failures of the client itself, as opposed to failures of tasks (`TaskError`).
public enum ClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No scheduler answered at `address` within the connect timeout.
    case schedulerUnreachable(address: String, seconds: Double)
    /// A wait ran past its timeout.
    case timedOut(seconds: Double)
    /// The task was cancelled (by this or another client).
    case cancelled(TaskKey)
    /// The result is not held by any reachable worker.
    case dataUnavailable(TaskKey, reason: String)
    /// The scheduler refused a request.
    case refused(ProtocolViolation)
    /// The client was closed.
    case closed
    /// The scheduler no longer knows this client (it was silent longer than the scheduler's client timeout,
    /// or the scheduler restarted): its futures were released.
    case forgotten
    /// A value could not be encoded as an argument or decoded as a result.
    case codec(String)
    /// The connection's security failed: no keys, wrong keys, a revoked key, or security on one side only.
    case security(String)

    /// One line saying what went wrong.
    public var description: String {
        switch self {
        case .schedulerUnreachable(let address, let seconds):
            return "no ZFlow scheduler answered at \(address) within \(seconds) s"
        case .timedOut(let seconds): return "timed out after \(seconds) s"
        case .cancelled(let key): return "task '\(key)' was cancelled"
        case .dataUnavailable(let key, let reason): return "result of '\(key)' is unavailable: \(reason)"
        case .refused(let violation): return "the scheduler refused the request: \(violation)"
        case .closed: return "the client is closed"
        case .forgotten:
            return "the scheduler no longer knows this client (silent longer than its client timeout, or restarted); its futures were released"
        case .codec(let why): return why
        case .security(let why): return why
        }
    }
}
