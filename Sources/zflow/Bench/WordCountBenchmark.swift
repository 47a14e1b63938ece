import Foundation
import ZFlow

/// `zflow bench wordcount`: the main job on a generated (or given) corpus, beside the limits of the same run.
struct WordCountBenchmark {
    /// Measured runs of the cluster job.
    let runs: Int
    /// The corpus directory to count (generated there first when it does not exist, and kept); nil: generate
    /// one under a temporary directory and remove it afterwards.
    let corpus: String?
    /// The size of a generated corpus, in 10^6 bytes.
    let megabytes: Int
    /// A Python interpreter with `distributed` installed, and the baseline script, to time in the same run.
    let python: (interpreter: String, script: String)?

    func run() async throws -> [BenchResult] {
        let directory = corpus ?? FileManager.default.temporaryDirectory.appendingPathComponent("zflow-wordcount-\(getpid())").path
        let generated = !FileManager.default.fileExists(atPath: directory)
        if generated {
            let start = ContinuousClock.now
            _ = try WordCountCorpus().write(megabytes: megabytes, into: directory)
            FileHandle.standardError.write(Data("bench wordcount: corpus of \(megabytes) MB written in \(Benchmarks.seconds(since: start)) s\n".utf8))
        }
        defer { if corpus == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let files = try WordCountJob.expand([directory])
        let bytes = try files.reduce(0) { total, file in
            let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            return total.addingReportingOverflow(size).overflow ? Int.max : total + size
        }
        let megabytesCounted = Double(bytes) / 1e6
        let label = generated ? "generated \(megabytes) MB corpus" : "\(files.count) files, \(Int(megabytesCounted)) MB in \(directory)"

        var results: [BenchResult] = []
        // The read limit: the same files read by one thread with the job's reader, counting nothing.
        var readSamples: [Double] = []
        for _ in 0...runs {
            let start = ContinuousClock.now
            try Self.read(files)
            readSamples.append(megabytesCounted / Benchmarks.seconds(since: start))
        }
        results.append(BenchResult(
            name: "wordcount-read", detail: "\(label), read by one thread (pread, 256 KiB buffer), page cache warm",
            unit: "MB/s", samples: Array(readSamples.dropFirst())))
        // One thread counting in this process: the speed a worker thread reaches.
        var here = WordCounts()
        var threadSamples: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            here = try WordCountJob.countHere(files)
            threadSamples.append(megabytesCounted / Benchmarks.seconds(since: start))
        }
        let perThread = BenchResult(
            name: "wordcount-1thread", detail: "\(label), counted by one thread in this process", unit: "MB/s",
            samples: threadSamples, extra: ["words": Double(here.totalWords), "distinct": Double(here.distinctWords)])
        results.append(perThread)
        // Two threads in this process, each counting half the bytes: what two cores of this machine give
        // together, the limit of a two-worker job.
        let halves = Self.halves(files)
        var pairSamples: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            let failures = FailureList()
            DispatchQueue.concurrentPerform(iterations: 2) { half in
                do { _ = try WordCountJob.countHere(halves[half]) } catch { failures.add(error) }
            }
            if let failure = failures.first { throw failure }
            pairSamples.append(megabytesCounted / Benchmarks.seconds(since: start))
        }
        results.append(BenchResult(
            name: "wordcount-2threads", detail: "\(label), two threads in this process, half the bytes each", unit: "MB/s",
            samples: pairSamples, extra: ["ratio_to_1thread": pairSamples.sorted()[pairSamples.count / 2] / perThread.median]))

