import Testing
@testable import ZFlowWords

/// `WordCountPlan`, the pure planner of a word count: the bytes a task should count (`targetBytes`) and how files
/// are cut into tasks (`tasks`): every byte of a file in exactly one segment, large files cut across tasks, small
/// files batched, files of unknown size alone, and no loop that cannot end.
@Suite("Word count plan")
struct WordCountPlanTests {
    static let mebibyte = 1 << 20

    // MARK: - targetBytes

    /// The target is never below 1 MiB (no bytes, negative bytes, small totals, many threads) and never above
    /// 64 MiB (however many bytes; `Int.max` does not overflow); between the bounds it is a fixed share of one
    /// thread's bytes: proportional to the bytes, inversely proportional to the threads. No threads (or a negative
    /// count) count as one thread.
    @Test func targetBytesLiesBetween1MiBAnd64MiBAndTreatsNoThreadsAsOne() {
        let mib = Self.mebibyte
        // The floor.
        #expect(WordCountPlan.targetBytes(totalBytes: 0, threads: 4) == mib)
        #expect(WordCountPlan.targetBytes(totalBytes: -1, threads: 1) == mib)
        #expect(WordCountPlan.targetBytes(totalBytes: 0, threads: 0) == mib)
        #expect(WordCountPlan.targetBytes(totalBytes: 3_000_000, threads: 2) == mib)
        #expect(WordCountPlan.targetBytes(totalBytes: 10_000_000, threads: 3) == mib)
        #expect(WordCountPlan.targetBytes(totalBytes: 4 * mib + 3, threads: 1) == mib)
        #expect(WordCountPlan.targetBytes(totalBytes: 1 << 36, threads: 1 << 30) == mib, "many threads: the floor")
        // Never more than `maximumTasks` tasks, even past the cap (a huge or sparse file).
        #expect(WordCountPlan.targetBytes(totalBytes: 1 << 40, threads: 1 << 30) == (1 << 40) / WordCountPlan.maximumTasks)
        #expect(WordCountPlan.targetBytes(totalBytes: Int.max, threads: 1) == Int.max / WordCountPlan.maximumTasks)
        #expect(WordCountPlan.targetBytes(totalBytes: Int.max, threads: 0) == Int.max / WordCountPlan.maximumTasks)
        // The cap.
        #expect(WordCountPlan.targetBytes(totalBytes: 1 << 30, threads: 1) == 64 * mib)
        #expect(WordCountPlan.targetBytes(totalBytes: 1 << 40, threads: 8) == 64 * mib)
        // Between them: 400 MiB over 4 threads is well inside for a share of a quarter or an eighth of a thread's
        // bytes (the documented "about eight tasks a thread" gives 12.5 MiB).
        let base = WordCountPlan.targetBytes(totalBytes: 400 * mib, threads: 4)
        #expect(base > mib && base <= 25 * mib, "\(base)")
        #expect(WordCountPlan.targetBytes(totalBytes: 800 * mib, threads: 4) == 2 * base)
        #expect(WordCountPlan.targetBytes(totalBytes: 400 * mib, threads: 8) == base / 2)
        #expect(WordCountPlan.targetBytes(totalBytes: 100 * mib, threads: 1) == base)
        // No threads, or fewer than none: as one thread.
        #expect(WordCountPlan.targetBytes(totalBytes: 100 * mib, threads: 0) == base)
        #expect(WordCountPlan.targetBytes(totalBytes: 100 * mib, threads: -3) == base)
    }

    // MARK: - tasks: coverage

