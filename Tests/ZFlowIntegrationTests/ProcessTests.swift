import Foundation
import Testing
import ZFlow

/// The executables' start-up and shutdown contracts.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ProcessTests {
    @Test func schedulerOnATakenPortExitsNonZeroWithAReason() async throws {
        let cluster = try await TestCluster(workers: 0)
        defer { cluster.shutdown() }
        let port = try #require(cluster.address.split(separator: ":").last.map(String.init))
        let second = try ChildProcess(
            executable: TestCluster.executable("zflow-scheduler"), arguments: ["--port", port, "--host", "127.0.0.1"],
            quiet: true)
        defer { second.terminate() }
        let status = second.waitForExit(timeout: 10)
        #expect(status != nil && status != 0, "a second scheduler on port \(port) must fail, got \(String(describing: status))")
    }

    @Test func workerWithABadAddressExitsNonZero() async throws {
        let worker = try ChildProcess(
            executable: TestCluster.executable("zflow-worker"), arguments: ["not-an-address"], quiet: true)
        defer { worker.terminate() }
        let status = worker.waitForExit(timeout: 10)
        #expect(status != nil && status != 0)
    }

    @Test func workerWhoseNameIsTakenIsRefusedAndExits() async throws {
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let duplicate = try ChildProcess(
            executable: TestCluster.executable("zflow-worker"), arguments: [cluster.address, "--name", "w0"], quiet: true)
        defer { duplicate.terminate() }
        #expect(duplicate.waitForExit(timeout: 10) == 3)
        #expect(try await client.schedulerInfo().workers.map(\.name) == ["w0"], "the first w0 keeps serving")
        #expect(try await client.submit(StandardFunctions.inc, 1).result(timeout: .seconds(10)) == 2)
    }

    @Test func sigtermStopsTheSchedulerAndWorkersCleanly() async throws {
        let cluster = try await TestCluster(workers: 1)
        let client = try await cluster.client()
        #expect(try await client.submit(StandardFunctions.inc, 1).result(timeout: .seconds(10)) == 2)
        let worker = cluster.workers["w0"]!
        worker.signal(SIGTERM)
        #expect(worker.waitForExit(timeout: 10) == 0)
        _ = try await cluster.waitForInfo(client, "the worker unregistered") { $0.workers.isEmpty }
        cluster.scheduler.signal(SIGTERM)
        #expect(cluster.scheduler.waitForExit(timeout: 10) == 0)
    }
}

/// A worker outlives its scheduler: after the scheduler restarts on the same port, the worker registers again.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct SchedulerRestartTests {
    @Test func workersRegisterAgainWithARestartedScheduler() async throws {
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        _ = try await cluster.client()
        let port = try #require(cluster.address.split(separator: ":").last.map(String.init))
        cluster.scheduler.signal(SIGKILL)
        _ = cluster.scheduler.waitForExit(timeout: 10)
        let restarted = try ChildProcess(
            executable: TestCluster.executable("zflow-scheduler"),
            arguments: ["--port", port, "--host", "127.0.0.1", "--exit-with-stdin"], quiet: true)
        defer { restarted.terminate() }
        #expect(restarted.waitForLine(containing: "listening on", timeout: 10) != nil)
        let client = try await Client.connect(cluster.address, timeout: .seconds(10))
        let info = try await cluster.waitForInfo(client, "w0 registered with the new scheduler") { $0.workers.count == 1 }
        #expect(info.workers.first?.name == "w0")
        #expect(try await client.submit(StandardFunctions.inc, 1).result(timeout: .seconds(10)) == 2)
    }
}
