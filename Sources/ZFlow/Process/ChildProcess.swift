import Foundation

/// A child process started by ZFlow (a scheduler or worker of a `LocalCluster`, or of a test).
///
/// It gets a pipe as standard input; ZFlow's executables started with `--exit-with-stdin` exit when that pipe
/// closes, so they die with their parent.
/// Its standard output is read line by line; `waitForLine` waits, with a deadline, for a line to appear.
public final class ChildProcess: @unchecked Sendable {
    /// The running process.
    public let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let condition = NSCondition()
    private var lines: [String] = []
    private var partial = Data()
    private var ended = false

    /// Starts `executable` with `arguments`; its standard error goes to this process's unless `quiet`.
    ///
    /// - Throws: when the executable cannot be started.
    public init(executable: URL, arguments: [String], quiet: Bool = false, environment: [String: String]? = nil) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        if quiet { process.standardError = FileHandle.nullDevice }
        if let environment { process.environment = environment }
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.append(data)
        }
        try process.run()
    }

    deinit { terminate() }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    private func append(_ data: Data) {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        if data.isEmpty {
            ended = true
            output.fileHandleForReading.readabilityHandler = nil
            return
        }
        partial.append(data)
        while let newline = partial.firstIndex(of: 0x0A) {
            lines.append(String(decoding: partial[partial.startIndex..<newline], as: UTF8.self))
            partial.removeSubrange(partial.startIndex...newline)
        }
    }

    /// Waits up to `timeout` seconds for an output line containing `marker`, and returns it.
    public func waitForLine(containing marker: String, timeout: Double) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let line = lines.first(where: { $0.contains(marker) }) { return line }
            if ended || !condition.wait(until: deadline) { return lines.first(where: { $0.contains(marker) }) }
        }
    }

    /// Sends a signal to this process (only to it, by its pid).
    public func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace` seconds; waits for it.
    public func terminate(grace: Double = 3) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date(timeIntervalSinceNow: grace)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits up to `timeout` seconds for the process to exit; returns its status, or nil if it is still running.
    public func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        return process.isRunning ? nil : process.terminationStatus
    }
}
