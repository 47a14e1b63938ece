import Foundation
import Testing
@testable import ZFlow
import ZFlowCore

// MARK: - Segments

/// The worker's reader, `FileWordCounting`: a file cut into segments at any offsets (inside words, inside UTF-8
/// scalars, inside the context of a Greek capital sigma, inside runs without a break byte longer than the cut
/// spacing and than the reader's 256 KiB buffer), each segment counted apart and the counts merged, gives exactly
/// the counts of the whole file: read by the same reader, and counted in memory by `WordCounts(counting:)`.
@Suite("Word count segments")
struct WordCountSegmentTests {
    /// Cutting a sample file at consecutive offsets (segment i from offset o_i with length o_{i+1} - o_i, the last
    /// with length `Int.max`) and counting each segment alone with its own counter, then merging, gives the same
    /// words, counts, total and distinct count as counting the file whole; so does counting all the segments in
    /// one call (one counter, one segment after the other).
    @Test(arguments: SegmentCutting.all)
    func countingSegmentsApartAndMergingEqualsCountingTheFileWhole(_ cutting: SegmentCutting) throws {
        let directory = try wordCountScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bytes = cutting.sample.bytes
        let file = directory.appendingPathComponent("\(cutting.sample.rawValue).txt")
        try Data(bytes).write(to: file)
        let offsets = cutting.offsets(fileSize: bytes.count)
        let segments = consecutiveSegments(path: file.path, offsets: offsets)
        #expect(segments.count == offsets.count && segments.last?.length == .max)

        let reference = try WordCounts(counting: try Data(contentsOf: file))
        let whole = try FileWordCounting.count([FileSegment(path: file.path)], readable: { $0 })
        var parts: [WordCounts] = []
        for segment in segments { parts.append(try FileWordCounting.count([segment], readable: { $0 })) }
        let apart = try WordCounts.merged(parts)
        let together = try FileWordCounting.count(segments, readable: { $0 })

        #expect(reference.totalWords > 0)
        expectSameWordCounts(whole, reference, "the whole file, read \(FileWordCounting.bufferBytes) bytes at a time")
        expectSameWordCounts(apart, reference, "\(segments.count) segments counted apart and merged")
        expectSameWordCounts(together, reference, "\(segments.count) segments counted in one call")
    }

    /// The hand-written sample has the words of the reference (`words()` of `shared/bench/dask_wordcount.py`, run on
    /// the same 189 bytes): final and non-final sigmas decided across `.`, `:`, `'`, a soft hyphen and invalid
    /// UTF-8 (read as U+FFFD), so that the cuttings above do cut through those contexts.
    @Test func theEdgeSampleHasTheReferenceWords() throws {
        let counts = try WordCounts(counting: SegmentCutting.Sample.edges.bytes)
        let expected: [(word: String, count: Int)] = [
            ("42", 1), ("cafe\u{301}", 1), ("caf\u{E9}", 2), ("don't", 1), ("end", 1), ("i\u{307}stanbul", 1),
            ("rock'n'roll", 1), ("stra\u{DF}e", 1), ("x2", 1), ("\u{3B1}\u{3B2}\u{3B3}", 1), ("\u{3B1}\u{3C2}", 2),
            ("\u{3B1}\u{3C3}", 2), ("\u{3B1}\u{3C3}'\u{3B2}", 1), ("\u{3B2}", 3), ("\u{3BF}\u{3B4}\u{3BF}\u{3C2}", 3),
            ("\u{3C3}", 1), ("\u{3C3}\u{3B1}\u{3C2}", 1), ("\u{43C}\u{43E}\u{441}\u{43A}\u{432}\u{430}", 1),
            ("\u{4E2D}\u{6587}", 1), ("\u{FB03}", 1),
        ]
        #expect(SegmentCutting.Sample.edges.bytes.count == 189)
        #expect(countedWords(counts) == expected.map { CountedWord(bytes: Array($0.word.utf8), count: $0.count) })
        #expect(counts.totalWords == 27 && counts.distinctWords == 20)
    }

