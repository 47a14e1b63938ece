import Foundation
import Testing
import ZFlowCore
import ZFlowWire

/// Payloads sent in parts (`OperationWriter(chunkBytes:)`, used on CURVE connections): `[first frame, frames]`.
@Suite struct ChunkedPayloadTests {
    /// `count` bytes that differ at every offset modulo 251, so a misordered part shows.
    func pattern(_ count: Int) -> Data { Data((0..<count).map { UInt8($0 % 251) }) }

    @Test func aLargePayloadTravelsInPartsAndIsJoinedInOrder() throws {
        let big = pattern(3 * 8192 + 100)
        let message = PeerReply.data(found: [KeyedPayload(key: "a", payload: Payload(big)), KeyedPayload(key: "b", payload: Payload(pattern(9000)))], missing: [])
        let frames = OperationWriter.frames([message], chunkBytes: 8192)
        #expect(frames.count == 2 + 4 + 2, "signature, header, 4 parts of a, 2 of b")
        #expect(frames[2...].allSatisfy { $0.count <= 8192 })
        #expect(try OperationDecoder().decode(PeerReply.self, frames: frames) == [.success(message)])
        #expect(OperationWriter.frames([message]).count == 4, "without chunkBytes: one frame each")
    }

    @Test(arguments: [[0, 1], [1, 1], [2, 0], [2, 9], [9, 1], [2, UInt64.max]] as [[UInt64]])
    func aPartReferenceOutsideTheMessageIsRefused(reference: [UInt64]) throws {
        let writer = MessagePackWriter()
        writer.writeArrayHeader(1)
        writer.writeMapHeader(2)
        writer.write("op")
        writer.write("put-data")
        writer.write("data")
        writer.writeArrayHeader(1)
        writer.writeArrayHeader(2)
        writer.write("a")
        writer.writeArrayHeader(2)
        writer.write(reference[0])
        writer.write(reference[1])
        let frames = [Data(ProtocolVersion.signature), writer.data(), Data(count: 5000), Data(count: 5000)]
        let results = try OperationDecoder().decode(PeerRequest.self, frames: frames)
        guard case .failure? = results.first else {
            Issue.record("\(reference) must be refused, got \(results)")
            return
        }
    }

    @Test func framesJoinIntoOnePayloadOnly() throws {
        // Two items naming the same parts: a few header bytes must not make the receiver copy the frames twice.
        let writer = MessagePackWriter()
        writer.writeArrayHeader(1)
        writer.writeMapHeader(2)
        writer.write("op")
        writer.write("put-data")
        writer.write("data")
        writer.writeArrayHeader(2)
        for key in ["a", "b"] {
            writer.writeArrayHeader(2)
            writer.write(key)
            writer.writeArrayHeader(2)
            writer.write(UInt64(2))
            writer.write(UInt64(2))
        }
        let frames = [Data(ProtocolVersion.signature), writer.data(), Data(count: 5000), Data(count: 5000)]
        let results = try OperationDecoder().decode(PeerRequest.self, frames: frames)
        guard case .failure(.invalid(let why))? = results.first else {
            Issue.record("a second join of the same frames must be refused, got \(results)")
            return
        }
        #expect(why.contains("another payload"))
    }
}
