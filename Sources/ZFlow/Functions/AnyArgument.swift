/// An untyped task argument: a value, a future of another task's result, or a list or map of them.
///
/// For callers that only know functions by name (the `zflow` command line, graph files).
public indirect enum AnyArgument: Encodable, Sendable {
    /// A plain value.
    case value(AnyValue)
    /// The result of another task.
    case future(Future<AnyValue>)
    /// A list of arguments.
    case array([AnyArgument])
    /// A string-keyed map of arguments.
    case object([String: AnyArgument])

    /// Encodes values as themselves and futures as references.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .value(let value): try value.encode(to: encoder)
        case .future(let future): try future.encode(to: encoder)
        case .array(let items): try encoder.encodeList(items)
        case .object(let members): try encoder.encodeMembers(members)
        }
    }
}
