/// A structural check of MessagePack bytes run before msgpack-c unpacks them.
///
/// msgpack-c allocates `count × 24` bytes as soon as it reads an array header, so five hostile bytes could
/// ask for gigabytes. This walk proves every container's declared count fits in the bytes that remain (each
/// element takes at least one byte), every string fits, and nesting stays within msgpack-c's stack, so the
/// unpacked tree is at most a small multiple of the input's size.
public enum MessagePackBounds {
    /// The deepest nesting accepted (msgpack-c's own stack holds 32 levels).
    public static let maximumDepth = 31

    /// Checks that `bytes` hold exactly one well-formed, bounded value.
    ///
    /// - Throws: `WireError.truncated`, `.lengthExceedsInput`, `.tooDeep` or `.invalid`.
    public static func check(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        let end = bytes.count
        var position = 0
        var pending: [UInt64] = [1]
        pending.reserveCapacity(8)

        func byte(_ at: Int) throws(WireError) -> UInt64 {
            guard at < end else { throw .truncated }
            return UInt64(bytes[at])
        }
        func bigEndian(_ at: Int, _ width: Int) throws(WireError) -> UInt64 {
            guard at + width <= end else { throw .truncated }
            var value: UInt64 = 0
            for index in 0..<width { value = value << 8 | UInt64(bytes[at + index]) }
            return value
        }
        func skip(_ length: UInt64, after header: Int) throws(WireError) {
            let start = position + header
            guard start <= end, length <= UInt64(end - start) else { throw .truncated }
            position = start + Int(length)
        }
        func open(_ elements: UInt64, after header: Int) throws(WireError) {
            position += header
            guard position <= end else { throw .truncated }
            let available = end - position
            guard elements <= UInt64(available) else {
                throw .lengthExceedsInput(declared: elements, available: available)
            }
            guard pending.count <= maximumDepth else { throw .tooDeep }
            if elements > 0 { pending.append(elements) }
        }

        while let last = pending.last {
            if last == 0 {
                pending.removeLast()
                continue
            }
            pending[pending.count - 1] = last - 1
            let lead = try byte(position)
            switch lead {
            case 0x00...0x7F, 0xE0...0xFF, 0xC0, 0xC2, 0xC3: position += 1
            case 0x80...0x8F: try open((lead & 0x0F) * 2, after: 1)
            case 0x90...0x9F: try open(lead & 0x0F, after: 1)
            case 0xA0...0xBF: try skip(lead & 0x1F, after: 1)
            case 0xC1: throw .invalid("reserved byte 0xc1 at offset \(position)")
            case 0xC4, 0xD9: try skip(try bigEndian(position + 1, 1), after: 2)
            case 0xC5, 0xDA: try skip(try bigEndian(position + 1, 2), after: 3)
            case 0xC6, 0xDB: try skip(try bigEndian(position + 1, 4), after: 5)
            case 0xC7: try skip(try bigEndian(position + 1, 1) + 1, after: 2)
            case 0xC8: try skip(try bigEndian(position + 1, 2) + 1, after: 3)
            case 0xC9: try skip(try bigEndian(position + 1, 4) + 1, after: 5)
            case 0xCA: try skip(4, after: 1)
            case 0xCB: try skip(8, after: 1)
            case 0xCC, 0xD0: try skip(1, after: 1)
            case 0xCD, 0xD1: try skip(2, after: 1)
            case 0xCE, 0xD2: try skip(4, after: 1)
            case 0xCF, 0xD3: try skip(8, after: 1)
            case 0xD4: try skip(2, after: 1)
            case 0xD5: try skip(3, after: 1)
            case 0xD6: try skip(5, after: 1)
            case 0xD7: try skip(9, after: 1)
            case 0xD8: try skip(17, after: 1)
            case 0xDC: try open(try bigEndian(position + 1, 2), after: 3)
            case 0xDD: try open(try bigEndian(position + 1, 4), after: 5)
            case 0xDE: try open(try bigEndian(position + 1, 2) * 2, after: 3)
            case 0xDF: try open(try bigEndian(position + 1, 4) * 2, after: 5)
            default: throw .invalid("unexpected byte \(lead) at offset \(position)")
            }
        }
        guard position == end else { throw .invalid("\(end - position) trailing bytes after the value") }
    }
}
