import Foundation
import Testing
import ZFlowCore
import ZFlowWire

/// A stand-in for `Future`: a reference to another task's result.
private struct Reference: Encodable, TaskReferenceValue {
    let referencedKey: TaskKey
    func encode(to encoder: any Encoder) throws {
        (encoder as! any TaskReferenceEncoder).encodeReference(referencedKey)
    }
}

private struct Point: Encodable {
    let x: Int
    let y: Int
}

@Suite("Argument lists")
struct ArgumentListEncodingTests {
    @Test func theDirectPathWritesTheSameBytesAsTheGeneralOne() throws {
        let values: [any Encodable] = [1, -7, "text", 2.5, true, Reference(referencedKey: "a"), Reference(referencedKey: "a")]
        let direct = try MessagePackEncoder().encodeList(values)
        let general = try MessagePackEncoder().encodeWithReferences(values.map(AnyEncodable.init))
        #expect(direct.bytes == general.bytes)
        #expect(direct.references == ["a"])
    }

    @Test func nonScalarArgumentsFallBackToTheGeneralPath() throws {
        let values: [any Encodable] = [Point(x: 1, y: 2), [Reference(referencedKey: "b")]]
        let encoded = try MessagePackEncoder().encodeList(values)
        #expect(encoded.references == ["b"])
        let pinned = PinnedBytes(encoded.bytes)
        let reader = MessagePackReader()
        let object = try reader.unpack(pinned.buffer)
        #expect(object.arrayCount == 2)
        #expect(object.element(0)["x"]?.int64 == 1 && object.element(0)["y"]?.int64 == 2)
        withExtendedLifetime((pinned, reader)) {}
    }
}

/// Type erasure so the general path encodes the same heterogeneous list.
private struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
