import Foundation
import Testing
import ZFlowCore

@testable import ZFlow

/// A fresh directory under the temporary directory for one test.
private func scratchDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("zflow-store-test-\(UUID().uuidString)")
}

private func payload(_ byte: UInt8, _ count: Int) -> Payload { Payload(Data(repeating: byte, count: count)) }

/// The worker's result store spilling to a real directory.
@Suite("Result store: spilling to disk")
struct ResultStoreTests {
    /// Above the target, the least recently used results go to disk; memory stays at or under the target.
    @Test func leastRecentlyUsedResultsSpillAboveTheTarget() {
        var store = ResultStore(targetBytes: 100, directory: scratchDirectory())
        defer { store.removeAll() }
        store.put("a", payload(1, 60))
        store.put("b", payload(2, 60))
        #expect(store.memoryBytes == 60 && store.spilledBytes == 60 && store.spilledKeys == 1)
        _ = store.get("b")
        store.put("c", payload(3, 60))
        #expect(store.memoryBytes == 60, "only the newest stays in memory")
        #expect(store.spilledBytes == 120 && store.count == 3)
        #expect(store.spillCount == 2)
    }

    /// Reading a spilled result brings back the same bytes (and spills the least recently used instead).
    @Test func aSpilledResultReadsBackIntact() {
        var store = ResultStore(targetBytes: 100, directory: scratchDirectory())
        defer { store.removeAll() }
        store.put("a", payload(1, 60))
        store.put("b", payload(2, 60))
        #expect(store.get("a") == payload(1, 60))
        #expect(store.get("b") == payload(2, 60))
        #expect(store.memoryBytes == 60 && store.spilledBytes == 60)
        #expect(store.contains("a") && store.contains("b"))
    }

    /// Removing a spilled result deletes its file; `removeAll` deletes the directory.
    @Test func removingDeletesFiles() throws {
        let directory = scratchDirectory()
        var store = ResultStore(targetBytes: 10, directory: directory)
        store.put("a", payload(1, 20))
        store.put("b", payload(2, 20))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 1)
        store.remove("a")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        #expect(store.spilledBytes == 0 && !store.contains("a"))
        store.removeAll()
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }

    /// A spill file that vanished is reported missing (the scheduler then recomputes), with a disk error noted.
    @Test func anUnreadableSpillFileIsMissing() throws {
        let directory = scratchDirectory()
        var store = ResultStore(targetBytes: 10, directory: directory)
        defer { store.removeAll() }
        store.put("a", payload(1, 20))
        store.put("b", payload(2, 20))
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            try FileManager.default.removeItem(at: directory.appendingPathComponent(file))
        }
        #expect(store.get("a") == nil)
        #expect(store.lastDiskError != nil)
        #expect(!store.contains("a"))
    }

    /// Without a target nothing is spilled, and one result larger than the target stays in memory.
    @Test func noTargetNeverSpillsAndTheNewestIsKept() {
        var unlimited = ResultStore(targetBytes: nil, directory: scratchDirectory())
        unlimited.put("a", payload(1, 1000))
        unlimited.put("b", payload(1, 1000))
        #expect(unlimited.spilledKeys == 0)
        var small = ResultStore(targetBytes: 10, directory: scratchDirectory())
        defer { small.removeAll() }
        small.put("big", payload(1, 1000))
        #expect(small.memoryBytes == 1000 && small.spilledKeys == 0)
    }
}

@Suite("Memory limit parsing")
struct MemoryLimitTests {
    /// Sizes with units, plain bytes, fractions and `none`; anything else is refused.
    @Test func acceptedForms() {
        #expect(MemoryLimit(parsing: "64MiB") == .bytes(64 << 20))
        #expect(MemoryLimit(parsing: "2GB") == .bytes(2_000_000_000))
        #expect(MemoryLimit(parsing: "8e9") == .bytes(8_000_000_000))
        #expect(MemoryLimit(parsing: "512 KiB") == .bytes(512 << 10))
        #expect(MemoryLimit(parsing: "0.5") == .fraction(0.5))
        #expect(MemoryLimit(parsing: "none") == MemoryLimit.none)
        #expect(MemoryLimit(parsing: "0.5")?.bytes(physicalMemory: 1000) == 500)
        for bad in ["", "-1", "lots", "12XB", "MiB", "1e40"] { #expect(MemoryLimit(parsing: bad) == nil, "\(bad)") }
    }
}