        // The job: 2 worker processes x 1 thread, end to end from the first submit to the merged count.
        let cluster = try LocalCluster(
            workers: 2, threads: 1, mode: .processes, permissions: WorkerPermissions(fileRoots: [directory]))
        defer { cluster.shutdown() }
        let client = try await Client.connect(cluster.address)
        defer { client.close() }
        try await Benchmarks.waitForWorkers(client, count: 2)
        var jobSamples: [Double] = []
        var tasks = 0
        for run in 0...runs {
            let start = ContinuousClock.now
            let result = try await WordCountJob.run(client, files: files)
            let seconds = Benchmarks.seconds(since: start)
            tasks = result.tasks
            guard Self.sameCounts(result.counts, here) else {
                throw ValidationFailure(description: "the cluster's counts differ from one process's: \(result.counts) vs \(here)")
            }
            if run > 0 { jobSamples.append(seconds) }
        }
        var job = BenchResult(
            name: "wordcount", detail: "\(label), 2 workers x 1 thread, end to end", unit: "s", samples: jobSamples)
        job.extra["MB_per_s"] = megabytesCounted / job.median
        job.extra["MB_per_s_per_thread"] = megabytesCounted / job.median / 2
        job.extra["tasks"] = Double(tasks)
        job.extra["speedup_over_1thread"] = megabytesCounted / job.median / perThread.median
        job.extra["ratio_to_2threads"] = megabytesCounted / job.median / results[results.count - 1].median
        results.append(job)

        if let python {
            results += try baseline(python, directory: directory, job: job, counts: here)
        }
        return results
    }

    /// Runs the Python baselines on the same files and returns their lines, each with ZFlow's speedup over it.
    private func baseline(
        _ python: (interpreter: String, script: String), directory: String, job: BenchResult, counts: WordCounts
    ) throws -> [BenchResult] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python.interpreter)
        process.arguments = [python.script, directory, "--workers", "2", "--json"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var results: [BenchResult] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let name = object["name"] as? String, let seconds = object["median"] as? Double,
                let words = object["words"] as? Int, let distinct = object["distinct"] as? Int
            else { continue }
            var result = BenchResult(
                name: name, detail: "same files, same run, \(python.script)", unit: "s", samples: [seconds],
                extra: ["words": Double(words), "distinct": Double(distinct), "zflow_speedup": seconds / job.median])
            result.extra["same_counts"] = words == counts.totalWords && distinct == counts.distinctWords ? 1 : 0
            results.append(result)
        }
        return results
    }

    /// The files split in two lists of about equal bytes (whole files; the largest first, each to the lighter list).
    static func halves(_ files: [String]) -> [[String]] {
        let sized = files.map { ($0, (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0) }
        var lists: [[String]] = [[], []]
        var bytes = [0, 0]
        for (file, size) in sized.sorted(by: { $0.1 > $1.1 }) {
            let lighter = bytes[0] <= bytes[1] ? 0 : 1
            lists[lighter].append(file)
            bytes[lighter] += size
        }
        return lists
    }

    /// Reads the files as the job's reader does (`pread` into one 256 KiB buffer), counting nothing.
    static func read(_ files: [String]) throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 256 << 10, alignment: 16)
        defer { buffer.deallocate() }
        for path in files {
            let file = open(path, O_RDONLY | O_CLOEXEC)
            guard file >= 0 else { throw ValidationFailure(description: "cannot open \(path)") }
            defer { close(file) }
            var position = 0
            while true {
                let read = pread(file, buffer, 256 << 10, off_t(position))
                guard read > 0 else { break }
                position += read
            }
        }
    }

    /// Whether two counts hold the same words with the same counts.
    static func sameCounts(_ a: WordCounts, _ b: WordCounts) -> Bool {
        guard a.totalWords == b.totalWords, a.distinctWords == b.distinctWords else { return false }
        let order: ((word: String, count: Int), (word: String, count: Int)) -> Bool = {
            $0.word.utf8.lexicographicallyPrecedes($1.word.utf8)
        }
        return a.entries.sorted(by: order).elementsEqual(b.entries.sorted(by: order)) {
            $0.count == $1.count && $0.word.utf8.elementsEqual($1.word.utf8)
        }
    }
}

/// Errors of threads that report them after joining.
private final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []

    func add(_ error: Error) {
        lock.lock()
        errors.append(error)
        lock.unlock()
    }

    var first: Error? {
        lock.lock()
        defer { lock.unlock() }
        return errors.first
    }
}

/// A benchmark's own check failed.
struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
}
