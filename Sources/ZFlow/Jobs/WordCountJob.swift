import Foundation

/// Word count over files, run on a cluster: the files are cut into tasks of about equal size (large files into
/// segments, small files batched, `WordCountPlan`), each task reads its files on a worker (never shipped from
/// the client) and counts them (`WordCounter`), and the partial counts are merged as a tree of tasks, so
/// partials move worker to worker.
///
/// A file inside a worker's data directory (`zflow-worker --data-dir`) is counted only on workers that have that
/// directory; other files may be counted anywhere.
public enum WordCountJob {
    /// What a word count found.
    public struct Result: Sendable {
        /// Words and how often each occurs.
        public let counts: WordCounts
        /// Files counted.
        public let files: Int
        /// Their bytes (of those this process could see).
        public let bytes: Int
        /// Counting tasks the files were cut into.
        public let tasks: Int

        /// The `limit` most frequent words, most frequent first (ties in the order of their bytes).
        public func top(_ limit: Int) -> [(word: String, count: Int)] { counts.top(limit) }

        /// All words counted.
        public var totalWords: Int { counts.totalWords }

        /// Distinct words.
        public var distinctWords: Int { counts.distinctWords }
    }

    /// How many partial counts one merge task adds up.
    static let mergeFanIn = 8

    /// Counts the words of `files` (absolute paths) on the cluster.
    ///
    /// - Throws: `TaskError` when a file cannot be read on its worker.
    public static func run(_ client: Client, files: [String]) async throws -> Result {
        let workers = try await client.schedulerInfo().workers
        let threads = workers.reduce(0) { $0 + $1.nthreads }
        var groups: [[String]: [WordCountPlan.File]] = [:]
        var groupOrder: [[String]] = []
        var bytes = 0
        for path in files {
            let local = workers.filter { worker in
                guard let directory = worker.dataDirectory else { return false }
                return path.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")
            }.map(\.name)
            let size = fileSize(path)
            bytes = bytes.addingReportingOverflow(size ?? 0).overflow ? Int.max : bytes + (size ?? 0)
            if groups[local] == nil { groupOrder.append(local) }
            groups[local, default: []].append(WordCountPlan.File(path: path, size: size))
        }
        let target = WordCountPlan.targetBytes(totalBytes: bytes, threads: threads)
        var level: [Future<WordCounts>] = []
        for local in groupOrder {
            for segments in WordCountPlan.tasks(groups[local] ?? [], targetBytes: target) {
                level.append(try await client.submit(StandardFunctions.countWordsInFiles, segments, workers: local))
            }
        }
        let tasks = level.count
        guard !level.isEmpty else { return Result(counts: WordCounts(), files: 0, bytes: 0, tasks: 0) }
        while level.count > 1 {
            var next: [Future<WordCounts>] = []
            for start in stride(from: 0, to: level.count, by: mergeFanIn) {
                let parts = Array(level[start..<min(start + mergeFanIn, level.count)])
                next.append(parts.count == 1 ? parts[0] : try await client.submit(StandardFunctions.mergeWordCounts, parts))
            }
            level = next
        }
        return Result(counts: try await level[0].result(), files: files.count, bytes: bytes, tasks: tasks)
    }

    /// Counts the words of `files` in this process, on the calling thread: what the cluster's job computes, without
    /// a cluster (for checking it, and for measuring one thread's speed).
    ///
    /// - Throws: `FileReadFailed` when a file cannot be read; `WordCountError` for text the counter refuses.
    public static func countHere(_ files: [String]) throws -> WordCounts {
        try FileWordCounting.count(files.map { FileSegment(path: $0) }, readable: { $0 })
    }

    /// The size of a regular file this process can see; nil otherwise (it is then counted whole, on a worker).
    static func fileSize(_ path: String) -> Int? {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int(status.st_size)
    }

    /// Expands files, directories (their regular `.txt` files, recursively) and glob patterns into absolute paths.
    ///
    /// - Throws: `ClientError.codec` naming a path that matches nothing.
    public static func expand(_ patterns: [String]) throws -> [String] {
        var files: [String] = []
        let manager = FileManager.default
        for pattern in patterns {
            let matches = pattern.contains(where: { "*?[".contains($0) }) ? glob(pattern) : [pattern]
            if matches.isEmpty { throw ClientError.codec("no file matches '\(pattern)'") }
            for match in matches {
                let url = URL(fileURLWithPath: match).standardizedFileURL
                var isDirectory: ObjCBool = false
                guard manager.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                    throw ClientError.codec("no such file or directory: \(match)")
                }
                if isDirectory.boolValue {
                    let children = try manager.subpathsOfDirectory(atPath: url.path).sorted()
                    files += children.filter { $0.hasSuffix(".txt") }.map { url.appendingPathComponent($0).path }
                        .filter { fileSize($0) != nil }
                } else {
                    files.append(url.path)
                }
            }
        }
        return files
    }

    private static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
