import Foundation
import Testing
import ZFlow
import ZFlowCore

/// A real `zflow-scheduler` and real `zflow-worker` processes on loopback with ephemeral ports.
///
/// Every wait has a deadline; `shutdown()` (and deinit) terminates every process it started, by PID.
final class TestCluster: @unchecked Sendable {
    let scheduler: ChildProcess
    var workers: [String: ChildProcess] = [:]
    let address: String
    /// The security directory every process uses, if any.
    let security: SecurityDirectory?
    /// Flags every worker started by `startWorker` gets (security, permissions).
    let workerArguments: [String]

    /// Starts a scheduler (with `schedulerArguments` added) and `workers` workers named w0, w1, … with
    /// `threads` threads each and `workerArguments`; with `security`, every process uses that directory.
    init(
        workers count: Int = 2, threads: Int = 1, heartbeatMs: Int = 200, schedulerArguments: [String] = [],
        workerArguments: [String] = [], security: SecurityDirectory? = nil
    ) async throws {
        self.security = security
        let securityArguments = security.map { ["--security", $0.path] } ?? []
        self.workerArguments = workerArguments + securityArguments
        scheduler = try ChildProcess(
            executable: Self.executable("zflow-scheduler"),
            arguments: ["--port", "0", "--host", "127.0.0.1", "--exit-with-stdin"] + schedulerArguments + securityArguments,
            quiet: ProcessInfo.processInfo.environment["ZFLOW_TEST_LOGS"] == nil)
        guard let line = scheduler.waitForLine(containing: "listening on", timeout: 20),
            let endpoint = line.split(separator: " ").last
        else {
            scheduler.terminate()
            throw ClientError.schedulerUnreachable(address: "zflow-scheduler --port 0", seconds: 20)
        }
        address = String(endpoint)
        for index in 0..<count {
            try startWorker(name: "w\(index)", threads: threads, heartbeatMs: heartbeatMs)
        }
    }

    /// Starts one more worker process (the stock `zflow-worker`, or another worker `executable`).
    func startWorker(
        name: String, threads: Int = 1, heartbeatMs: Int = 200, extra: [String] = [], executable: String = "zflow-worker"
    ) throws {
        workers[name] = try ChildProcess(
            executable: Self.executable(executable),
            arguments: [address, "--name", name, "--nthreads", "\(threads)", "--heartbeat-ms", "\(heartbeatMs)", "--exit-with-stdin"]
                + workerArguments + extra,
            quiet: ProcessInfo.processInfo.environment["ZFLOW_TEST_LOGS"] == nil)
    }

    /// A client connected to the scheduler (with the cluster's security and `identity`, if given), after every
    /// worker has registered.
    func client(identity: String? = nil) async throws -> Client {
        let client = try await Client.connect(
            address, security: security.map { SecurityDirectory($0.path, identity: identity) }, timeout: .seconds(10))
        let info = try await waitForInfo(client, "\(workers.count) workers registered") { $0.workers.count == workers.count }
        // Without its workers no test can finish: stop here rather than wait on tasks that never run.
        guard info.workers.count == workers.count else { throw ClientError.timedOut(seconds: 10) }
        return client
    }

    /// Polls `schedulerInfo()` until `condition` holds, for at most `timeout` seconds.
    func waitForInfo(
        _ client: Client, _ what: String, timeout: Double = 10, _ condition: (SchedulerInfo) -> Bool
    ) async throws -> SchedulerInfo {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var info = try await client.schedulerInfo()
        while !condition(info) {
            guard Date() < deadline else {
                Issue.record("timed out after \(timeout) s waiting for: \(what); last info: \(info)")
                return info
            }
            try await Task.sleep(for: .milliseconds(20))
            info = try await client.schedulerInfo()
        }
        return info
    }

    /// Submits, as one graph, the binary tree sum of `inc(0)…inc(leaves - 1)` (`leaves` a power of two); its
    /// result is `leaves * (leaves + 1) / 2`.
    func treeSum(_ client: Client, leaves: Int) async throws -> Future<Int> {
        try await client.submitGraph { graph in
            var level = try (0..<leaves).map { try graph.add(StandardFunctions.inc, $0) }
            while level.count > 1 {
                level = try stride(from: 0, to: level.count, by: 2).map {
                    try graph.add(StandardFunctions.add, level[$0], level[$0 + 1])
                }
            }
            return level[0]
        }
    }

    /// Terminates every process this cluster started.
    func shutdown() {
        for worker in workers.values { worker.terminate() }
        scheduler.terminate()
    }

    deinit { shutdown() }

    /// The built executable `name`, next to the test bundle.
    static func executable(_ name: String) -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.appendingPathComponent(".build/debug/\(name)")
    }
}
