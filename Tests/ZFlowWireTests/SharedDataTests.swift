import Foundation
import Testing
import ZFlowWire

/// Large binaries decoded from pinned buffers are shared with the buffer, not copied, and stay valid.
@Suite("Shared binaries")
struct SharedDataTests {
    @Test func largeBinaryIsSharedAndOutlivesItsDecoder() throws {
        let original = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let encoded = try MessagePackEncoder().encode(original)
        var decoded: Data?
        do {
            let pinned = PinnedBytes(encoded)
            let reader = MessagePackReader()
            let object = try reader.unpack(pinned.buffer)
            decoded = try MessagePackDecoder().decode(Data.self, from: object, resolveReference: nil, sources: [pinned])
            let start = try #require(decoded?.withUnsafeBytes { $0.baseAddress })
            let base = try #require(pinned.buffer.baseAddress)
            #expect(start >= base && start < base + pinned.buffer.count, "the value points into the pinned buffer")
        }
        #expect(decoded == original, "still valid after the pinned bytes and reader went out of scope")
        #expect(decoded?.startIndex == 0)
    }

    @Test func smallBinaryIsCopied() throws {
        let original = Data([1, 2, 3])
        let pinned = PinnedBytes(try MessagePackEncoder().encode(original))
        let reader = MessagePackReader()
        let object = try reader.unpack(pinned.buffer)
        #expect(try MessagePackDecoder().decode(Data.self, from: object, resolveReference: nil, sources: [pinned]) == original)
        withExtendedLifetime(reader) {}
        #expect(pinned.sharedData(pinned.buffer) == nil, "small buffers are never shared")
    }
}