    /// The generated samples hold what the cuttings are meant to cross: the large ones span more than two of the
    /// reader's buffers, one has a word longer than a buffer and ends inside a run without a break byte, and the
    /// small run sample has a run without a break byte longer than its cut spacings (but the file's size).
    @Test func theGeneratedSamplesHoldLongRunsAndSpanSeveralBuffers() throws {
        let buffer = FileWordCounting.bufferBytes
        #expect(SegmentCutting.Sample.mixed.bytes.count > 2 * buffer)
        #expect(SegmentCutting.Sample.longRuns.bytes.count > 2 * buffer)
        #expect(longestRunWithoutBreak(SegmentCutting.Sample.mixed.bytes) > 5000)
        #expect(longestRunWithoutBreak(SegmentCutting.Sample.longRuns.bytes) > buffer)
        #expect(SegmentCutting.Sample.longRuns.bytes.last.map(WordCounter.isBreak) == false, "the file ends inside a run")
        let longRunsCounts = try WordCounts(counting: SegmentCutting.Sample.longRuns.bytes)
        let longest = longRunsCounts.entries.map { $0.word.utf8.count }.max() ?? 0
        #expect(longest > buffer, "a word longer than the reader's buffer")
        #expect(longestRunWithoutBreak(SegmentCutting.Sample.breaklessRun.bytes) > 1000)
    }

    /// A segment of a file that cannot be opened (it does not exist) throws `FileReadFailed` naming the path, from
    /// offset 0 or further in, alone or after a readable file in the same call.
    @Test func aSegmentOfAMissingFileThrowsFileReadFailed() throws {
        let directory = try wordCountScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("missing.txt").path
        let present = directory.appendingPathComponent("present.txt")
        try Data("some words here".utf8).write(to: present)
        let batches = [
            [FileSegment(path: missing)], [FileSegment(path: missing, offset: 100, length: 10)],
            [FileSegment(path: present.path), FileSegment(path: missing)],
        ]
        for batch in batches {
            let error = #expect(throws: FileReadFailed.self) { try FileWordCounting.count(batch, readable: { $0 }) }
            #expect(error?.path == missing)
            #expect(error?.description.hasPrefix("cannot read \(missing): ") == true, "\(String(describing: error))")
        }
    }

    /// A segment with a negative offset (or length) throws `FileReadFailed` instead of reading from a wrong place.
    @Test func aNegativeOffsetOrLengthThrowsFileReadFailed() throws {
        let directory = try wordCountScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("present.txt").path
        try Data("some words here\n".utf8).write(to: URL(fileURLWithPath: path))
        let segments = [
            FileSegment(path: path, offset: -1, length: 10), FileSegment(path: path, offset: -1),
            FileSegment(path: path, offset: Int.min, length: 1), FileSegment(path: path, offset: 0, length: -1),
        ]
        for segment in segments {
            let error = #expect(throws: FileReadFailed.self, "\(segment)") {
                try FileWordCounting.count([segment], readable: { $0 })
            }
            #expect(error?.path == path)
            #expect(error?.reason.contains("must be >= 0") == true, "\(String(describing: error))")
        }
    }
}

/// One sample file and one way of cutting it into consecutive segments.
struct SegmentCutting: Sendable, CustomTestStringConvertible {
    /// The sample files.
    enum Sample: String, Sendable {
        /// 189 hand-written bytes: sigma contexts, multi-byte scalars, invalid UTF-8, CRLF.
        case edges
        /// About 1.2 KB without a break byte (words joined by `.`, `:`, `'`, `^`, soft hyphens, emoji, invalid
        /// bytes) between two short lines.
        case breaklessRun
        /// About 600 KB of generated text with runs of 2 to 20 KB without a break byte, two of them across the
        /// reader's buffer boundaries.
        case mixed
        /// About 530 KB: text, a word of 300 KiB, text, and a run of 100 KiB without a break byte to the end of the
        /// file.
        case longRuns

        /// The sample's bytes.
        var bytes: [UInt8] {
            switch self {
            case .edges: edgeSample
            case .breaklessRun: breaklessRunSample
            case .mixed: mixedSample
            case .longRuns: longRunsSample
            }
        }
    }

    /// Where the segments start.
    enum Cuts: Sendable, CustomStringConvertible {
        /// Every `spacing` bytes from 0.
        case every(Int)
        /// One segment: the file's size as the spacing.
        case fileSize
        /// At 0, 1, the last byte, the end of the file and past it (segments that read nothing).
        case ends
        /// One byte before, at and after the reader's buffer size and its multiples.
        case aroundBuffer
        /// Seeded random gaps: one in four of 1 to 16 bytes, the others of 1 to `maxGap` bytes.
        case random(seed: UInt64, maxGap: Int)

