import Foundation
import Logging
import ZFlowCore

/// A scheduler and workers on this machine, started by one call and stopped by `shutdown()`.
///
/// `.threads` runs them inside this process (your own functions, nothing to install); `.processes` starts the
/// `zflow-scheduler` and `zflow-worker` executables found beside this program or on `PATH` (the standard
/// functions only), as separate processes.
public final class LocalCluster: @unchecked Sendable {
    /// How the scheduler and workers run.
    public enum Mode: Sendable {
        /// In this process, on their own threads.
        case threads
        /// As child processes.
        case processes
    }

    /// The scheduler's address, e.g. `tcp://127.0.0.1:40123`.
    public let address: String
    /// The security directory every part uses, if any: connect with `Client.connect(cluster.address,
    /// security: cluster.security)`.
    public let security: SecurityDirectory?
    private var server: SchedulerServer?
    private var nodes: [WorkerNode] = []
    private var children: [ChildProcess] = []

    /// Starts a scheduler on loopback (`port` 0: a free port) and `workers` workers with `threads` threads each.
    ///
    /// - Parameters:
    ///   - functions: what in-process workers can run (standard functions are always included).
    ///   - permissions: what the workers' functions may reach: shell commands and which files (none by default).
    ///   - security: a security directory (`zflow keygen`): every connection is then CURVE. Nil: plaintext on
    ///     loopback.
    /// - Throws: when a socket cannot be bound, a key cannot be read, or an executable cannot be found or started.
    public init(
        workers: Int = 2, threads: Int = 1, mode: Mode = .threads, port: Int = 0, functions: [AnyTaskFunction] = [],
        permissions: WorkerPermissions = WorkerPermissions(), security: SecurityDirectory? = nil,
        logger: Logger = LocalCluster.quietLogger
    ) throws {
        self.security = security
        switch mode {
        case .threads:
            var options = SchedulerServer.Options()
            options.host = "127.0.0.1"
            options.port = port
            options.security = security
            let server = SchedulerServer(options: options, logger: logger)
            address = try server.start().replacingOccurrences(of: "0.0.0.0", with: "127.0.0.1")
            self.server = server
            var registry = StandardFunctions.registry
            for function in functions { registry.register(function) }
            for index in 0..<workers {
                var options = WorkerNode.Options(scheduler: address, name: "local-\(index)", nthreads: threads)
                options.security = security
                options.permissions = permissions
                let node = WorkerNode(options: options, functions: registry, logger: logger)
                try node.start()
                nodes.append(node)
            }
        case .processes:
            let securityArguments = security.map { ["--security", $0.path] } ?? []
            let scheduler = try ChildProcess(
                executable: try Self.executable("zflow-scheduler"),
                arguments: ["--port", "\(port)", "--host", "127.0.0.1", "--exit-with-stdin"] + securityArguments)
            children.append(scheduler)
            guard let line = scheduler.waitForLine(containing: "listening on", timeout: 10),
                let endpoint = line.split(separator: " ").last
            else {
                scheduler.terminate()
                throw ClientError.schedulerUnreachable(address: "zflow-scheduler --port 0", seconds: 10)
            }
            address = String(endpoint)
            for index in 0..<workers {
                children.append(
                    try ChildProcess(
                        executable: try Self.executable("zflow-worker"),
                        arguments: [address, "--nthreads", "\(threads)", "--name", "local-\(index)", "--exit-with-stdin"]
                            + securityArguments + permissions.arguments))
            }
        }
    }

    /// A logger that shows warnings and errors only, the default for embedded clusters.
    public static var quietLogger: Logger {
        var logger = Logger(label: "zflow.local")
        logger.logLevel = .warning
        return logger
    }

    /// The scheduler's process id, in `.processes` mode.
    public var schedulerProcessID: Int32? { children.first?.pid }

    /// Stops every worker and the scheduler, and waits for them.
    public func shutdown() {
        for node in nodes { node.stop() }
        for node in nodes { node.waitUntilStopped() }
        nodes.removeAll()
        server?.stop()
        server?.waitUntilStopped()
        server = nil
        for child in children.reversed() { child.terminate() }
        children.removeAll()
    }

    deinit { shutdown() }

    /// Finds a ZFlow executable beside the running program, else on `PATH`.
    static func executable(_ name: String) throws -> URL {
        var candidates: [URL] = []
        if let own = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent() {
            candidates.append(own.appendingPathComponent(name))
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append(URL(fileURLWithPath: String(directory)).appendingPathComponent(name))
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw ClientError.codec("cannot find the '\(name)' executable beside this program or on PATH")
        }
        return found
    }
}