    /// For random lists of files (sizes from 0 to three targets, some unknown) and small targets, the plan covers
    /// every byte of every file of known size exactly once with its segments' nominal ranges
    /// `[offset, offset + length)` (the last segment of a file has length `Int.max`, for "to the end"), keeps the
    /// segments of a file in offset order and the files of known size in their order, never puts a file twice in
    /// one task, gives each file of unknown size a task of its own, and fills every task of known-size files to
    /// exactly the target but the last (which holds at most the target).
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func everyByteOfEveryFileIsInExactlyOneSegment(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let target = [1, 2, 7, 100, 4096][random.next(5)]
        let files = (0..<1 + random.next(40)).map { index -> WordCountPlan.File in
            let kind = random.next(10)
            let size: Int? = kind == 0 ? nil : kind == 1 ? 0 : random.next(3 * target + 2)
            return WordCountPlan.File(path: "f\(index)", size: size)
        }
        let tasks = WordCountPlan.tasks(files, targetBytes: target)
        expectValidPlan(tasks, files: files, target: target)
    }

    /// Sizes that are exact multiples of the target, one byte short of them and one byte past them: the same
    /// coverage and task sizes as in the random plans.
    @Test func sizesAtTheTargetsMultiplesAreCoveredExactlyOnce() {
        for target in [1, 3, 64] {
            let sizes = [target, target - 1, target + 1, 2 * target, 2 * target - 1, 2 * target + 1, 0, target]
            let files = sizes.enumerated().map { WordCountPlan.File(path: "f\($0.offset)", size: $0.element) }
            expectValidPlan(WordCountPlan.tasks(files, targetBytes: target), files: files, target: target)
        }
    }

    // MARK: - tasks: large files, small files, unknown sizes

    /// A 3.5 MiB file after a 100 KiB one, with a 1 MiB target: its first segment fills the small file's task, the
    /// next two are tasks of their own, and its last (to the end, `Int.max`) shares a task with the file after it.
    @Test func aFileLargerThanTheTargetIsCutIntoSegmentsOfDifferentTasks() {
        let mib = Self.mebibyte
        let files = [
            WordCountPlan.File(path: "s", size: 100 << 10), WordCountPlan.File(path: "b", size: 3 * mib + mib / 2),
            WordCountPlan.File(path: "t", size: 10),
        ]
        let tasks = WordCountPlan.tasks(files, targetBytes: mib)
        // Checked with a Python transcription of `tasks`.
        let expected: [[FileSegment]] = [
            [FileSegment(path: "s"), FileSegment(path: "b", offset: 0, length: 946_176)],
            [FileSegment(path: "b", offset: 946_176, length: 1_048_576)],
            [FileSegment(path: "b", offset: 1_994_752, length: 1_048_576)],
            [FileSegment(path: "b", offset: 3_043_328, length: .max), FileSegment(path: "t")],
        ]
        #expect(tasks == expected)
        #expect(tasks.filter { task in task.contains { $0.path == "b" } }.count == 4, "the big file is in four tasks")
        expectValidPlan(tasks, files: files, target: mib)
    }

    /// A file of exactly the target is one task (one segment, to the end), and the files after it start the next.
    @Test func aFileOfExactlyTheTargetIsOneTaskOfItsOwn() {
        let mib = Self.mebibyte
        let files = [
            WordCountPlan.File(path: "a", size: mib), WordCountPlan.File(path: "e", size: 0),
            WordCountPlan.File(path: "b", size: 5),
        ]
        let tasks = WordCountPlan.tasks(files, targetBytes: mib)
        #expect(tasks == [[FileSegment(path: "a")], [FileSegment(path: "e"), FileSegment(path: "b")]])
    }

    /// 1,000 files of 1 KiB (1000 KiB in all) with a 1 MiB target are one task of 1,000 whole-file segments in file
    /// order; 2,000 of them are two tasks, the first of 1,024 files (exactly 1 MiB), the second of the other 976.
    @Test func manySmallFilesAreBatchedIntoFewTasks() {
        let mib = Self.mebibyte
        let thousand = (0..<1000).map { WordCountPlan.File(path: "f\($0)", size: 1024) }
        let one = WordCountPlan.tasks(thousand, targetBytes: mib)
        #expect(one == [thousand.map { FileSegment(path: $0.path) }])

        let twoThousand = (0..<2000).map { WordCountPlan.File(path: "f\($0)", size: 1024) }
        let two = WordCountPlan.tasks(twoThousand, targetBytes: mib)
        #expect(two.map(\.count) == [1024, 976])
        #expect(two.joined().map(\.path) == twoThousand.map(\.path))
        #expect(two.joined().allSatisfy { $0.offset == 0 && $0.length == .max })
        expectValidPlan(two, files: twoThousand, target: mib)
    }