        var description: String {
            switch self {
            case .every(let spacing): "every \(spacing) bytes"
            case .fileSize: "every file size"
            case .ends: "at the ends"
            case .aroundBuffer: "around the buffer size"
            case .random(let seed, let maxGap): "random gaps up to \(maxGap) bytes, seed \(seed)"
            }
        }
    }

    let sample: Sample
    let cuts: Cuts

    var testDescription: String { "\(sample.rawValue), \(cuts)" }

    /// The cuttings tested. Small spacings only on the small samples: a segment that starts inside a run without a
    /// break byte reads on to the run's end, so fine cuts of long runs cost a quadratic number of bytes.
    static let all: [SegmentCutting] = {
        let edges: [Cuts] = [
            .every(1), .every(2), .every(3), .every(7), .every(100), .fileSize, .ends, .random(seed: 1, maxGap: 16),
            .random(seed: 2, maxGap: 16), .random(seed: 3, maxGap: 16),
        ]
        let breaklessRun: [Cuts] = [.every(7), .every(100), .fileSize, .ends, .random(seed: 4, maxGap: 64)]
        // (One segment of a large sample, `.fileSize`, is what every case counts as `whole` already.)
        let mixed: [Cuts] = [.every(4096), .every(70_000), .ends, .aroundBuffer, .random(seed: 5, maxGap: 60_000)]
        let longRuns: [Cuts] = [.every(4096), .every(70_000), .ends, .aroundBuffer, .random(seed: 6, maxGap: 60_000)]
        var all: [SegmentCutting] = []
        all += edges.map { SegmentCutting(sample: .edges, cuts: $0) }
        all += breaklessRun.map { SegmentCutting(sample: .breaklessRun, cuts: $0) }
        all += mixed.map { SegmentCutting(sample: .mixed, cuts: $0) }
        all += longRuns.map { SegmentCutting(sample: .longRuns, cuts: $0) }
        return all
    }()

    /// The segments' offsets for a file of `size` bytes: strictly increasing, the first 0.
    func offsets(fileSize size: Int) -> [Int] {
        let candidates: [Int]
        switch cuts {
        case .every(let spacing):
            candidates = Array(stride(from: 0, to: max(size, 1), by: spacing))
        case .fileSize:
            candidates = Array(stride(from: 0, to: max(size, 1), by: max(size, 1)))
        case .ends:
            candidates = [0, 1, size - 1, size, size + 5]
        case .aroundBuffer:
            let buffer = FileWordCounting.bufferBytes
            let around = [buffer - 1, buffer, buffer + 1, 2 * buffer - 1, 2 * buffer, 2 * buffer + 1, 3 * buffer]
            candidates = [0] + around.filter { $0 < size }
        case .random(let seed, let maxGap):
            var random = WordSampleLCG(seed: seed)
            var starts = [0]
            while true {
                let gap = random.next(4) == 0 ? 1 + random.next(16) : 1 + random.next(maxGap)
                guard starts[starts.count - 1] + gap < size else { break }
                starts.append(starts[starts.count - 1] + gap)
            }
            candidates = starts
        }
        var offsets: [Int] = []
        for offset in candidates where offset >= 0 && offset > (offsets.last ?? -1) { offsets.append(offset) }
        return offsets
    }
}

/// Consecutive segments of `path` from `offsets` (strictly increasing, the first 0): each reaches the next one's
/// offset, the last has length `Int.max`.
private func consecutiveSegments(path: String, offsets: [Int]) -> [FileSegment] {
    offsets.indices.map { index in
        FileSegment(
            path: path, offset: offsets[index], length: index + 1 < offsets.count ? offsets[index + 1] - offsets[index] : .max)
    }
}

/// The longest run of bytes without a break byte (`WordCounter.isBreak`).
private func longestRunWithoutBreak(_ bytes: [UInt8]) -> Int {
    var longest = 0
    var run = 0
    for byte in bytes {
        run = WordCounter.isBreak(byte) ? 0 : run + 1
        longest = max(longest, run)
    }
    return longest
}

// MARK: - Cluster

