import Foundation
import ZFlowCore

/// Encodes `Encodable` values as MessagePack.
///
/// Structs become maps keyed by property name, arrays become arrays, `Data` becomes a binary, and a value
/// that encodes itself through `TaskReferenceEncoder` (a `Future`) becomes the extension
/// `MessagePackExtension.taskReference` holding its key. The keys met that way are returned as references.
public struct MessagePackEncoder {
    /// Creates an encoder.
    public init() {}

    /// Encodes one value.
    ///
    /// - Returns: the bytes and every task key referenced inside, in order of first appearance.
    /// - Throws: `EncodingError` when the value cannot be encoded.
    public func encodeWithReferences<T: Encodable>(_ value: T) throws -> (bytes: Data, references: [TaskKey]) {
        if let data = value as? Data { return (Self.binary(data), []) }
        if let bytes = Self.directScalar(value) { return (bytes, []) }
        let context = EncodingContext()
        let root = EncodingSlot()
        try ValueEncoder(slot: root, context: context, codingPath: []).encodeValue(value)
        let writer = MessagePackWriter()
        root.write(to: writer)
        return (writer.data(), context.references)
    }

    /// Encodes an argument list (a MessagePack array). Lists of plain scalars and task references — the common
    /// case, one per task — are written straight to the packer, without building a tree of slots.
    ///
    /// - Returns: the bytes and the referenced keys, in order of first appearance.
    public func encodeList(_ values: [any Encodable]) throws -> (bytes: Data, references: [TaskKey]) {
        let writer = MessagePackWriter()
        writer.writeArrayHeader(values.count)
        var references: [TaskKey] = []
        for value in values {
            if let reference = value as? any TaskReferenceValue {
                let key = reference.referencedKey
                writer.writeExtension(type: MessagePackExtension.taskReference, Data(key.rawValue.utf8))
                if !references.contains(key) { references.append(key) }
            } else if !Self.writeScalar(value, to: writer) {
                return try encodeWithReferences(EncodableList(values: values))
            }
        }
        return (writer.data(), references)
    }

    /// Writes `value` if it is a plain scalar; returns false otherwise.
    static func writeScalar(_ value: Any, to writer: MessagePackWriter) -> Bool {
        switch value {
        case let value as Int: writer.write(value)
        case let value as Int64: writer.write(value)
        case let value as UInt64: writer.write(value)
        case let value as Double: writer.write(value)
        case let value as Bool: writer.write(value)
        case let value as String: writer.write(value)
        default: return false
        }
        return true
    }

    /// The bytes of a plain scalar, or nil for anything else.
    static func directScalar(_ value: Any) -> Data? {
        let writer = MessagePackWriter()
        return writeScalar(value, to: writer) ? writer.data() : nil
    }

    /// A top-level binary: its header, then the bytes, copied once (the general path copies a large value into
    /// the packer's growing buffer and then out of it).
    static func binary(_ data: Data) -> Data {
        let writer = MessagePackWriter()
        writer.writeBinaryHeader(data.count)
        var out = Data(capacity: writer.count + data.count)
        out.append(writer.data())
        out.append(data)
        return out
    }

    /// Encodes one value that must not contain task references.
    public func encode<T: Encodable>(_ value: T) throws -> Data {
        try encodeWithReferences(value).bytes
    }
}

/// Application extension types used by ZFlow inside MessagePack values.
public enum MessagePackExtension {
    /// A reference to another task's result; the payload is the key's UTF-8 bytes.
    public static let taskReference: Int8 = 1
}

/// A value that stands for another task's result inside arguments (a `Future`).
public protocol TaskReferenceValue {
    /// The referenced task's key.
    var referencedKey: TaskKey { get }
}

/// A heterogeneous list, encoded as an array.
struct EncodableList: Encodable {
    let values: [any Encodable]
    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for value in values { try container.encode(value) }
    }
}

/// An encoder that can write a task reference; `Future` checks for it in `encode(to:)`.
public protocol TaskReferenceEncoder: Encoder {
    /// Writes a reference to the result of `key` in place of a value.
    func encodeReference(_ key: TaskKey)
}

final class EncodingContext {
    var references: [TaskKey] = []
    var seen: Set<TaskKey> = []
}

/// One value under construction; containers append their children's slots in place.
final class EncodingSlot {
    enum Kind { case scalar, array, map }
    var kind = Kind.scalar
    var scalar = MessagePackScalar.nil
    /// Array elements, or map values (paired with `keys`).
    var items: [EncodingSlot] = []
    /// Map keys, one per item.
    var keys: [String] = []

    func write(to writer: MessagePackWriter) {
        switch kind {
        case .scalar: scalar.write(to: writer)
        case .array:
            writer.writeArrayHeader(items.count)
            for item in items { item.write(to: writer) }
        case .map:
            writer.writeMapHeader(items.count)
            for (key, item) in zip(keys, items) {
                writer.write(key)
                item.write(to: writer)
            }
        }
    }
}

