import ArgumentParser
import ZFlow

/// The `zflow` command line: drive a ZFlow cluster from the shell.
@main
struct ZFlowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zflow",
        abstract: "Drive a ZFlow cluster: benchmarks, and more to come.",
        subcommands: [BenchCommand.self])

    static func main() async {
        ProcessSignals.unblockAll()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
