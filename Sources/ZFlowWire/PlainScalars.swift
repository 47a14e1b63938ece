import Foundation

/// One MessagePack scalar, read in Swift without msgpack-c.
public enum PlainScalar: Equatable, Sendable {
    /// A non-negative integer (any integer format).
    case unsigned(UInt64)
    /// A negative integer.
    case negative(Int64)
    /// A float32 or float64.
    case double(Double)
    /// `true` or `false`.
    case bool(Bool)
    /// A UTF-8 string (invalid UTF-8 is repaired, as `MessagePackObject.string` does).
    case string(String)
    /// `nil`.
    case null

    /// The integer as `Int64`, if it is an integer that fits (as `MessagePackObject.int64`).
    public var int64: Int64? {
        switch self {
        case .unsigned(let value): return value <= UInt64(Int64.max) ? Int64(value) : nil
        case .negative(let value): return value
        default: return nil
        }
    }

    /// The number as `Double`, integers included (as `MessagePackObject.double`).
    public var double: Double? {
        switch self {
        case .double(let value): return value
        case .unsigned(let value): return Double(value)
        case .negative(let value): return Double(value)
        default: return nil
        }
    }

    /// The value as `Int`, `String`, `Double` or `Bool` when it is one (as the Codable decoder would read it);
    /// nil for other types and for a value of the wrong kind, which the decoder then reports precisely.
    public func value<T>(as type: T.Type) -> T? {
        switch (type, self) {
        case (is Int.Type, _): return int64.flatMap { Int(exactly: $0) } as? T
        case (is String.Type, .string(let text)): return text as? T
        case (is Double.Type, _): return double as? T
        case (is Bool.Type, .bool(let flag)): return flag as? T
        default: return nil
        }
    }
}

/// The fast path for task arguments that are a flat array of scalars (`inc(1)`, `add(2, 3)`): read straight
/// from the bytes, without msgpack-c's zone, unpacker and pinned copy that a tree of any shape needs — most of
/// a no-op task's cost on the worker. Anything else (nested values, binaries, futures, malformed bytes) is
/// nil, and the caller takes the general path, which also reports errors precisely.
public enum PlainScalars {
    /// The value when `bytes` hold exactly one scalar and nothing after it (a result such as `inc`'s); nil
    /// otherwise.
    public static func value(_ bytes: Data) -> PlainScalar? {
        bytes.withUnsafeBytes { raw in
            var reader = Reader(raw: raw)
            guard let value = reader.scalar(), reader.position == raw.count else { return nil }
            return value
        }
    }

    /// The elements when `bytes` hold exactly one array of scalars and nothing after it; nil otherwise.
    public static func array(_ bytes: Data) -> [PlainScalar]? {
        bytes.withUnsafeBytes { array($0) }
    }

    /// The elements when `raw` holds exactly one array of scalars and nothing after it; nil otherwise.
    public static func array(_ raw: UnsafeRawBufferPointer) -> [PlainScalar]? {
        var reader = Reader(raw: raw)
        // Each element takes at least one byte: a count beyond what is left is refused before allocating.
        guard let count = reader.arrayHeader(), count <= raw.count - reader.position else { return nil }
        var elements: [PlainScalar] = []
        elements.reserveCapacity(count)
        for _ in 0..<count {
            guard let element = reader.scalar() else { return nil }
            elements.append(element)
        }
        return reader.position == raw.count ? elements : nil
    }

    private struct Reader {
        let raw: UnsafeRawBufferPointer
        var position = 0

        mutating func bigEndian(_ width: Int) -> UInt64? {
            guard width <= raw.count - position else { return nil }
            var value: UInt64 = 0
            for offset in 0..<width { value = value << 8 | UInt64(raw[position + offset]) }
            position += width
            return value
        }

        mutating func arrayHeader() -> Int? {
            guard let first = bigEndian(1) else { return nil }
            switch first {
            case 0x90...0x9f: return Int(first & 0x0f)
            case 0xdc: return bigEndian(2).map { Int($0) }
            case 0xdd: return bigEndian(4).map { Int($0) }
            default: return nil
            }
        }

        mutating func string(_ length: UInt64) -> PlainScalar? {
            guard length <= UInt64(raw.count - position) else { return nil }
            let start = position
            position += Int(length)
            return .string(String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<position]), as: UTF8.self))
        }

        mutating func signed(_ width: Int) -> PlainScalar? {
            guard let bits = bigEndian(width) else { return nil }
            let shift = UInt64(64 - 8 * width)
            let value = Int64(bitPattern: bits << shift) >> Int64(shift)
            return value < 0 ? .negative(value) : .unsigned(UInt64(value))
        }

        mutating func scalar() -> PlainScalar? {
            guard let first = bigEndian(1) else { return nil }
            switch first {
            case 0x00...0x7f: return .unsigned(first)
            case 0xe0...0xff: return .negative(Int64(Int8(bitPattern: UInt8(first))))
            case 0xc0: return .null
            case 0xc2: return .bool(false)
            case 0xc3: return .bool(true)
            case 0xcc: return bigEndian(1).map { .unsigned($0) }
            case 0xcd: return bigEndian(2).map { .unsigned($0) }
            case 0xce: return bigEndian(4).map { .unsigned($0) }
            case 0xcf: return bigEndian(8).map { .unsigned($0) }
            case 0xd0: return signed(1)
            case 0xd1: return signed(2)
            case 0xd2: return signed(4)
            case 0xd3: return signed(8)
            case 0xca: return bigEndian(4).map { .double(Double(Float(bitPattern: UInt32($0)))) }
            case 0xcb: return bigEndian(8).map { .double(Double(bitPattern: $0)) }
            case 0xa0...0xbf: return string(first & 0x1f)
            case 0xd9: return bigEndian(1).flatMap { string($0) }
            case 0xda: return bigEndian(2).flatMap { string($0) }
            case 0xdb: return bigEndian(4).flatMap { string($0) }
            default: return nil
            }
        }
    }
}