/// `WordCountJob` on real processes (one scheduler, two workers, loopback): a corpus with a file large enough to be
/// cut into segments and many small files gives exactly the single-process count, and files inside a worker's data
/// directory are counted on that worker only.
///
/// `WordCountJob.run` takes no timeout: the suite's time limit is the deadline of its wait; every other wait
/// (`TestCluster.client()`, `waitForInfo`) has its own.
@Suite("Word count job on a cluster", .serialized, .timeLimit(.minutes(1)))
struct WordCountJobClusterTests {
    /// A 3 MB file (cut by the plan at 1 MiB and 2 MiB, with runs without a break byte across both cuts) and 300
    /// files of about 2 KB (batched), counted by two workers, give exactly the words, counts, total and distinct
    /// count of `countHere`; the result reports 301 files, their bytes, and the number of tasks the plan makes of
    /// them: more than one, far fewer than the files.
    @Test func aCutLargeFileAndBatchedSmallFilesCountExactlyAsOneProcessDoes() async throws {
        let directory = try wordCountScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var sizes: [String: Int] = [:]
        func save(_ name: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: directory.appendingPathComponent(name))
            sizes[name] = bytes.count
        }
        try save("big.txt", wordSampleText(seed: 21, bytes: 3_000_000, breaklessRunOdds: 20_000, straddling: [1 << 20, 2 << 20]))
        for index in 0..<300 { try save("small-\(1000 + index).txt", wordSampleText(seed: 1000 + UInt64(index), bytes: 2_000)) }
        let files = try WordCountJob.expand([directory.path])
        let fileSizes = files.map { sizes[URL(fileURLWithPath: $0).lastPathComponent] ?? -1 }
        let totalBytes = fileSizes.reduce(0, +)
        #expect(files.count == 301 && !fileSizes.contains(-1))

        let cluster = try await TestCluster(workers: 2, workerArguments: ["--allow-files", directory.path])
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        defer { client.close() }
        let result = try await WordCountJob.run(client, files: files)
        let expected = try WordCountJob.countHere(files)

