import Foundation
import ZFlowCore

/// Decodes `Decodable` values from MessagePack, the inverse of `MessagePackEncoder`.
///
/// A task reference met where a value is expected is replaced by the referenced result, which the
/// `resolveReference` closure supplies (the worker passes the results it fetched for the task).
public struct MessagePackDecoder {
    /// Supplies the unpacked value of a referenced task's result.
    public typealias ReferenceResolver = (TaskKey) throws -> MessagePackObject

    private let cache = ReaderCache()

    /// Creates a decoder; one decoder reuses its unpacking zone for every `decode(_:from:)` call.
    public init() {}

    /// Decodes a value from bytes that contain no task references.
    ///
    /// - Throws: `WireError` for malformed bytes, `DecodingError` for a value of the wrong shape.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: Data) throws -> T {
        try bytes.withUnsafeBytes { raw in
            try decode(type, from: try cache.reader.unpack(raw), resolveReference: nil)
        }
    }

    /// Decodes a value from an unpacked object, resolving task references with `resolveReference`.
    ///
    /// - Parameter sources: the pinned buffers the object points into; large `Data` values inside them are
    ///   shared instead of copied.
    public func decode<T: Decodable>(
        _ type: T.Type, from object: MessagePackObject, resolveReference: ReferenceResolver?,
        sources: [PinnedBytes] = []
    ) throws -> T {
        try ValueDecoder(object: object, resolver: resolveReference, sources: sources, codingPath: []).decodeValue(type)
    }
}

/// The reader a decoder reuses, made on first use.
private final class ReaderCache {
    lazy var reader = MessagePackReader(chunkSize: 1024)
}

struct ValueDecoder: Decoder {
    let object: MessagePackObject
    let resolver: MessagePackDecoder.ReferenceResolver?
    let sources: [PinnedBytes]
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(
        object: MessagePackObject, resolver: MessagePackDecoder.ReferenceResolver?, sources: [PinnedBytes],
        codingPath: [any CodingKey]
    ) throws {
        self.resolver = resolver
        self.sources = sources
        self.codingPath = codingPath
        if let (type, bytes) = object.extensionValue, type == MessagePackExtension.taskReference {
            let key = TaskKey(String(decoding: bytes, as: UTF8.self))
            guard let resolver else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: codingPath, debugDescription: "unresolved reference to task '\(key)'"))
            }
            self.object = try resolver(key)
        } else {
            self.object = object
        }
    }

    func mismatch(_ expected: String) -> DecodingError {
        DecodingError.typeMismatch(
            Any.self,
            .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(object.typeName)"))
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if type == Data.self {
            guard let bytes = object.binaryBytes else { throw mismatch("binary") }
            for source in sources {
                if let shared = source.sharedData(bytes) { return shared as! T }
            }
            return Data(bytes) as! T
        }
        return try T(from: self)
    }

    func child(_ object: MessagePackObject, _ key: any CodingKey) throws -> ValueDecoder {
        try ValueDecoder(object: object, resolver: resolver, sources: sources, codingPath: codingPath + [key])
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let count = object.mapCount else { throw mismatch("map") }
        var values: [String: MessagePackObject] = [:]
        values.reserveCapacity(count)
        for index in 0..<count {
            let pair = object.pair(index)
            if let key = pair.key.string {
                values[key] = pair.value
            } else if let key = pair.key.int64 {
                values[String(key)] = pair.value
            }
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, values: values))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard object.arrayCount != nil else { throw mismatch("array") }
        return UnkeyedContainer(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleValueContainer(decoder: self) }

    struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let decoder: ValueDecoder
        let values: [String: MessagePackObject]
        var codingPath: [any CodingKey] { decoder.codingPath }
        var allKeys: [Key] { values.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { values[key.stringValue] != nil }
        func value(_ key: Key) throws -> MessagePackObject {
            guard let value = values[key.stringValue] else {
                throw DecodingError.keyNotFound(
                    key, .init(codingPath: codingPath, debugDescription: "no value for key '\(key.stringValue)'"))
            }
            return value
        }
        func decodeNil(forKey key: Key) throws -> Bool { try value(key).isNil }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try decoder.child(try value(key), key).decodeValue(type)
        }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey>
        { try decoder.child(try value(key), key).container(keyedBy: type) }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try decoder.child(try value(key), key).unkeyedContainer()
        }
        func superDecoder() throws -> any Decoder { decoder }
        func superDecoder(forKey key: Key) throws -> any Decoder { try decoder.child(try value(key), key) }
    }

    struct UnkeyedContainer: UnkeyedDecodingContainer {
        let decoder: ValueDecoder
        var currentIndex = 0
        var codingPath: [any CodingKey] { decoder.codingPath }
        var count: Int? { decoder.object.arrayCount }
        var isAtEnd: Bool { currentIndex >= (count ?? 0) }

        init(decoder: ValueDecoder) { self.decoder = decoder }

        mutating func next() throws -> ValueDecoder {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(
                    Any.self,
                    .init(codingPath: codingPath, debugDescription: "array has only \(count ?? 0) elements"))
            }
            defer { currentIndex += 1 }
            return try decoder.child(decoder.object.element(currentIndex), IndexKey(currentIndex))
        }
        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, decoder.object.element(currentIndex).isNil else { return false }
            currentIndex += 1
            return true
        }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
            -> KeyedDecodingContainer<NestedKey>
        { try next().container(keyedBy: type) }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try next().unkeyedContainer()
        }
        mutating func superDecoder() throws -> any Decoder { try next() }
    }

    struct SingleValueContainer: SingleValueDecodingContainer {
        let decoder: ValueDecoder
        var codingPath: [any CodingKey] { decoder.codingPath }
        var object: MessagePackObject { decoder.object }

        func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
            if let value = object.int64, let exact = T(exactly: value) { return exact }
            if let value = object.uint64, let exact = T(exactly: value) { return exact }
            if object.int64 != nil || object.uint64 != nil {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: codingPath, debugDescription: "integer does not fit in \(T.self)"))
            }
            throw decoder.mismatch("integer")
        }
        func decodeNil() -> Bool { object.isNil }
        func decode(_ type: Bool.Type) throws -> Bool {
            guard let value = object.bool else { throw decoder.mismatch("bool") }
            return value
        }
        func decode(_ type: String.Type) throws -> String {
            guard let value = object.string else { throw decoder.mismatch("string") }
            return value
        }
        func decode(_ type: Double.Type) throws -> Double {
            guard let value = object.double else { throw decoder.mismatch("number") }
            return value
        }
        func decode(_ type: Float.Type) throws -> Float {
            guard let value = object.double else { throw decoder.mismatch("number") }
            return Float(value)
        }
        func decode(_ type: Int.Type) throws -> Int { try integer(type) }
        func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
        func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
        func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
        func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
        func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
    }
}
