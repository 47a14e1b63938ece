import CMsgPack
import Foundation

/// Unpacks MessagePack bytes with msgpack-c into a zone that is reused from one call to the next.
///
/// Every input is first checked by `MessagePackBounds`, so hostile length prefixes cannot make msgpack-c
/// allocate more than a small multiple of the input. Objects from one `unpack` are invalid after the next.
public final class MessagePackReader {
    private let zone: UnsafeMutablePointer<msgpack_zone>

    /// Creates a reader with its own zone, allocated in chunks of `chunkSize` bytes (small for one-shot
    /// readers, larger for long-lived ones that unpack big batches).
    public init(chunkSize: Int = 8192) {
        zone = msgpack_zone_new(chunkSize)
    }

    deinit { msgpack_zone_free(zone) }

    /// Unpacks exactly one value from `bytes`.
    ///
    /// - Warning: the object lives in this reader's zone and points into `bytes`: keep both alive while using it.
    /// - Throws: a `WireError` naming what is wrong with the bytes.
    public func unpack(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> MessagePackObject {
        try MessagePackBounds.check(bytes)
        msgpack_zone_clear(zone)
        var object = msgpack_object()
        var offset = 0
        let status = bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { base in
            msgpack_unpack(base, bytes.count, &offset, zone, &object)
        }
        switch status {
        case MSGPACK_UNPACK_SUCCESS: return MessagePackObject(object)
        case MSGPACK_UNPACK_EXTRA_BYTES: throw .invalid("trailing bytes after the value")
        case MSGPACK_UNPACK_CONTINUE: throw .truncated
        case MSGPACK_UNPACK_NOMEM_ERROR: throw .invalid("out of memory while unpacking")
        default: throw .invalid("msgpack-c parse error")
        }
    }
}