        expectSameWordCounts(result.counts, expected, "the cluster's count")
        #expect(result.totalWords == expected.totalWords && result.distinctWords == expected.distinctWords)
        #expect(result.files == 301)
        #expect(result.bytes == totalBytes)
        // The plan for two threads: the target is 1 MiB, big.txt is cut into three segments (in three tasks), and
        // the small files fill the rest of its last task and one more.
        let target = WordCountPlan.targetBytes(totalBytes: totalBytes, threads: 2)
        let plan = WordCountPlan.tasks(zip(files, fileSizes).map { WordCountPlan.File(path: $0, size: $1) }, targetBytes: target)
        #expect(target == 1 << 20)
        #expect(plan.filter { task in task.contains { $0.path.hasSuffix("/big.txt") } }.count == 3)
        #expect(result.tasks == plan.count)
        #expect(result.tasks > 1 && result.tasks <= 10, "\(result.tasks) tasks for 301 files")
    }

    /// Files inside a worker's `--data-dir` (a 2.5 MB file cut into segments, and small files) are counted only by
    /// that worker, the other files by any worker, and the count equals `countHere`.
    ///
    /// The evidence that no data file was counted elsewhere is a permission, not a timing: the other worker may
    /// read only the shared directory, so a data-directory task placed on it would fail the job with
    /// `FileAccessRefused` (the test checks that it does, with one such task sent to it on purpose). The
    /// scheduler's records agree: the data-directory worker completed at least the data-directory tasks, and is
    /// the only one that reports a data directory.
    ///
    /// (`WordCountTests.aFileInAWorkersDataDirectoryIsCountedOnThatWorker` in CLITests.swift covers one small file
    /// through `zflow wordcount`: one task, nothing cut, no other files in the job.)
    @Test func filesInAWorkersDataDirectoryAreCountedOnlyByThatWorker() async throws {
        let root = try wordCountScratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        let shared = root.appendingPathComponent("shared")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
        var sizes: [String: Int] = [:]
        func save(_ url: URL, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: url)
            sizes[url.standardizedFileURL.path] = bytes.count
        }
        let big = wordSampleText(seed: 31, bytes: 2_500_000, straddling: [1 << 20, 2 << 20])
        try save(data.appendingPathComponent("big.txt"), big)
        for index in 0..<5 {
            try save(data.appendingPathComponent("small-\(index).txt"), wordSampleText(seed: 40 + UInt64(index), bytes: 2_000))
        }
        for index in 0..<20 {
            try save(shared.appendingPathComponent("s-\(index).txt"), wordSampleText(seed: 60 + UInt64(index), bytes: 2_000))
        }

        let cluster = try await TestCluster(workers: 0)
        defer { cluster.shutdown() }
        try cluster.startWorker(name: "w0", extra: ["--allow-files", shared.path])
        try cluster.startWorker(name: "w1", extra: ["--data-dir", data.path, "--allow-files", shared.path])
        let client = try await cluster.client()
        defer { client.close() }
        let files = try WordCountJob.expand([data.path, shared.path])
        #expect(files.count == 26)
        let result = try await WordCountJob.run(client, files: files)
        expectSameWordCounts(result.counts, try WordCountJob.countHere(files), "the cluster's count")
        #expect(result.files == 26 && result.bytes == sizes.values.reduce(0, +))

        // The plan: the data directory's files apart from the others, for two threads.
        let dataPrefix = data.standardizedFileURL.path + "/"
        let planned = files.map { WordCountPlan.File(path: $0, size: sizes[$0]) }
        let target = WordCountPlan.targetBytes(totalBytes: result.bytes, threads: 2)
        let dataTasks = WordCountPlan.tasks(planned.filter { $0.path.hasPrefix(dataPrefix) }, targetBytes: target)
        let otherTasks = WordCountPlan.tasks(planned.filter { !$0.path.hasPrefix(dataPrefix) }, targetBytes: target)
        #expect(dataTasks.count == 3, "big.txt cut in three")
        #expect(result.tasks == dataTasks.count + otherTasks.count)

        let allTasks = result.tasks + mergeTaskCount(leaves: result.tasks, fanIn: WordCountJob.mergeFanIn)
        let info = try await cluster.waitForInfo(client, "the scheduler records \(allTasks) completed tasks") { info in
            info.workers.reduce(0) { $0 + $1.tasksCompleted } >= UInt64(allTasks)
        }
        let w0 = info.workers.first { $0.name == "w0" }
        let w1 = info.workers.first { $0.name == "w1" }
        #expect(w1?.dataDirectory == data.standardizedFileURL.path)
        #expect(w0 != nil && w0?.dataDirectory == nil)
        #expect((w1?.tasksCompleted ?? 0) >= UInt64(dataTasks.count), "w1 counted the data directory: \(info.workers)")

        // The control: a data-directory file given to w0 does fail, so the job's success is evidence.
        let misplaced = try await client.submit(
            StandardFunctions.countWordsInFiles, [FileSegment(path: data.appendingPathComponent("big.txt").path)], workers: ["w0"])
        do {
            _ = try await misplaced.result(timeout: .seconds(10))
            Issue.record("w0 counted a file of w1's data directory")
        } catch let error as TaskError {
            #expect(error.typeName == "FileAccessRefused", "\(error)")
        }
    }
}

/// The merge tasks `WordCountJob.run` submits for `leaves` partial counts: a tree of `fanIn` parts a task, a lone
/// part passed up without a task.
private func mergeTaskCount(leaves: Int, fanIn: Int) -> Int {
    var level = leaves
    var merges = 0
    while level > 1 {
        merges += level / fanIn + (level % fanIn > 1 ? 1 : 0)
        level = (level + fanIn - 1) / fanIn
    }
    return merges
}

// MARK: - Sample texts

/// A 64-bit linear congruential generator (Knuth's MMIX constants): the same text on every run and platform.
private struct WordSampleLCG {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    /// A number in `0..<bound`.
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }
}

/// Words without a break byte: ASCII, precomposed and decomposed accents, expanding lower cases (İ, ẞ), CJK,
/// Cyrillic, Arabic-Indic digits, a lone combining mark, and Greek capitals with sigmas.
private let sampleWords: [[UInt8]] = [
    "the", "quick", "Brown", "FOX", "don't", "rock'n'roll", "x2", "42", "a", "I", "Caf\u{E9}", "CAF\u{C9}", "cafe\u{301}",
    "Stra\u{DF}e", "\u{1E9E}", "\u{130}stanbul", "\u{FB03}", "\u{4E2D}\u{6587}", "\u{65E5}\u{672C}\u{8A9E}",
    "\u{41C}\u{43E}\u{441}\u{43A}\u{432}\u{430}", "\u{661}\u{662}\u{663}", "na\u{EF}ve", "\u{3A9}", "ΟΔΟΣ", "ΑΣ", "Σ",
    "ΣΑΣ", "\u{3B1}\u{3B2}\u{3B3}", "\u{301}",
].map { Array($0.utf8) }

