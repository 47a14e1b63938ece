import ZFlowCore
import ZFlowWire

extension WireError {
    /// The protocol error to send back to whoever sent the bytes.
    var violation: ProtocolViolation {
        switch self {
        case .unknownOp: return ProtocolViolation(.unknownOp, description)
        case .unsupportedVersion: return ProtocolViolation(.versionMismatch, description)
        default: return ProtocolViolation(.malformed, description)
        }
    }
}
