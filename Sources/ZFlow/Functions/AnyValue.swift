import Foundation

/// Any value a task can take or return, for functions that do not care about types (and for JSON on the CLI).
public enum AnyValue: Codable, Hashable, Sendable, TaskValue, CustomStringConvertible {
    /// nil / null.
    case null
    /// A boolean.
    case bool(Bool)
    /// An integer.
    case int(Int64)
    /// A floating-point number.
    case double(Double)
    /// A string.
    case string(String)
    /// Raw bytes.
    case bytes(Data)
    /// An array.
    case array([AnyValue])
    /// A string-keyed map.
    case object([String: AnyValue])

    /// Decodes whatever value is there.
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.singleValueContainer() {
            if container.decodeNil() { self = .null; return }
            if let value = try? container.decode(Bool.self) { self = .bool(value); return }
            if let value = try? container.decode(Int64.self) { self = .int(value); return }
            if let value = try? container.decode(Double.self) { self = .double(value); return }
            if let value = try? container.decode(String.self) { self = .string(value); return }
            if let value = try? container.decode(Data.self) { self = .bytes(value); return }
        }
        if var container = try? decoder.unkeyedContainer() {
            var items: [AnyValue] = []
            while !container.isAtEnd { items.append(try container.decode(AnyValue.self)) }
            self = .array(items)
            return
        }
        let container = try decoder.container(keyedBy: AnyKey.self)
        var members: [String: AnyValue] = [:]
        for key in container.allKeys { members[key.stringValue] = try container.decode(AnyValue.self, forKey: key) }
        self = .object(members)
    }

    /// Encodes the value as itself.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .int(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .double(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .bytes(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .array(let items): try encoder.encodeList(items)
        case .object(let members): try encoder.encodeMembers(members)
        }
    }

    /// The value as JSON-like text.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "\(value)"
        case .int(let value): return "\(value)"
        case .double(let value): return "\(value)"
        case .string(let value): return "\"\(value)\""
        case .bytes(let value): return "<\(value.count) bytes>"
        case .array(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .object(let members):
            return "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A coding key made from any string.
struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { stringValue = String(intValue) }
}

extension Encoder {
    /// Encodes a list of values as an array.
    func encodeList<T: Encodable>(_ items: [T]) throws {
        var container = unkeyedContainer()
        for item in items { try container.encode(item) }
    }

    /// Encodes string-keyed members as a map, keys in sorted order (so equal values encode to equal bytes).
    func encodeMembers<T: Encodable>(_ members: [String: T]) throws {
        var container = container(keyedBy: AnyKey.self)
        for (key, value) in members.sorted(by: { $0.key < $1.key }) {
            try container.encode(value, forKey: AnyKey(stringValue: key)!)
        }
    }
}
