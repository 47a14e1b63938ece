import ArgumentParser
import Foundation
import Logging
import ZFlowCore
import ZFlowScheduling

/// The command line of a worker: the stock `zflow-worker`, or your own worker binary with your functions.
///
///     // main.swift of your worker
///     WorkerMain.run(functions: [myFunction.erased, other.erased])
public struct WorkerMain: ParsableCommand {
    /// Help text.
    public static let configuration = CommandConfiguration(
        commandName: "zflow-worker", abstract: "Run a ZFlow worker: execute tasks and serve results to peers.")

    /// The scheduler address.
    @Argument(help: "The scheduler's address, e.g. tcp://127.0.0.1:8786.")
    var scheduler: String

    /// Executor threads.
    @Option(help: "Executor threads (tasks run at once).")
    var nthreads: Int = 1

    /// The worker's name.
    @Option(help: "A unique worker name (default: HOST-PID).")
    var name: String?

    /// The host to bind and advertise.
    @Option(help: "Interface for the peer socket, advertised to other workers (beyond loopback: needs --security or --insecure).")
    var host: String = "127.0.0.1"

    /// Security.
    @OptionGroup var securityOptions: SecurityOptions

    /// Plaintext beyond loopback.
    @Flag(help: "Allow listening beyond loopback without --security (prints a warning on every start).")
    var insecure = false

    /// Shell commands.
    @Flag(help: "Let tasks run shell commands on this machine (the shell and command functions; admins only under security).")
    var allowShell = false

    /// Readable directories.
    @Option(help: "A directory whose files tasks may read (read-file, count-words-in-files); repeat for several. --data-dir is readable too.")
    var allowFiles: [String] = []

    /// The worker's data directory.
    @Option(help: "A directory of input files this worker can read (advertised, for data locality).")
    var dataDir: String?

    /// Abstract resources offered.
    @Option(help: "Abstract resources this worker offers, e.g. GPU=2,MEM=8e9; tasks that need some run only here, and only while they are free.")
    var resources: String = ""

    /// Heartbeat interval.
    @Option(help: "Heartbeat interval in milliseconds.")
    var heartbeatMs: UInt64 = 1000

    /// The memory limit for results.
    @Option(
        help: """
            Memory for results: 64MiB, 2GB, 8e9 (bytes), 0.5 (that share of the machine's memory) or none \
            (default: the machine's memory times nthreads / cores).
            """)
    var memoryLimit: String?

    /// Where spilled results go.
    @Option(help: "Directory for results spilled to disk (default: a new one under the temporary directory).")
    var localDirectory: String?

    /// Spill threshold.
    @Option(help: "Spill least recently used results to disk above this fraction of the memory limit.")
    var memoryTarget: Double = 0.6

    /// Pause threshold.
    @Option(help: "Start no new tasks while results still in memory exceed this fraction of the limit.")
    var memoryPause: Double = 0.8

    /// Terminate threshold.
    @Option(help: "With --nanny: restart the worker when its process memory passes this fraction of the limit.")
    var memoryTerminate: Double = 0.95

    /// Supervise the worker in a child process.
    @Flag(help: "Run the worker as a child process and restart it when it dies (doubling backoff from 0.5 s to 10 s).")
    var nanny = false

    /// The nanny's restart limit.
    @Option(help: "With --nanny: restarts in a row (without a run of 60 s in between) before the nanny gives up.")
    var maxRestarts: Int = 10

    /// Exit when standard input closes (used by LocalCluster and tests so children die with their parent).
    @Flag(help: .hidden)
    var exitWithStdin = false

    /// Parsed by swift-argument-parser.
    public init() {}

