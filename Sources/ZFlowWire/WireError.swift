import ZFlowCore

/// Why bytes could not be decoded as a ZFlow message or a MessagePack value.
public enum WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Frame 0 is not the `ZF` signature with this protocol version.
    case badSignature
    /// Frame 0 is the `ZF` signature with another protocol version.
    case unsupportedVersion(Int)
    /// The message has fewer frames than its header refers to, or none at all.
    case missingFrame(Int)
    /// The MessagePack bytes end in the middle of a value.
    case truncated
    /// The bytes are not valid MessagePack (reserved byte, bad nesting, trailing bytes).
    case invalid(String)
    /// A container declares more elements than the bytes could hold (a hostile length prefix).
    case lengthExceedsInput(declared: UInt64, available: Int)
    /// Containers nest deeper than `MessagePackBounds.maximumDepth`.
    case tooDeep
    /// The operation name is not part of the protocol.
    case unknownOp(String)
    /// A required field is absent.
    case missingField(String)
    /// A value has another MessagePack type than expected.
    case typeMismatch(expected: String, found: String, at: String)

    /// One line naming what was wrong.
    public var description: String {
        switch self {
        case .badSignature: return "bad signature: frame 0 is not 'ZF' + protocol version \(ProtocolVersion.current)"
        case .unsupportedVersion(let version):
            return "peer speaks ZFLOW/\(version), this process speaks ZFLOW/\(ProtocolVersion.current)"
        case .missingFrame(let index): return "missing frame \(index)"
        case .truncated: return "truncated MessagePack"
        case .invalid(let why): return "invalid MessagePack: \(why)"
        case .lengthExceedsInput(let declared, let available):
            return "declared length \(declared) exceeds the \(available) bytes left"
        case .tooDeep: return "MessagePack nested deeper than \(MessagePackBounds.maximumDepth) levels"
        case .unknownOp(let op): return "unknown op '\(op)'"
        case .missingField(let name): return "missing field '\(name)'"
        case .typeMismatch(let expected, let found, let path): return "expected \(expected) at '\(path)', found \(found)"
        }
    }
}
