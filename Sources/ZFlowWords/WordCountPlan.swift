/// A part of a file to count: from the first break byte at or after `offset` (from the file's start when
/// `offset` is 0) to the first break byte at or after `offset + length` (or the file's end).
///
/// Parts cut at the same offsets therefore meet at the same break byte, so the words of a file cut into
/// segments are counted once each, whatever the file holds (`WordCounter.isBreak`).
public struct FileSegment: Hashable, Sendable, Codable {
    /// The file's path on the worker.
    public var path: String
    /// Where the segment starts, in bytes.
    public var offset: Int
    /// How far it reaches, in bytes; `Int.max` for the rest of the file.
    public var length: Int

    /// Describes a segment.
    public init(path: String, offset: Int = 0, length: Int = .max) {
        self.path = path
        self.offset = offset
        self.length = length
    }
}

/// How a word count is cut into tasks: large files into segments, small files batched together, so that each
/// task counts about `targetBytes`.
public enum WordCountPlan {
    /// One file to count, and its size when the planner can see it.
    public struct File: Hashable, Sendable {
        /// Its path.
        public var path: String
        /// Its size in bytes; nil when unknown (the file is then one task of its own).
        public var size: Int?

        /// Describes a file.
        public init(path: String, size: Int?) {
            self.path = path
            self.size = size
        }
    }

    /// The bytes a task should count for `totalBytes` over `threads` worker threads: about eight tasks a thread
    /// (so a slow worker does not hold the end back), from 1 MiB to 64 MiB, and never more than `maximumTasks`.
    public static func targetBytes(totalBytes: Int, threads: Int) -> Int {
        let share = totalBytes / max(1, threads) / 8
        return max(min(max(share, 1 << 20), 64 << 20), totalBytes / maximumTasks)
    }

    /// The most tasks `targetBytes` plans for (a huge, perhaps sparse, file gets larger segments instead).
    public static let maximumTasks = 100_000

    /// The tasks' segments, in file order: files larger than `targetBytes` cut into segments of about
    /// `targetBytes`; smaller ones (and the ends of large ones) gathered until a task holds about `targetBytes`.
    public static func tasks(_ files: [File], targetBytes: Int) -> [[FileSegment]] {
        let target = max(1, targetBytes)
        var tasks: [[FileSegment]] = []
        var current: [FileSegment] = []
        var currentBytes = 0
        func close() {
            if !current.isEmpty { tasks.append(current) }
            current = []
            currentBytes = 0
        }
        for file in files {
            guard let size = file.size else {
                close()
                tasks.append([FileSegment(path: file.path)])
                continue
            }
            var offset = 0
            repeat {
                let length = min(max(size - offset, 0), target - currentBytes)
                let last = offset + length >= size
                current.append(FileSegment(path: file.path, offset: offset, length: last ? .max : length))
                currentBytes += length
                offset += length
                if currentBytes >= target { close() }
            } while offset < size
        }
        close()
        return tasks
    }
}