    /// Checks the flags.
    public func validate() throws {
        guard maxRestarts >= 0 else { throw ValidationError("--max-restarts must be at least 0") }
        if let memoryLimit, MemoryLimit(parsing: memoryLimit) == nil {
            throw ValidationError("--memory-limit: expected e.g. 64MiB, 2GB, 8e9, 0.5 or none, got '\(memoryLimit)'")
        }
        guard memoryTarget > 0, memoryTarget <= 1, memoryPause > 0, memoryPause <= 1, memoryTerminate > 0,
            memoryTerminate <= 1
        else {
            throw ValidationError("--memory-target, --memory-pause and --memory-terminate must be in (0, 1]")
        }
        guard (1...4096).contains(nthreads) else { throw ValidationError("--nthreads must be 1...4096") }
        guard (10...60_000).contains(heartbeatMs) else { throw ValidationError("--heartbeat-ms must be 10...60000") }
        guard scheduler.contains("://") else {
            throw ValidationError("the scheduler address must look like tcp://HOST:PORT, got '\(scheduler)'")
        }
        do {
            _ = try Resources(parsing: resources)
        } catch {
            throw ValidationError("--resources: \(error)")
        }
    }

    /// `--memory-limit` in bytes (default: the machine's memory × nthreads / cores); nil for `none`.
    var resolvedMemoryLimit: UInt64? {
        let defaultShare = MemoryLimit.fraction(
            min(1, Double(nthreads) / Double(max(ProcessInfo.processInfo.activeProcessorCount, 1))))
        return (memoryLimit.flatMap(MemoryLimit.init(parsing:)) ?? defaultShare)
            .bytes(physicalMemory: ProcessInfo.processInfo.physicalMemory)
    }

    nonisolated(unsafe) static var registry = FunctionRegistry()

    /// Parses the command line, runs a worker with `functions` until SIGINT/SIGTERM, then exits.
    public static func run(functions: FunctionRegistry) -> Never {
        ProcessSignals.unblockAll()
        registry = functions
        main()
        Foundation.exit(0)
    }

    /// Runs the worker (called by `main()`).
    public func run() throws {
        if nanny {
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            var supervisor = Nanny(
                executable: executable, arguments: Nanny.workerArguments(Array(CommandLine.arguments.dropFirst())),
                policy: NannyPolicy(maximumRestarts: maxRestarts), exitWithStdin: exitWithStdin,
                terminateBytes: resolvedMemoryLimit.map { UInt64(Double($0) * memoryTerminate) })
            let status = supervisor.run()
            if status != 0 { throw ExitCode(status) }
            return
        }
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        try securityOptions.checkBind(program: "zflow-worker", host: host, insecure: insecure)
        var options = WorkerNode.Options(scheduler: scheduler, name: name, nthreads: nthreads)
        options.host = host
        options.security = securityOptions.directory
        options.permissions = WorkerPermissions(allowShell: allowShell, fileRoots: allowFiles + (dataDir.map { [$0] } ?? []))
        options.heartbeatInterval = .milliseconds(heartbeatMs)
        options.resources = (try? Resources(parsing: resources)) ?? [:]
        options.memoryLimit = resolvedMemoryLimit
        options.memoryTarget = memoryTarget
        options.memoryPause = memoryPause
        options.localDirectory = localDirectory.map { URL(fileURLWithPath: $0).appendingPathComponent("zflow-\(getpid())") }
        options.dataDirectory = dataDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let node = WorkerNode(options: options, functions: Self.registry)
        let address = try startOrExit("zflow-worker: cannot start") { try node.start() }
        serve(
            announcing: "zflow-worker '\(options.name)' peer \(address) scheduler \(scheduler) threads \(nthreads)",
            exitWithStdin: exitWithStdin, stop: node.stop, wait: node.waitUntilStopped)
        if let refusal = node.refusal {
            FileHandle.standardError.write(Data("zflow-worker: the scheduler refused this worker: \(refusal.message)\n".utf8))
            // A refused key stays refused (77, and a nanny gives up); a name or version refusal may pass (3).
            throw ExitCode(refusal.code == .forbidden ? 77 : 3)
        }
    }
}

/// The command line of the scheduler.
public struct SchedulerMain: ParsableCommand {
    /// Help text.
    public static let configuration = CommandConfiguration(
        commandName: "zflow-scheduler", abstract: "Run the ZFlow scheduler hub.")

    /// The TCP port.
    @Option(help: "TCP port to listen on (0 picks a free port and prints it).")
    var port: Int = 8786

