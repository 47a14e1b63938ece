import Foundation
import Testing
import ZFlow
import ZFlowCore

/// A task whose code traps (a Swift overflow, force unwrap, index out of range, `fatalError`) kills its worker;
/// the worker's fatal-signal handler reports it first, so the task fails at once with `WorkerCrashed` instead of
/// killing worker after worker, and the nanny brings the worker back.
@Suite("Crash reports on real processes", .serialized, .timeLimit(.minutes(1)))
struct CrashReportTests {
    /// The user function `trap` of `zflow-test-worker`, typed for the client.
    static let trap = TaskFunction("trap") { (kind: String) -> Int in 0 }

    @Test(arguments: ["overflow", "unwrap", "index", "fatal"])
    func aTrappingTaskFailsWithWorkerCrashedAndTheNannyRestartsItsWorker(kind: String) async throws {
        let cluster = try await TestCluster(workers: 0)
        defer { cluster.shutdown() }
        try cluster.startWorker(name: "w0", heartbeatMs: 100, extra: ["--nanny"], executable: "zflow-test-worker")
        let nanny = cluster.workers["w0"]!
        let first = try #require(nanny.waitForLine(containing: "(restart 0)", timeout: 20))
        let client = try await cluster.client()
        let doomed = try await client.submit(Self.trap, kind)
        do {
            _ = try await doomed.result(timeout: .seconds(20))
            Issue.record("a trapping task cannot succeed")
        } catch let error as TaskError {
            #expect(error.typeName == "WorkerCrashed", "\(error)")
            #expect(error.function == "trap" && error.worker == "w0" && error.key == doomed.key)
            #expect(error.message.contains("SIGILL") || error.message.contains("SIGTRAP"), "\(error.message)")
        }
        // The nanny starts the worker again, and it serves.
        let second = try #require(nanny.waitForLine(containing: "(restart 1)", timeout: 20))
        #expect(ResilienceTests.pid(in: second) != ResilienceTests.pid(in: first))
        #expect(try await client.submit(StandardFunctions.inc, 41).result(timeout: .seconds(20)) == 42)
        #expect(try await client.schedulerInfo().counters.tasksErred == 1)
    }

    @Test func aTaskWithRetriesRunsAgainAfterACrash() async throws {
        let cluster = try await TestCluster(workers: 0)
        defer { cluster.shutdown() }
        try cluster.startWorker(name: "w0", heartbeatMs: 100, extra: ["--nanny"], executable: "zflow-test-worker")
        #expect(cluster.workers["w0"]!.waitForLine(containing: "(restart 0)", timeout: 20) != nil)
        let client = try await cluster.client()
        let doomed = try await client.submit(Self.trap, "overflow", retries: 1)
        do {
            _ = try await doomed.result(timeout: .seconds(30))
            Issue.record("a trapping task cannot succeed")
        } catch let error as TaskError {
            #expect(error.typeName == "WorkerCrashed", "\(error)")
        }
        #expect(cluster.workers["w0"]!.waitForLine(containing: "(restart 2)", timeout: 20) != nil, "it ran twice")
    }
}
