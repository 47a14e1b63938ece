import Foundation

/// Runs shell commands for the `shell` standard function.
enum ShellCommand {
    /// Runs `/bin/sh -c command`, capturing both outputs.
    static func run(_ command: String) throws -> ShellResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let errorData = DispatchQueue(label: "zflow.shell.stderr")
        nonisolated(unsafe) var stderrBytes = Data()
        let group = DispatchGroup()
        errorData.async(group: group) { stderrBytes = errors.fileHandleForReading.readDataToEndOfFile() }
        let stdoutBytes = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        let code = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return ShellResult(
            stdout: String(decoding: stdoutBytes, as: UTF8.self), stderr: String(decoding: stderrBytes, as: UTF8.self),
            exitCode: code)
    }
}
