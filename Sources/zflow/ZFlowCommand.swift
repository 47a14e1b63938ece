import ArgumentParser
import ZFlow

/// The `zflow` command line: drive a ZFlow cluster from the shell.
@main
struct ZFlowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zflow",
        abstract: "Drive a ZFlow cluster from the shell.",
        discussion: """
            The scheduler address comes from --scheduler, else $ZFLOW_SCHEDULER, else tcp://127.0.0.1:8786.
            Exit codes: 0 success; 1 a task failed or was cancelled; 3 no scheduler answered; 4 bad input file;
            64 bad command line; `exec` exits with the command's own code.
            """,
        subcommands: [
            LocalCommand.self, StatusCommand.self, WorkersCommand.self, SubmitCommand.self, MapCommand.self,
            ExecCommand.self, RunCommand.self, CancelCommand.self, RetireCommand.self, WordCountCommand.self,
            BenchCommand.self, KeygenCommand.self,
        ])

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