    /// A file of unknown size (nil) is one task of its own, one segment from offset 0 with length `Int.max`,
    /// whatever the target and whatever files surround it; it closes the batch before it, so files keep their order.
    @Test func filesOfUnknownSizeAreOneWholeFileTaskEach() {
        let alone = [WordCountPlan.File(path: "u", size: nil), WordCountPlan.File(path: "v", size: nil)]
        for target in [1, 1000, Self.mebibyte] {
            #expect(WordCountPlan.tasks(alone, targetBytes: target) == [[FileSegment(path: "u")], [FileSegment(path: "v")]])
        }
        let mixed = [
            WordCountPlan.File(path: "a", size: 10), WordCountPlan.File(path: "u", size: nil),
            WordCountPlan.File(path: "c", size: 10), WordCountPlan.File(path: "v", size: nil),
        ]
        let tasks = WordCountPlan.tasks(mixed, targetBytes: Self.mebibyte)
        #expect(tasks == [[FileSegment(path: "a")], [FileSegment(path: "u")], [FileSegment(path: "c")], [FileSegment(path: "v")]])
        expectValidPlan(tasks, files: mixed, target: Self.mebibyte)
    }

    /// Empty files get one whole-file segment each (offset 0, length `Int.max`, no bytes), batched with their
    /// neighbours; no files give no tasks.
    @Test func emptyFilesGetOneSegmentAndNoFilesGiveNoTasks() {
        let files = [WordCountPlan.File(path: "e1", size: 0), WordCountPlan.File(path: "e2", size: 0)]
        #expect(WordCountPlan.tasks(files, targetBytes: Self.mebibyte) == [[FileSegment(path: "e1"), FileSegment(path: "e2")]])
        #expect(WordCountPlan.tasks(files, targetBytes: 1) == [[FileSegment(path: "e1"), FileSegment(path: "e2")]])
        #expect(WordCountPlan.tasks([], targetBytes: Self.mebibyte).isEmpty)
        #expect(WordCountPlan.tasks([], targetBytes: 0).isEmpty)
    }

    /// Files of known size come out in their order, each one's segments in offset order, whatever their sizes.
    @Test func theOrderOfFilesIsKept() {
        let sizes = [5, 0, 17, 3, 40, 1, 0, 9]
        let files = sizes.enumerated().map { WordCountPlan.File(path: "z\(sizes.count - $0.offset)", size: $0.element) }
        for target in [1, 4, 10, 1000] {
            let segments = Array(WordCountPlan.tasks(files, targetBytes: target).joined())
            var firstAppearances: [String] = []
            for segment in segments where firstAppearances.last != segment.path { firstAppearances.append(segment.path) }
            #expect(firstAppearances == files.map(\.path), "target \(target)")
        }
    }

    /// A target of 0 or less is taken as one byte: a 3-byte file becomes three one-byte tasks (the plan ends; it
    /// does not loop on segments of length 0).
    @Test(arguments: [0, -5, Int.min])
    func aTargetOfZeroOrLessIsOneByte(target: Int) {
        let tasks = WordCountPlan.tasks([WordCountPlan.File(path: "a", size: 3)], targetBytes: target)
        #expect(
            tasks == [
                [FileSegment(path: "a", offset: 0, length: 1)], [FileSegment(path: "a", offset: 1, length: 1)],
                [FileSegment(path: "a", offset: 2, length: .max)],
            ])
    }
}

// MARK: - Checking a plan

