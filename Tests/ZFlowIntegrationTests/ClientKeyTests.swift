import Testing
import ZFlowCore

@testable import ZFlow

/// The keys a client makes for tasks it names itself.
@Suite("Client-made task keys")
struct ClientKeyTests {
    /// Base 62 round-trips through the digit order and pads to the width asked for.
    @Test func base62DigitsAndPadding() {
        #expect(KeyCounter.base62(0) == "0")
        #expect(KeyCounter.base62(61) == "Z")
        #expect(KeyCounter.base62(62) == "10")
        #expect(KeyCounter.base62(62 * 62 - 1) == "ZZ")
        #expect(KeyCounter.base62(35, width: 6) == "00000z")
        #expect(KeyCounter.base62(56_800_235_583, width: 6) == "ZZZZZZ")
    }

    /// Distinct counters give distinct digit strings (no two values share a key).
    @Test func base62IsInjectiveOverARange() {
        let strings = Set((0..<100_000 as Range<UInt64>).map { KeyCounter.base62($0) })
        #expect(strings.count == 100_000)
    }

    /// Keys a live client makes for `inc` are unique and short enough to be stored inline (≤ 15 UTF-8 bytes).
    @Test(.timeLimit(.minutes(1)))
    func keysOfShortFunctionNamesAreInlineStrings() async throws {
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let futures = try await client.map(StandardFunctions.inc, Array(0..<5000))
        let keys = futures.map(\.key.rawValue)
        #expect(Set(keys).count == keys.count)
        #expect(keys.allSatisfy { $0.hasPrefix("inc-") && $0.utf8.count <= 15 }, "\(keys.suffix(3))")
        #expect(try await client.gather(futures).last == 5000)
    }
}