/// A MessagePack value without children.
enum MessagePackScalar {
    case `nil`, bool(Bool), int(Int64), uint(UInt64), double(Double), float(Float), string(String), binary(Data)
    case ext(Int8, Data)

    func write(to writer: MessagePackWriter) {
        switch self {
        case .nil: writer.writeNil()
        case .bool(let value): writer.write(value)
        case .int(let value): writer.write(value)
        case .uint(let value): writer.write(value)
        case .double(let value): writer.write(value)
        case .float(let value): writer.write(value)
        case .string(let value): writer.write(value)
        case .binary(let value): writer.writeBinary(value)
        case .ext(let type, let value): writer.writeExtension(type: type, value)
        }
    }
}

struct ValueEncoder: TaskReferenceEncoder {
    let slot: EncodingSlot
    let context: EncodingContext
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func encodeReference(_ key: TaskKey) {
        slot.scalar = .ext(MessagePackExtension.taskReference, Data(key.rawValue.utf8))
        if context.seen.insert(key).inserted { context.references.append(key) }
    }

    func encodeValue<T: Encodable>(_ value: T) throws {
        if let data = value as? Data {
            slot.scalar = .binary(data)
        } else {
            try value.encode(to: self)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        slot.kind = .map
        return KeyedEncodingContainer(KeyedContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        slot.kind = .array
        return UnkeyedContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueContainer(encoder: self) }

    func child(_ key: any CodingKey) -> ValueEncoder {
        ValueEncoder(slot: EncodingSlot(), context: context, codingPath: codingPath + [key])
    }

    struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoder: ValueEncoder
        var codingPath: [any CodingKey] { encoder.codingPath }

        private func add(_ key: Key, _ child: EncodingSlot) {
            encoder.slot.keys.append(key.stringValue)
            encoder.slot.items.append(child)
        }
        mutating func encodeNil(forKey key: Key) throws {
            let child = EncodingSlot()
            add(key, child)
        }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            let child = encoder.child(key)
            try child.encodeValue(value)
            add(key, child.slot)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type, forKey key: Key
        ) -> KeyedEncodingContainer<NestedKey> {
            let child = encoder.child(key)
            add(key, child.slot)
            return child.container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = encoder.child(key)
            add(key, child.slot)
            return child.unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }
        mutating func superEncoder(forKey key: Key) -> any Encoder {
            let child = encoder.child(key)
            add(key, child.slot)
            return child
        }
    }

    struct UnkeyedContainer: UnkeyedEncodingContainer {
        let encoder: ValueEncoder
        var codingPath: [any CodingKey] { encoder.codingPath }
        var count: Int { encoder.slot.items.count }
        private func append() -> ValueEncoder {
            let child = encoder.child(IndexKey(count))
            encoder.slot.items.append(child.slot)
            return child
        }
        mutating func encodeNil() throws { _ = append() }
        mutating func encode<T: Encodable>(_ value: T) throws { try append().encodeValue(value) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
            -> KeyedEncodingContainer<NestedKey>
        { append().container(keyedBy: keyType) }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { append().unkeyedContainer() }
        mutating func superEncoder() -> any Encoder { append() }
    }

    struct SingleValueContainer: SingleValueEncodingContainer {
        let encoder: ValueEncoder
        var codingPath: [any CodingKey] { encoder.codingPath }
        private func set(_ scalar: MessagePackScalar) { encoder.slot.scalar = scalar }
        mutating func encodeNil() throws { set(.nil) }
        mutating func encode(_ value: Bool) throws { set(.bool(value)) }
        mutating func encode(_ value: String) throws { set(.string(value)) }
        mutating func encode(_ value: Double) throws { set(.double(value)) }
        mutating func encode(_ value: Float) throws { set(.float(value)) }
        mutating func encode(_ value: Int) throws { set(.int(Int64(value))) }
        mutating func encode(_ value: Int8) throws { set(.int(Int64(value))) }
        mutating func encode(_ value: Int16) throws { set(.int(Int64(value))) }
        mutating func encode(_ value: Int32) throws { set(.int(Int64(value))) }
        mutating func encode(_ value: Int64) throws { set(.int(value)) }
        mutating func encode(_ value: UInt) throws { set(.uint(UInt64(value))) }
        mutating func encode(_ value: UInt8) throws { set(.uint(UInt64(value))) }
        mutating func encode(_ value: UInt16) throws { set(.uint(UInt64(value))) }
        mutating func encode(_ value: UInt32) throws { set(.uint(UInt64(value))) }
        mutating func encode(_ value: UInt64) throws { set(.uint(value)) }
        mutating func encode<T: Encodable>(_ value: T) throws { try encoder.encodeValue(value) }
    }
}

/// A coding key for array positions.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}
