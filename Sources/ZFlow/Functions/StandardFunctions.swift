import Foundation
import ZFlowWords

/// What a shell command printed and how it ended.
public struct ShellResult: Codable, Hashable, Sendable, TaskValue {
    /// Its standard output.
    public var stdout: String
    /// Its standard error.
    public var stderr: String
    /// Its exit status (128 + signal number when killed by a signal).
    public var exitCode: Int32
}

/// A shell command run by `command` exited with a non-zero code.
public struct CommandFailed: Error, CustomStringConvertible {
    /// Its exit code.
    public let exitCode: Int32
    /// What it printed on standard error.
    public let stderr: String
    /// `exit code N: <last line of stderr>`.
    public var description: String {
        let last = stderr.split(separator: "\n").last.map(String.init) ?? ""
        return "exit code \(exitCode)" + (last.isEmpty ? "" : ": \(last)")
    }
}

/// When and where one run of `timed-sleep` happened: which process, and its start and end on the machine's
/// monotonic clock (comparable across processes on one host).
public struct RunSpan: Codable, Hashable, Sendable, TaskValue {
    /// The worker process that ran it.
    public var pid: Int32
    /// Monotonic nanoseconds when the run started.
    public var start: UInt64
    /// Monotonic nanoseconds when it ended.
    public var end: UInt64
}

/// An integer result does not fit in `Int`.
public struct ArithmeticOverflow: Error, CustomStringConvertible {
    /// What overflowed.
    public let description: String
}

/// A function failed on purpose (`fail`), for testing error paths.
public struct RequestedFailure: Error, CustomStringConvertible {
    /// The message given.
    public let description: String
}

/// The functions every stock `zflow-worker` carries, so the CLI and benchmarks need no user code.
public enum StandardFunctions {
    /// Returns its argument unchanged.
    public static let identity = TaskFunction("identity") { (value: AnyValue) in value }
    /// Adds one: the cheapest typed task, used by benchmarks.
    public static let inc = TaskFunction("inc") { (x: Int) in try checked(x.addingReportingOverflow(1), "inc(\(x))") }
    /// Adds two integers.
    public static let add = TaskFunction("add") { (a: Int, b: Int) in try checked(a.addingReportingOverflow(b), "add(\(a), \(b))") }
    /// Sums a list of integers.
    public static let sum = TaskFunction("sum") { (values: [Int]) in
        try values.reduce(0) { total, value in try checked(total.addingReportingOverflow(value), "sum") }
    }
    /// Sleeps for the given seconds and returns them.
    public static let sleep = TaskFunction("sleep") { (seconds: Double) -> Double in
        Thread.sleep(forTimeInterval: seconds)
        return seconds
    }
    /// Sleeps for the given seconds and tells which process ran it and when: for checking where and how
    /// concurrently tasks ran (resources, stealing).
    public static let timedSleep = TaskFunction("timed-sleep") { (seconds: Double) -> RunSpan in
        let start = DispatchTime.now().uptimeNanoseconds
        Thread.sleep(forTimeInterval: seconds)
        return RunSpan(pid: getpid(), start: start, end: DispatchTime.now().uptimeNanoseconds)
    }
    /// Makes `count` bytes (a repeating pattern); refuses more than the worker's memory limit, and more than
    /// 16 GiB on a worker without one.
    public static let bytes = TaskFunction("bytes") { (count: Int) -> Data in
        guard count >= 0 else { throw RequestedFailure(description: "byte count must be >= 0, got \(count)") }
        let limit = TaskContext.current?.memoryLimit ?? maximumBytesWithoutLimit
        guard UInt64(count) <= limit else {
            throw RequestedFailure(description: "\(count) bytes is more than this worker's memory limit of \(limit) bytes")
        }
        return Data(repeating: 0xAB, count: count)
    }
    /// The most `bytes` makes on a worker without a memory limit.
    static let maximumBytesWithoutLimit: UInt64 = 16 << 30
    /// The length of a byte string.
    public static let length = TaskFunction("length") { (data: Data) in data.count }
    /// Runs `/bin/sh -c COMMAND` and returns its output and exit code.
    public static let shell = TaskFunction("shell", access: .shell) { (command: String) in try ShellCommand.run(command) }
    /// Runs `/bin/sh -c COMMAND` and returns its standard output; a non-zero exit fails the task
    /// (`CommandFailed`), so tasks that depend on it do not run.
    public static let command = TaskFunction("command", access: .shell) { (command: String) -> String in
        let result = try ShellCommand.run(command)
        guard result.exitCode == 0 else { throw CommandFailed(exitCode: result.exitCode, stderr: result.stderr) }
        return result.stdout
    }
    /// Reads a text file on the worker (inside the directories it allows).
    public static let readFile = TaskFunction("read-file", access: .files) { (path: String) in
        try String(contentsOfFile: try TaskContext.readableFile(path), encoding: .utf8)
    }
    /// Counts the words of a text (`WordCounter` says what a word is); the most frequent first.
    public static let countWords = TaskFunction("count-words") { (text: String) -> [WordFrequency] in
        try WordCounts(counting: text).top(.max).map { WordFrequency(word: $0.word, count: $0.count) }
    }
    /// Reads segments of files on the worker (inside the directories it allows) and counts their words.
    public static let countWordsInFiles = TaskFunction("count-words-in-files", access: .files) { (segments: [FileSegment]) in
        try FileWordCounting.count(segments, readable: TaskContext.readableFile)
    }
    /// Adds up word counts.
    public static let mergeWordCounts = TaskFunction("merge-word-counts") { (parts: [WordCounts]) in
        try WordCounts.merged(parts)
    }
    /// Always throws with the given message.
    public static let fail = TaskFunction("fail") { (message: String) -> Int in
        throw RequestedFailure(description: message)
    }

    /// `result.0`, or a thrown `ArithmeticOverflow` when `result.1` says it overflowed.
    static func checked(_ result: (partialValue: Int, overflow: Bool), _ what: @autoclosure () -> String) throws -> Int {
        guard !result.overflow else { throw ArithmeticOverflow(description: "\(what()) overflows Int") }
        return result.partialValue
    }

    /// All of them, for `WorkerMain` and `LocalCluster`.
    public static var registry: FunctionRegistry {
        FunctionRegistry([
            identity.erased, inc.erased, add.erased, sum.erased, sleep.erased, timedSleep.erased, bytes.erased, length.erased,
            shell.erased, command.erased, readFile.erased, countWords.erased, countWordsInFiles.erased, mergeWordCounts.erased, fail.erased,
        ])
    }
}

/// One word and how often it occurs.
public struct WordFrequency: Codable, Hashable, Sendable, TaskValue {
    /// The word.
    public var word: String
    /// Its count.
    public var count: Int
}

extension WordCounts: TaskValue {}
extension FileSegment: TaskValue {}
