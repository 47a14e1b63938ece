import Foundation

/// Word count over files, run on a cluster: each file is read and counted on a worker (never shipped from the
/// client), and the partial counts are merged as a binary tree of tasks, so partials move worker to worker.
///
/// A file inside a worker's data directory (`zflow-worker --data-dir`) is counted only on workers that have that
/// directory; other files may be counted anywhere.
public enum WordCountJob {
    /// What a word count found.
    public struct Result: Sendable {
        /// Words and how often each occurs.
        public let counts: [String: Int]
        /// Files counted.
        public let files: Int

        /// The `limit` most frequent words, most frequent first (ties in alphabetical order).
        public func top(_ limit: Int) -> [(word: String, count: Int)] {
            counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(limit)
                .map { ($0.key, $0.value) }
        }

        /// All words counted.
        public var totalWords: Int { counts.values.reduce(0, +) }
    }

    /// Counts the words of `files` (absolute paths) on the cluster.
    ///
    /// - Throws: `TaskError` when a file cannot be read on its worker.
    public static func run(_ client: Client, files: [String]) async throws -> Result {
        let workers = try await client.schedulerInfo().workers
        var partials: [Future<[String: Int]>] = []
        for file in files {
            let local = workers.filter { worker in
                guard let directory = worker.dataDirectory else { return false }
                return file.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")
            }
            partials.append(
                try await client.submit(StandardFunctions.countFileWords, file, workers: local.map(\.name)))
        }
        guard !partials.isEmpty else { return Result(counts: [:], files: 0) }
        var level = partials
        while level.count > 1 {
            var next: [Future<[String: Int]>] = []
            for start in stride(from: 0, to: level.count, by: 2) {
                let pair = Array(level[start..<min(start + 2, level.count)])
                next.append(pair.count == 1 ? pair[0] : try await client.submit(StandardFunctions.mergeCounts, pair))
            }
            level = next
        }
        return Result(counts: try await level[0].result(), files: files.count)
    }

    /// Expands files, directories (their `.txt` files, recursively) and glob patterns into absolute paths.
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