    /// The interface.
    @Option(help: "Interface to bind: 127.0.0.1 (loopback) by default; any other (* for all) needs --security or --insecure.")
    var host: String = "127.0.0.1"

    /// Security.
    @OptionGroup var securityOptions: SecurityOptions

    /// Plaintext beyond loopback.
    @Flag(help: "Allow listening beyond loopback without --security (prints a warning on every start).")
    var insecure = false

    /// Worker limit.
    @Option(help: "Workers registered at once at most.")
    var maxWorkers: Int = 10_000

    /// Client limit.
    @Option(help: "Clients registered at once at most.")
    var maxClients: Int = 1_000

    /// Missed heartbeats before a worker is dead.
    @Option(help: "A worker silent for this many of its heartbeat intervals is treated as dead.")
    var heartbeatLiveness: UInt64 = 3

    /// Worker deaths a task may see.
    @Option(help: "A task that was processing on more workers that died than this fails with KilledWorker.")
    var allowedFailures: Int = 3

    /// Client grace period.
    @Option(help: "Seconds a client may be silent (e.g. while its connection is down) before its futures are released.")
    var clientTimeout: Double = 60

    /// Queuing.
    @Option(help: "Root tasks a worker holds per thread before the rest wait here (inf: no queuing).")
    var saturation: Double = 1.25

    /// Exit when standard input closes.
    @Flag(help: .hidden)
    var exitWithStdin = false

    /// Parsed by swift-argument-parser.
    public init() {}

    /// Checks the flags.
    public func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535, got \(port)") }
        guard heartbeatLiveness >= 1 else { throw ValidationError("--heartbeat-liveness must be at least 1") }
        guard allowedFailures >= 0 else { throw ValidationError("--allowed-failures must be at least 0") }
        guard clientTimeout > 0, clientTimeout.isFinite else { throw ValidationError("--client-timeout must be positive") }
        guard saturation > 0, !saturation.isNaN else { throw ValidationError("--saturation must be positive") }
        guard maxWorkers >= 1, maxClients >= 1 else { throw ValidationError("--max-workers and --max-clients must be at least 1") }
    }

    /// Parses the command line and runs the scheduler until SIGINT/SIGTERM.
    public static func runMain() -> Never {
        ProcessSignals.unblockAll()
        main()
        Foundation.exit(0)
    }

    /// Runs the scheduler (called by `main()`).
    public func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        try securityOptions.checkBind(program: "zflow-scheduler", host: host, insecure: insecure)
        var options = SchedulerServer.Options()
        options.host = host
        options.port = port
        options.security = securityOptions.directory
        options.state.maxWorkers = maxWorkers
        options.state.maxClients = maxClients
        options.state.heartbeatLiveness = heartbeatLiveness
        options.state.allowedFailures = allowedFailures
        options.state.clientTimeout = .seconds(clientTimeout)
        options.state.saturation = saturation
        let server = SchedulerServer(options: options)
        let endpoint = try startOrExit("zflow-scheduler: cannot listen on tcp://\(host):\(port)") { try server.start() }
        let security = options.security.map { " (CURVE security: \($0.path))" } ?? ""
        serve(
            announcing: "zflow-scheduler\(security) listening on \(endpoint)", exitWithStdin: exitWithStdin, stop: server.stop,
            wait: server.waitUntilStopped)
    }
}

/// Runs `start`; on failure prints `context: error` on one line and exits with code 1.
func startOrExit(_ context: String, _ start: () throws -> String) throws -> String {
    do {
        return try start()
    } catch {
        FileHandle.standardError.write(Data("\(context): \(error)\n".utf8))
        throw ExitCode(1)
    }
}

/// Prints the start line (flushed, for a parent reading a pipe), stops on SIGINT/SIGTERM or, with
/// `exitWithStdin`, when standard input closes, and returns once stopped.
func serve(
    announcing line: String, exitWithStdin: Bool, stop: @escaping @Sendable () -> Void, wait: () -> Void
) {
    print(line)
    fflush(nil)
    ProcessSignals.onTermination { _ in stop() }
    if exitWithStdin { ProcessSignals.onStandardInputClosed(stop) }
    wait()
}
