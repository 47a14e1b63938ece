import Foundation
import ZFlowCore

/// The results a worker holds: in memory, and on disk once memory passes its target.
///
/// Above `targetBytes` of results in memory, the least recently used are written to files in `directory` until
/// memory is back under the target; reading a spilled result loads it back (and may spill others). The most
/// recently used result is never spilled, so one result larger than the target stays in memory. A file that
/// cannot be written keeps its result in memory; one that cannot be read back is reported missing, and the
/// scheduler recomputes it.
struct ResultStore {
    private struct Resident {
        var payload: Payload
        var lastUse: UInt64
    }
    private var memory: [TaskKey: Resident] = [:]
    private var disk: [TaskKey: (file: URL, nbytes: UInt64)] = [:]
    private var clock: UInt64 = 0
    private var nextFile: UInt64 = 0
    /// Spill above this many bytes in memory; nil: never spill.
    let targetBytes: UInt64?
    /// Where spilled results go (created on first spill, removed by `removeAll`).
    let directory: URL
    /// Bytes of results in memory.
    private(set) var memoryBytes: UInt64 = 0
    /// Bytes of results on disk.
    private(set) var spilledBytes: UInt64 = 0
    /// Results written to disk since start.
    private(set) var spillCount: UInt64 = 0
    /// What went wrong last with the disk, for the log.
    private(set) var lastDiskError: String?

    init(targetBytes: UInt64?, directory: URL) {
        self.targetBytes = targetBytes
        self.directory = directory
    }

    /// Results held, in memory or on disk.
    var count: Int { memory.count + disk.count }
    /// Results on disk.
    var spilledKeys: Int { disk.count }
    /// Results in memory.
    var residentKeys: Int { memory.count }

    /// Whether `key` is held (in memory or on disk).
    func contains(_ key: TaskKey) -> Bool { memory[key] != nil || disk[key] != nil }

    /// Stores a result, then spills if memory is over the target.
    mutating func put(_ key: TaskKey, _ payload: Payload) {
        clock += 1
        if let old = memory.updateValue(Resident(payload: payload, lastUse: clock), forKey: key) {
            memoryBytes -= UInt64(old.payload.count)
        }
        memoryBytes += UInt64(payload.count)
        if !disk.isEmpty, let spilled = disk.removeValue(forKey: key) {
            spilledBytes -= spilled.nbytes
            try? FileManager.default.removeItem(at: spilled.file)
        }
        spillIfNeeded()
    }

    /// The result of `key`, loaded back from disk when it was spilled; nil when not held or unreadable.
    mutating func get(_ key: TaskKey) -> Payload? {
        clock += 1
        if let index = memory.index(forKey: key) {
            memory.values[index].lastUse = clock
            return memory.values[index].payload
        }
        guard !disk.isEmpty, let spilled = disk.removeValue(forKey: key) else { return nil }
        spilledBytes -= spilled.nbytes
        defer { try? FileManager.default.removeItem(at: spilled.file) }
        guard let bytes = try? Data(contentsOf: spilled.file), UInt64(bytes.count) == spilled.nbytes else {
            lastDiskError = "cannot read back \(spilled.file.path)"
            return nil
        }
        let payload = Payload(bytes)
        memory[key] = Resident(payload: payload, lastUse: clock)
        memoryBytes += UInt64(payload.count)
        spillIfNeeded()
        return payload
    }

    /// Drops a result wherever it is.
    mutating func remove(_ key: TaskKey) {
        if let resident = memory.removeValue(forKey: key) { memoryBytes -= UInt64(resident.payload.count) }
        if let spilled = disk.removeValue(forKey: key) {
            spilledBytes -= spilled.nbytes
            try? FileManager.default.removeItem(at: spilled.file)
        }
    }

    /// Drops everything and removes the spill directory.
    mutating func removeAll() {
        memory.removeAll()
        disk.removeAll()
        memoryBytes = 0
        spilledBytes = 0
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes least recently used results to disk until memory is under the target (keeping the newest).
    private mutating func spillIfNeeded() {
        guard let target = targetBytes, memoryBytes > target, memory.count > 1 else { return }
        let oldestFirst = memory.sorted { $0.value.lastUse < $1.value.lastUse }.dropLast()
        for (key, resident) in oldestFirst {
            guard memoryBytes > target else { break }
            guard resident.payload.count > 0 else { continue }
            do {
                if nextFile == 0 { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
                nextFile += 1
                let file = directory.appendingPathComponent("result-\(nextFile)")
                try resident.payload.bytes.write(to: file)
                memory.removeValue(forKey: key)
                memoryBytes -= UInt64(resident.payload.count)
                disk[key] = (file, UInt64(resident.payload.count))
                spilledBytes += UInt64(resident.payload.count)
                spillCount += 1
            } catch {
                lastDiskError = "cannot spill to \(directory.path): \(error)"
                return
            }
        }
    }
}
