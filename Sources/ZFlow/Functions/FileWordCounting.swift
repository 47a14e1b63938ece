import Foundation
import ZFlowWords

/// A file could not be read for counting.
public struct FileReadFailed: Error, CustomStringConvertible {
    /// The file.
    public let path: String
    /// The system's reason.
    public let reason: String
    /// `cannot read PATH: REASON`.
    public var description: String { "cannot read \(path): \(reason)" }
}

/// Counts the words of file segments on a worker: each segment read with `pread` into one buffer and counted
/// where it lies (only a word cut by the buffer's end is copied).
enum FileWordCounting {
    /// The read buffer's size.
    static let bufferBytes = 256 << 10

    /// Counts `segments` of files that `readable` resolves (and may refuse).
    static func count(_ segments: [FileSegment], readable: (String) throws -> String) throws -> WordCounts {
        var counter = WordCounter(expectedDistinct: 1 << 15)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferBytes, alignment: 16)
        defer { buffer.deallocate() }
        for segment in segments {
            let path = try readable(segment.path)
            // Non-blocking open: a FIFO without a writer must not hold a worker thread.
            let file = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard file >= 0 else { throw FileReadFailed(path: segment.path, reason: String(cString: strerror(errno))) }
            defer { close(file) }
            var status = stat()
            guard fstat(file, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
                throw FileReadFailed(path: segment.path, reason: "not a regular file")
            }
            // A segment from the end of the file on is empty (and pread would refuse an offset near Int.max).
            guard segment.offset < Int(status.st_size) || segment.offset == 0 else { continue }
            try count(segment, of: file, path: segment.path, into: &counter, buffer: buffer)
        }
        return try counter.counts()
    }

    /// Streams one segment into `counter`: skips to its first break byte (unless it starts the file), reads to
    /// its nominal end, then on to the next break byte.
    private static func count(
        _ segment: FileSegment, of file: Int32, path: String, into counter: inout WordCounter, buffer: UnsafeMutableRawBufferPointer
    ) throws {
        guard segment.offset >= 0, segment.length >= 0 else {
            throw FileReadFailed(path: path, reason: "segment offset \(segment.offset) and length \(segment.length) must be >= 0")
        }
        var position = segment.offset
        let (sum, overflow) = segment.offset.addingReportingOverflow(segment.length)
        let nominalEnd = overflow ? Int.max : sum
        var started = segment.offset == 0
        while true {
            let wanted = buffer.count
            let read = pread(file, buffer.baseAddress, wanted, off_t(position))
            if read < 0 {
                if errno == EINTR { continue }
                throw FileReadFailed(path: path, reason: String(cString: strerror(errno)))
            }
            if read == 0 { break }
            var bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<read])
            if !started {
                guard let first = bytes.firstIndex(where: WordCounter.isBreak) else {
                    // No break up to the nominal end: the segment before reaches past it, this one is empty.
                    guard position + read < nominalEnd else { break }
                    position += read
                    continue
                }
                started = true
                guard position + first < nominalEnd else { break }
                bytes = UnsafeRawBufferPointer(rebasing: bytes[first...])
                position += first
            }
            // Past the nominal end, the segment ends at the next break byte.
            let beforeEnd = max(0, nominalEnd - position)
            if beforeEnd < bytes.count, let stop = bytes[beforeEnd...].firstIndex(where: WordCounter.isBreak) {
                try counter.append(UnsafeRawBufferPointer(rebasing: bytes[..<stop]))
                break
            }
            try counter.append(bytes)
            position += bytes.count
        }
        try counter.endText()
    }
}