/// Separators that contain a break byte.
private let breakSeparators: [[UInt8]] = [
    " ", " ", " ", "\n", "\r\n", ", ", ". ", "; ", "\t", " - ", "_", "! ", "\"", "(",
].map { Array($0.utf8) }

/// Separators without a break byte: case-ignorable ASCII, a soft hyphen, a zero-width joiner, an emoji, and
/// invalid UTF-8 (a lone 0xFF, a truncated two-byte scalar, a surrogate, a truncated three-byte scalar, a scalar
/// above U+10FFFF).
private let nonBreakSeparators: [[UInt8]] = {
    let invalid: [[UInt8]] = [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80]]
    return [".", ":", "'", "^", "`", "\u{AD}", "\u{200D}", "\u{1F44D}"].map { Array($0.utf8) } + invalid
}()

/// Numbered ASCII words, `w0`…`w3999`.
private let numberedWords: [[UInt8]] = (0..<4000).map { Array("w\($0)".utf8) }

/// Numbered Greek words with a capital sigma before the digits (a final sigma: `λΣ7` is `λς7`), `λΣ0`…`λΣ499`.
private let numberedGreekWords: [[UInt8]] = (0..<500).map { Array("\u{3BB}\u{3A3}\($0)".utf8) }

/// Appends one word: a numbered ASCII word, a numbered Greek one, or one of `sampleWords`.
private func appendSampleWord(to text: inout [UInt8], _ random: inout WordSampleLCG) {
    switch random.next(4) {
    case 0: text += numberedWords[random.next(numberedWords.count)]
    case 1: text += numberedGreekWords[random.next(numberedGreekWords.count)]
    default: text += sampleWords[random.next(sampleWords.count)]
    }
}

/// At least `bytes` bytes of words joined by separators without a break byte.
private func breaklessRun(_ random: inout WordSampleLCG, bytes: Int) -> [UInt8] {
    var run: [UInt8] = []
    while run.count < bytes {
        appendSampleWord(to: &run, &random)
        run += nonBreakSeparators[random.next(nonBreakSeparators.count)]
    }
    return run
}

/// At least `bytes` bytes of words and separators (one separator in eight without a break byte); with
/// `breaklessRunOdds`, a run of 2 to 20 KB without a break byte once in that many words; and a 6 KB run without a
/// break byte from 3 KB before each offset of `straddling`.
private func wordSampleText(seed: UInt64, bytes: Int, breaklessRunOdds: Int = 0, straddling: [Int] = []) -> [UInt8] {
    var random = WordSampleLCG(seed: seed)
    var text: [UInt8] = []
    text.reserveCapacity(bytes + 64)
    var nextStraddle = 0
    while text.count < bytes {
        if nextStraddle < straddling.count && text.count >= straddling[nextStraddle] - 3000 {
            text += breaklessRun(&random, bytes: 6000)
            text += [0x20]
            nextStraddle += 1
        } else if breaklessRunOdds > 0 && random.next(breaklessRunOdds) == 0 {
            text += breaklessRun(&random, bytes: 2000 + random.next(18_000))
            text += [0x20]
        }
        appendSampleWord(to: &text, &random)
        text += random.next(8) == 0
            ? nonBreakSeparators[random.next(nonBreakSeparators.count)] : breakSeparators[random.next(breakSeparators.count)]
    }
    return text
}

/// 189 bytes by hand: sigmas before `.`, `:`, `'`, a soft hyphen and invalid bytes; accents precomposed and not;
/// İ (which lower-cases to two scalars), ß, a ligature, CJK, Cyrillic, an emoji, CRLF, invalid UTF-8.
private let edgeSample: [UInt8] = {
    var text = Array("ΟΔΟΣ. ΑΒΓ ΑΣ.Β ΑΣ'Β ΑΣ:Β ΣΑΣ Σ. ΟΔΟΣ\r\n".utf8)
    text += Array("Caf\u{E9} CAF\u{C9} cafe\u{301} Stra\u{DF}e \u{130}stanbul \u{FB03} don't rock'n'roll ".utf8)
    text += Array("\u{4E2D}\u{6587} \u{41C}\u{43E}\u{441}\u{43A}\u{432}\u{430} \u{1F44D} x2 42\r\n".utf8)
    text += [0xFF]
    text += Array("ΑΣ".utf8)
    text += [0xC3]
    text += Array("Β".utf8)
    text += [0xE2, 0x82]
    text += Array(" ΑΣ\u{AD} ΟΔΟΣ".utf8)
    text += [0xED, 0xA0, 0x80]
    text += Array("end\r\n\r\n".utf8)
    return text
}()

