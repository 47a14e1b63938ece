import CMsgPack
import Foundation
import ZFlowCore

/// Appends MessagePack values to a growing buffer with msgpack-c's packer.
///
/// The buffer and packer live in allocated memory (the packer keeps a pointer to the buffer), and the
/// buffer is reused across `reset()` calls so a busy loop does not reallocate it.
public final class MessagePackWriter {
    private let buffer: UnsafeMutablePointer<msgpack_sbuffer>
    private let packer: UnsafeMutablePointer<msgpack_packer>

    /// Creates an empty writer.
    public init() {
        buffer = .allocate(capacity: 1)
        msgpack_sbuffer_init(buffer)
        // msgpack-c's first write would allocate 8 KiB; most values ZFlow packs (one task's arguments or
        // result) are tens of bytes, so start small and let the buffer double as needed.
        buffer.pointee.data = malloc(256)?.assumingMemoryBound(to: CChar.self)
        buffer.pointee.alloc = buffer.pointee.data == nil ? 0 : 256
        packer = .allocate(capacity: 1)
        cmsgpack_packer_init_sbuffer(packer, buffer)
    }

    deinit {
        msgpack_sbuffer_destroy(buffer)
        buffer.deallocate()
        packer.deallocate()
    }

    /// Bytes written since the last reset.
    public var count: Int { buffer.pointee.size }

    /// Forgets what was written, keeping the allocation.
    public func reset() { buffer.pointee.size = 0 }

    /// A copy of the bytes written.
    public func data() -> Data {
        guard let base = buffer.pointee.data, buffer.pointee.size > 0 else { return Data() }
        return Data(bytes: base, count: buffer.pointee.size)
    }

    /// Writes nil.
    public func writeNil() { msgpack_pack_nil(packer) }
    /// Writes a boolean.
    public func write(_ value: Bool) { _ = value ? msgpack_pack_true(packer) : msgpack_pack_false(packer) }
    /// Writes a signed integer in its smallest form.
    public func write(_ value: Int64) { msgpack_pack_int64(packer, value) }
    /// Writes a signed integer in its smallest form.
    public func write(_ value: Int) { msgpack_pack_int64(packer, Int64(value)) }
    /// Writes an unsigned integer in its smallest form.
    public func write(_ value: UInt64) { msgpack_pack_uint64(packer, value) }
    /// Writes a 64-bit float.
    public func write(_ value: Double) { msgpack_pack_double(packer, value) }
    /// Writes a 32-bit float.
    public func write(_ value: Float) { msgpack_pack_float(packer, value) }

    /// Writes a UTF-8 string.
    public func write(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            msgpack_pack_str(packer, utf8.count)
            if let base = utf8.baseAddress { msgpack_pack_str_body(packer, base, utf8.count) }
        }
    }

    /// Writes only the header of a binary of `count` bytes; the bytes must follow.
    public func writeBinaryHeader(_ count: Int) { msgpack_pack_bin(packer, count) }

    /// Writes a binary value.
    public func writeBinary(_ value: Data) {
        msgpack_pack_bin(packer, value.count)
        value.withUnsafeBytes { raw in
            if let base = raw.baseAddress, raw.count > 0 { msgpack_pack_bin_body(packer, base, raw.count) }
        }
    }

    /// Writes an extension value of application type `type`.
    public func writeExtension(type: Int8, _ value: Data) {
        msgpack_pack_ext(packer, value.count, type)
        value.withUnsafeBytes { raw in
            if let base = raw.baseAddress, raw.count > 0 { msgpack_pack_ext_body(packer, base, raw.count) }
        }
    }

    /// Writes an array header; `count` values must follow.
    public func writeArrayHeader(_ count: Int) { msgpack_pack_array(packer, count) }
    /// Writes a 5-byte array header whose count `patchArrayHeader(at:count:)` fills in later.
    ///
    /// - Returns: the offset to patch.
    public func writeArrayHeaderPlaceholder() -> Int {
        let offset = count
        msgpack_sbuffer_write(buffer, [CChar(bitPattern: 0xDD), 0, 0, 0, 0], 5)
        return offset
    }

    /// Fills in the count of a header written by `writeArrayHeaderPlaceholder()`.
    public func patchArrayHeader(at offset: Int, count elements: Int) {
        let base = buffer.pointee.data!
        let value = UInt32(elements)
        base[offset + 1] = CChar(bitPattern: UInt8(value >> 24))
        base[offset + 2] = CChar(bitPattern: UInt8((value >> 16) & 0xFF))
        base[offset + 3] = CChar(bitPattern: UInt8((value >> 8) & 0xFF))
        base[offset + 4] = CChar(bitPattern: UInt8(value & 0xFF))
    }

    /// Overwrites the count of a map header written as `writeMapHeader(0xFFFF)` (3 bytes, map16).
    public func patchMapHeader16(at offset: Int, count pairs: Int) {
        let base = buffer.pointee.data!
        base[offset + 1] = CChar(bitPattern: UInt8((pairs >> 8) & 0xFF))
        base[offset + 2] = CChar(bitPattern: UInt8(pairs & 0xFF))
    }

    /// Writes a map header; `count` key-value pairs must follow.
    public func writeMapHeader(_ count: Int) { msgpack_pack_map(packer, count) }
}
