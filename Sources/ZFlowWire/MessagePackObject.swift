import CMsgPack
import Foundation

/// A read-only view of one unpacked MessagePack value.
///
/// Valid only while the `MessagePackReader` that produced it has not unpacked again and the input bytes
/// are alive: strings and binaries point into the input.
public struct MessagePackObject {
    /// The msgpack-c object.
    public let raw: msgpack_object

    /// Wraps a msgpack-c object.
    public init(_ raw: msgpack_object) { self.raw = raw }

    /// The MessagePack type's name, for error messages.
    public var typeName: String {
        switch raw.type {
        case MSGPACK_OBJECT_NIL: return "nil"
        case MSGPACK_OBJECT_BOOLEAN: return "bool"
        case MSGPACK_OBJECT_POSITIVE_INTEGER, MSGPACK_OBJECT_NEGATIVE_INTEGER: return "integer"
        case MSGPACK_OBJECT_FLOAT32, MSGPACK_OBJECT_FLOAT64: return "float"
        case MSGPACK_OBJECT_STR: return "string"
        case MSGPACK_OBJECT_ARRAY: return "array"
        case MSGPACK_OBJECT_MAP: return "map"
        case MSGPACK_OBJECT_BIN: return "binary"
        case MSGPACK_OBJECT_EXT: return "extension"
        default: return "unknown"
        }
    }

    /// True for nil.
    public var isNil: Bool { raw.type == MSGPACK_OBJECT_NIL }

    /// The boolean, if this is one.
    public var bool: Bool? { raw.type == MSGPACK_OBJECT_BOOLEAN ? raw.via.boolean : nil }

    /// The integer as `Int64`, if it is an integer that fits.
    public var int64: Int64? {
        switch raw.type {
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return raw.via.u64 <= UInt64(Int64.max) ? Int64(raw.via.u64) : nil
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return raw.via.i64
        default: return nil
        }
    }

    /// The integer as `UInt64`, if it is a non-negative integer.
    public var uint64: UInt64? {
        switch raw.type {
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return raw.via.u64
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return raw.via.i64 >= 0 ? UInt64(raw.via.i64) : nil
        default: return nil
        }
    }

    /// The number as `Double`, if it is a float or an integer.
    public var double: Double? {
        switch raw.type {
        case MSGPACK_OBJECT_FLOAT32, MSGPACK_OBJECT_FLOAT64: return raw.via.f64
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return Double(raw.via.u64)
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return Double(raw.via.i64)
        default: return nil
        }
    }

    /// The string's bytes, if this is a string (no copy).
    public var stringBytes: UnsafeRawBufferPointer? {
        guard raw.type == MSGPACK_OBJECT_STR else { return nil }
        return UnsafeRawBufferPointer(start: raw.via.str.ptr, count: Int(raw.via.str.size))
    }

    /// The string, if this is one (a copy; invalid UTF-8 is repaired).
    public var string: String? {
        guard let bytes = stringBytes else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The binary's bytes, if this is a binary (no copy).
    public var binaryBytes: UnsafeRawBufferPointer? {
        guard raw.type == MSGPACK_OBJECT_BIN else { return nil }
        return UnsafeRawBufferPointer(start: raw.via.bin.ptr, count: Int(raw.via.bin.size))
    }

    /// The extension's type and bytes, if this is an extension (no copy).
    public var extensionValue: (type: Int8, bytes: UnsafeRawBufferPointer)? {
        guard raw.type == MSGPACK_OBJECT_EXT else { return nil }
        return (raw.via.ext.type, UnsafeRawBufferPointer(start: raw.via.ext.ptr, count: Int(raw.via.ext.size)))
    }

    /// The number of elements, if this is an array.
    public var arrayCount: Int? { raw.type == MSGPACK_OBJECT_ARRAY ? Int(raw.via.array.size) : nil }

    /// Element `index` of an array; the caller checked `arrayCount`.
    public func element(_ index: Int) -> MessagePackObject { MessagePackObject(raw.via.array.ptr[index]) }

    /// The number of pairs, if this is a map.
    public var mapCount: Int? { raw.type == MSGPACK_OBJECT_MAP ? Int(raw.via.map.size) : nil }

    /// Pair `index` of a map; the caller checked `mapCount`.
    public func pair(_ index: Int) -> (key: MessagePackObject, value: MessagePackObject) {
        let pair = raw.via.map.ptr[index]
        return (MessagePackObject(pair.key), MessagePackObject(pair.val))
    }

    /// The value under a string key of a map, or nil when absent or when this is not a map.
    public subscript(key: String) -> MessagePackObject? {
        guard raw.type == MSGPACK_OBJECT_MAP else { return nil }
        var key = key
        return key.withUTF8 { wanted in
            for index in 0..<Int(raw.via.map.size) {
                let pair = raw.via.map.ptr[index]
                guard pair.key.type == MSGPACK_OBJECT_STR, Int(pair.key.via.str.size) == wanted.count else { continue }
                if wanted.count == 0 || memcmp(pair.key.via.str.ptr, wanted.baseAddress!, wanted.count) == 0 {
                    return MessagePackObject(pair.val)
                }
            }
            return nil
        }
    }
}