/// Two short lines around about 1.2 KB without a break byte.
private let breaklessRunSample: [UInt8] = {
    var random = WordSampleLCG(seed: 3)
    var text = Array("start ΟΔΟΣ. ΑΒΓ\r\n".utf8)
    text += breaklessRun(&random, bytes: 1200)
    text += Array(" ΑΣ.Β end\r\n".utf8)
    return text
}()

/// About 600 KB of generated text, with runs without a break byte across the reader's first two buffer boundaries.
private let mixedSample: [UInt8] = wordSampleText(
    seed: 5, bytes: 600_000, breaklessRunOdds: 8000,
    straddling: [FileWordCounting.bufferBytes, 2 * FileWordCounting.bufferBytes])

/// 40 KB of text, a word of 300 KiB (letters, some of them capital sigmas and accented) across the reader's first
/// buffer boundary, 80 KB of text, and 100 KiB without a break byte to the end of the file, across the second.
private let longRunsSample: [UInt8] = {
    var text = wordSampleText(seed: 7, bytes: 40_000) + [0x20]
    let letters = Array("abcdefghijklmnopqrstuvwxyz\u{3A3}\u{E9}ABC".utf8)
    var word: [UInt8] = []
    while word.count < 300 << 10 { word += letters }
    text += word + Array("\r\n".utf8)
    text += wordSampleText(seed: 8, bytes: 80_000) + [0x20]
    var random = WordSampleLCG(seed: 9)
    text += breaklessRun(&random, bytes: 100 << 10)
    return text
}()

// MARK: - Comparing counts

/// A word as its UTF-8 bytes, with its count.
private struct CountedWord: Equatable {
    let bytes: [UInt8]
    let count: Int
}

/// The entries of `counts` in byte order (compared as bytes: canonically equivalent spellings stay apart).
private func countedWords(_ counts: WordCounts) -> [CountedWord] {
    counts.entries.map { CountedWord(bytes: Array($0.word.utf8), count: $0.count) }
        .sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
}

/// Expects the same words with the same counts, the same total and the same distinct count; on a difference, names
/// the first few words that differ instead of printing every entry.
private func expectSameWordCounts(
    _ actual: WordCounts, _ expected: WordCounts, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    let actualWords = countedWords(actual)
    let expectedWords = countedWords(expected)
    let same =
        actualWords == expectedWords && actual.totalWords == expected.totalWords
        && actual.distinctWords == expected.distinctWords
    #expect(
        same, "\(what): \(actual) instead of \(expected); \(wordCountDifferences(actualWords, expectedWords))",
        sourceLocation: sourceLocation)
}

/// Up to five words whose counts differ, each shown by its first 24 scalars.
private func wordCountDifferences(_ actual: [CountedWord], _ expected: [CountedWord]) -> String {
    var counts: [[UInt8]: (actual: Int, expected: Int)] = [:]
    for word in actual { counts[word.bytes, default: (0, 0)].actual += word.count }
    for word in expected { counts[word.bytes, default: (0, 0)].expected += word.count }
    let differing = counts.filter { $0.value.actual != $0.value.expected }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    return differing.prefix(5).map { entry in
        let scalars = String(decoding: entry.key, as: UTF8.self).unicodeScalars
        let shown = scalars.prefix(24).map { $0.isASCII ? String($0) : "\\u{\(String($0.value, radix: 16, uppercase: true))}" }
        let word = "\"\(shown.joined())\"\(scalars.count > 24 ? "…" : "") (\(entry.key.count) bytes)"
        return "\(word): \(entry.value.actual) instead of \(entry.value.expected)"
    }.joined(separator: ", ")
}

/// A new directory under the system's temporary directory; the caller removes it.
private func wordCountScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("zflow-wordcount-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