/// Checks the invariants every plan keeps (see `everyByteOfEveryFileIsInExactlyOneSegment`).
private func expectValidPlan(
    _ tasks: [[FileSegment]], files: [WordCountPlan.File], target: Int, sourceLocation: SourceLocation = #_sourceLocation
) {
    let segments = Array(tasks.joined())
    let sizes = Dictionary(uniqueKeysWithValues: files.map { ($0.path, $0.size) })
    func knownSize(_ path: String) -> Int? { sizes[path] ?? nil }
    #expect(tasks.allSatisfy { !$0.isEmpty }, "no empty task", sourceLocation: sourceLocation)
    #expect(segments.allSatisfy { sizes[$0.path] != nil }, "only the files given", sourceLocation: sourceLocation)
    for task in tasks {
        #expect(
            Set(task.map(\.path)).count == task.count, "a file at most once in a task: \(task)", sourceLocation: sourceLocation)
    }

    var byPath: [String: [FileSegment]] = [:]
    for segment in segments { byPath[segment.path, default: []].append(segment) }
    for file in files {
        let own = byPath[file.path] ?? []
        guard let size = file.size else {
            #expect(own == [FileSegment(path: file.path)], "\(file.path): one whole-file segment", sourceLocation: sourceLocation)
            #expect(
                tasks.contains([FileSegment(path: file.path)]), "\(file.path): a task of its own", sourceLocation: sourceLocation)
            continue
        }
        guard let first = own.first, let last = own.last else {
            Issue.record("\(file.path) (\(size) bytes) has no segment", sourceLocation: sourceLocation)
            continue
        }
        // Contiguous nominal ranges from 0, the last one to the end and starting inside the file: every byte once.
        #expect(first.offset == 0, "\(file.path) starts at 0", sourceLocation: sourceLocation)
        #expect(last.length == .max, "\(file.path): the last segment reaches the end", sourceLocation: sourceLocation)
        #expect(
            last.offset < max(size, 1), "\(file.path): the last segment starts inside the file", sourceLocation: sourceLocation)
        for (segment, next) in zip(own, own.dropFirst()) {
            #expect(
                segment.length > 0 && segment.length != .max && segment.offset + segment.length == next.offset,
                "\(file.path): \(segment) then \(next)", sourceLocation: sourceLocation)
        }
        // The same, byte by byte, for files small enough to count.
        guard size <= 100_000 else { continue }
        var covered = [Int](repeating: 0, count: size)
        for segment in own {
            let end = segment.length == .max ? size : min(size, segment.offset + segment.length)
            for byte in min(segment.offset, end)..<end { covered[byte] += 1 }
        }
        let wrong = covered.indices.filter { covered[$0] != 1 }
        #expect(wrong.isEmpty, "\(file.path): bytes covered other than once: \(wrong.prefix(10))", sourceLocation: sourceLocation)
    }

    // Files of known size in their order (first appearances), each file's segments together in that order.
    var order: [String] = []
    for segment in segments where knownSize(segment.path) != nil && order.last != segment.path { order.append(segment.path) }
    let known = files.filter { $0.size != nil }.map(\.path)
    #expect(order == known, "files of known size keep their order", sourceLocation: sourceLocation)

    // All files in their order, task after task (a file of unknown size closes the batch before it).
    var allOrder: [String] = []
    for segment in segments where allOrder.last != segment.path { allOrder.append(segment.path) }
    #expect(allOrder == files.map(\.path), "files keep their order", sourceLocation: sourceLocation)

    // Tasks of known-size files: exactly the target each, but the last before a file of unknown size and the
    // very last (at most the target).
    var runs: [[Int]] = [[]]
    for task in tasks {
        if task.allSatisfy({ knownSize($0.path) != nil }) {
            runs[runs.count - 1].append(task.reduce(0) { total, segment -> Int in
                let size = knownSize(segment.path) ?? 0
                return total + (segment.length == .max ? size - segment.offset : segment.length)
            })
        } else {
            runs.append([])
        }
    }
    let full = max(1, target)
    for taskBytes in runs {
        #expect(taskBytes.dropLast().allSatisfy { $0 == full }, "full tasks: \(taskBytes)", sourceLocation: sourceLocation)
        #expect(taskBytes.last.map { $0 <= full } ?? true, "the last task: \(taskBytes)", sourceLocation: sourceLocation)
    }
}
