/// Status codes carried by `error` operations (see docs/PROTOCOL.md, "Status and error codes").
public enum ErrorCode: Int, Hashable, Sendable, CaseIterable {
    /// The bytes were not a well-formed ZFlow message (bad signature, bad MessagePack, missing field).
    case malformed = 500
    /// The operation name is not part of the protocol.
    case unknownOp = 501
    /// A well-formed operation that is not valid in the sender's current state (e.g. before `register`).
    case unexpected = 502
    /// The sender speaks another protocol version.
    case versionMismatch = 503
    /// Another live worker already uses this name.
    case nameTaken = 504
    /// The sender's role (from its key) may not do this: a client key acting as a worker, a client cancelling a
    /// key it holds no future for, a non-admin retiring workers.
    case forbidden = 505
    /// A number or size in the operation is outside what the scheduler accepts (named in the message).
    case outOfRange = 506
    /// The scheduler does not know this worker (it expired or the scheduler restarted): register again.
    case unknownWorker = 310
    /// A configured limit is reached (workers, clients); the sender may try again later.
    case limitReached = 312
    /// The scheduler does not know this client (it was silent past the client timeout, or the scheduler
    /// restarted): its futures were released.
    case unknownClient = 311
}

/// A peer broke the protocol: what it sent and why it was refused.
public struct ProtocolViolation: Error, Hashable, Sendable, CustomStringConvertible {
    /// The status code sent back.
    public var code: ErrorCode
    /// A one-line explanation.
    public var message: String
    /// Describes a violation.
    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
    /// The code and explanation on one line.
    public var description: String { "\(code.rawValue) \(code): \(message)" }
}
