import ArgumentParser
import Foundation
import Logging
import ZFlow

/// Flags every command that talks to a running cluster shares.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Scheduler address (default: $ZFLOW_SCHEDULER, else tcp://127.0.0.1:8786).")
    var scheduler: String?

    @Option(help: "Seconds to wait for the scheduler to answer.")
    var timeout: Double = 5

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var securityOptions: SecurityOptions

    func validate() throws {
        guard timeout > 0, timeout <= 86_400 else { throw ValidationError("--timeout must be between 0 and 86400 seconds") }
    }

    /// The address to use: the flag, the environment, or the default.
    var address: String {
        scheduler ?? ProcessInfo.processInfo.environment["ZFLOW_SCHEDULER"] ?? "tcp://127.0.0.1:8786"
    }

    /// Connects, or prints one line and exits with `ExitStatus.unreachable`.
    ///
    /// - Parameter asAdmin: the command acts on the whole cluster: under security it connects with an admin
    ///   identity when the directory holds one (unless `--identity` names another).
    func connect(asAdmin: Bool = false) async throws -> Client {
        var security = securityOptions.directory
        if asAdmin, let directory = security, directory.identity == nil {
            do {
                security = SecurityDirectory(directory.path, identity: try directory.identityKeys(for: .client, prefersAdmin: true).0.name)
            } catch {
                fail("zflow: \(error)", status: .unreachable)
            }
        }
        do {
            return try await Client.connect(
                address, security: security, timeout: .milliseconds(Int64(timeout * 1000)), logger: quietLogger)
        } catch let error as ClientError {
            fail("zflow: \(error)", status: .unreachable)
        }
    }
}

/// The exit codes of `zflow` (also in `zflow --help`).
enum ExitStatus: Int32 {
    /// A task failed, or was cancelled.
    case taskFailed = 1
    /// No scheduler answered.
    case unreachable = 3
    /// An input file could not be read or parsed.
    case badInput = 4
}

/// Prints one line to standard error and exits.
func fail(_ message: String, status: ExitStatus) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(status.rawValue)
}

/// A client logger that only reports errors (the CLI prints its own messages).
var quietLogger: Logger {
    var logger = Logger(label: "zflow.cli")
    logger.logLevel = .critical
    return logger
}

/// Encodes a value as one line of JSON with sorted keys.
func jsonLine<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
}

/// Parses a command-line argument as a JSON value; text that is not JSON is taken as a string.
func parseArgument(_ text: String) -> AnyValue {
    if let value = try? JSONDecoder().decode(AnyValue.self, from: Data(text.utf8)) { return value }
    return .string(text)
}
