import Foundation
import Testing
import ZFlowWire

/// The fast path for flat argument arrays: every scalar format, and nil for anything it must leave to msgpack-c.
@Suite("Plain scalar arguments")
struct PlainScalarsTests {
    /// What the client's encoder writes for common values reads back as the same scalars.
    @Test func valuesTheEncoderWritesReadBack() throws {
        let encoded = try MessagePackEncoder().encodeList([
            0, 127, 128, 65_535, Int.max, -1, -32, -33, Int.min, 2.5, true, false, "", "héllo", String(repeating: "x", count: 300),
        ])
        #expect(
            PlainScalars.array(encoded.bytes) == [
                .unsigned(0), .unsigned(127), .unsigned(128), .unsigned(65_535), .unsigned(UInt64(Int.max)),
                .negative(-1), .negative(-32), .negative(-33), .negative(Int64.min), .double(2.5), .bool(true),
                .bool(false), .string(""), .string("héllo"), .string(String(repeating: "x", count: 300)),
            ])
    }

    /// Every integer and float format, written by hand; signed formats holding non-negative values read as
    /// unsigned, as msgpack-c reads them.
    @Test func everyNumericFormat() {
        let bytes: [UInt8] = [
            0x9c,  // array of 12
            0xcc, 0xff, 0xcd, 0x01, 0x00, 0xce, 0x00, 0x01, 0x00, 0x00,
            0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xd0, 0x80, 0xd1, 0xff, 0x00, 0xd2, 0x00, 0x00, 0x00, 0x05, 0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
            0xca, 0x3f, 0xc0, 0x00, 0x00, 0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18,
            0xc0, 0xd9, 0x01, 0x41,
        ]
        let values = PlainScalars.array(Data(bytes))
        #expect(
            values == [
                .unsigned(255), .unsigned(256), .unsigned(65_536), .unsigned(UInt64.max), .negative(-128),
                .negative(-256), .unsigned(5), .negative(-2), .double(1.5), .double(Double.pi), .null, .string("A"),
            ])
        #expect(values?[3].int64 == nil, "UInt64.max does not fit an Int64")
        #expect(values?[0].double == 255)
    }

    /// Nested values, binaries, extensions (futures), trailing bytes, truncation and a count larger than the
    /// input all fall back to the general path.
    @Test func anythingElseIsLeftToTheGeneralPath() {
        let cases: [[UInt8]] = [
            [0x91, 0x91, 0x01],  // nested array
            [0x91, 0x81, 0xa1, 0x61, 0x01],  // map
            [0x91, 0xc4, 0x01, 0x00],  // binary
            [0x91, 0xd4, 0x01, 0x00],  // fixext 1 (a future reference)
            [0x91, 0x01, 0x02],  // trailing byte
            [0x92, 0x01],  // truncated
            [0x91, 0xcd, 0x01],  // truncated uint16
            [0x91, 0xa5, 0x61],  // string longer than the input
            [0xdd, 0xff, 0xff, 0xff, 0xff],  // count larger than the input
            [0x01],  // not an array
            [],
        ]
        for bytes in cases { #expect(PlainScalars.array(Data(bytes)) == nil, "\(bytes)") }
    }

    /// A single result value: read alone, nothing after it; converted to the requested type only when it is
    /// one (a mismatch is nil, for the Codable decoder to report).
    @Test func aSingleValueAndItsConversions() throws {
        let seven = try MessagePackEncoder().encode(7)
        #expect(PlainScalars.value(seven) == .unsigned(7))
        #expect(PlainScalars.value(seven)?.value(as: Int.self) == 7)
        #expect(PlainScalars.value(seven)?.value(as: Double.self) == 7.0)
        #expect(PlainScalars.value(seven)?.value(as: String.self) == nil)
        #expect(PlainScalars.value(try MessagePackEncoder().encode(-3))?.value(as: Int.self) == -3)
        #expect(PlainScalars.value(try MessagePackEncoder().encode("x"))?.value(as: String.self) == "x")
        #expect(PlainScalars.value(try MessagePackEncoder().encode(true))?.value(as: Bool.self) == true)
        #expect(PlainScalars.value(Data([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))?.value(as: Int.self) == nil)
        #expect(PlainScalars.value(Data([0x01, 0x02])) == nil, "trailing byte")
        #expect(PlainScalars.value(Data([0x91, 0x01])) == nil, "an array is not a scalar")
        #expect(PlainScalars.value(try MessagePackEncoder().encode([1, 2]))?.value(as: Int.self) == nil)
    }
}
