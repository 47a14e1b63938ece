import Foundation
import Testing
import ZFlow
import ZFlowCore

/// Scheduling decisions seen on real processes: a late worker shares a skewed job, a consumer runs where its
/// large input lives, and resources bound where and how many tasks run at once.
@Suite("Scheduling on real processes", .serialized)
struct SchedulingTests {
    /// 200 tasks of 20 ms submitted while only w0 exists (4 s of work for it alone); w1 joins and takes a share,
    /// from the scheduler's queue and by stealing: the runs each worker counts are the evidence, not the clock.
    @Test(.timeLimit(.minutes(1)))
    func aWorkerThatJoinsMidJobTakesAShare() async throws {
        let cluster = try await TestCluster(workers: 1, threads: 1, heartbeatMs: 100)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let futures = try await client.map(StandardFunctions.sleep, Array(repeating: 0.02, count: 200))
        try cluster.startWorker(name: "w1", heartbeatMs: 100)
        let results = try await client.gather(futures, timeout: .seconds(30))
        #expect(results.count == 200 && results.allSatisfy { $0 == 0.02 })
        let info = try await client.schedulerInfo()
        let late = info.workers.first { $0.name == "w1" }
        #expect((late?.tasksCompleted ?? 0) >= 40, "w1 ran a share: \(info.workers.map { ($0.name, $0.tasksCompleted) })")
    }

    /// A 20 MB result pinned on w1 is consumed by an unrestricted task: it runs on w1 (where the bytes are),
    /// not on w0 (which a name tie-break would pick), and no worker fetches anything.
    @Test(.timeLimit(.minutes(1)))
    func aConsumerRunsWhereItsLargeInputLives() async throws {
        let cluster = try await TestCluster(workers: 2, threads: 1, heartbeatMs: 100)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let big = try await client.submit(StandardFunctions.bytes, 20_000_000, workers: ["w1"])
        let size = try await client.submit(StandardFunctions.length, big)
        #expect(try await size.result(timeout: .seconds(20)) == 20_000_000)
        let info = try await cluster.waitForInfo(client, "both tasks reported in metrics") { info in
            info.workers.reduce(0) { $0 + $1.metrics.executed } >= 2
        }
        let holders = try await client.schedulerInfo(whoHas: [size.key, big.key]).whoHas
        #expect(holders[size.key.rawValue] == ["w1"], "the consumer ran beside its input: \(holders)")
        #expect(info.workers.allSatisfy { $0.metrics.fetchedBytes == 0 }, "nothing moved: \(info.workers.map(\.metrics))")
    }

    /// A reduction built with `submitGraph` goes as one submission, ordered depth-first by the scheduler, and
    /// gives the right sum.
    @Test(.timeLimit(.minutes(1)))
    func aGraphSubmittedAtOnceReducesCorrectly() async throws {
        let cluster = try await TestCluster(workers: 2, threads: 1, heartbeatMs: 100)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let root = try await client.submitGraph { graph in
            var level = try (0..<64).map { try graph.add(StandardFunctions.inc, $0) }
            while level.count > 1 {
                level = try stride(from: 0, to: level.count, by: 2).map {
                    try graph.add(StandardFunctions.add, level[$0], level[$0 + 1])
                }
            }
            return level[0]
        }
        #expect(try await root.result(timeout: .seconds(20)) == 64 * 65 / 2)
        // The intermediate futures were dropped while the graph was built: no client wants their keys, so their
        // results are freed once the root has its inputs (the tasks stay, released, as the root's lineage).
        let info = try await cluster.waitForInfo(client, "only the root's result is kept") { $0.taskCounts["memory"] == 1 }
        #expect(info.taskCounts["memory"] == 1, "\(info.taskCounts)")
    }

    /// w0 offers GPU=1 with two threads, w1 offers none: tasks needing a GPU run only on w0 and never two at
    /// once; tasks needing nothing still run beside them.
    @Test(.timeLimit(.minutes(1)))
    func resourceTasksRunOnlyWhereTheResourceIsAndNeverOverlap() async throws {
        let cluster = try await TestCluster(workers: 0)
        defer { cluster.shutdown() }
        try cluster.startWorker(name: "w0", threads: 2, heartbeatMs: 100, extra: ["--resources", "GPU=1"])
        try cluster.startWorker(name: "w1", threads: 2, heartbeatMs: 100)
        let client = try await cluster.client()
        let gpu = try await client.map(StandardFunctions.timedSleep, Array(repeating: 0.05, count: 6), resources: ["GPU": 1])
        let plain = try await client.map(StandardFunctions.timedSleep, Array(repeating: 0.05, count: 6))
        let gpuSpans = try await client.gather(gpu, timeout: .seconds(20)).sorted { $0.start < $1.start }
        let plainSpans = try await client.gather(plain, timeout: .seconds(20))
        let gpuWorker = cluster.workers["w0"]!.pid
        #expect(gpuSpans.allSatisfy { $0.pid == gpuWorker }, "GPU tasks ran only on w0 (pid \(gpuWorker)): \(gpuSpans)")
        for (earlier, later) in zip(gpuSpans, gpuSpans.dropFirst()) {
            #expect(earlier.end <= later.start, "GPU tasks overlapped: \(earlier) and \(later)")
        }
        #expect(plainSpans.count == 6)
    }

    /// A worker with two threads given two long runs and a short one (none measured yet) runs the long ones
    /// side by side: a thread takes runs that may be long one at a time, never two while the other idles.
    @Test(.timeLimit(.minutes(1)))
    func longRunsAreNotQueuedBehindEachOtherOnOneThread() async throws {
        let cluster = try await TestCluster(workers: 1, threads: 2)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let runs = try await client.map(StandardFunctions.timedSleep, [0.6, 0.6, 0.05])
        let spans = try await client.gather(runs, timeout: .seconds(20))
        #expect(spans[0].start < spans[1].end && spans[1].start < spans[0].end, "the long runs overlapped: \(spans)")
    }

    /// Once `inc` is measured short, a worker hands runs to its thread in batches; a short run batched ahead of
    /// a 2 s `timed-sleep` (never measured, so it may be long) still has its result sent before the sleep ends.
    @Test(.timeLimit(.minutes(1)))
    func aShortResultIsNotHeldBackByALongRunAfterIt() async throws {
        let cluster = try await TestCluster(workers: 1, threads: 1)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        _ = try await client.gather(try await client.map(StandardFunctions.inc, Array(0..<200)), timeout: .seconds(20))
        let (quick, slow) = try await client.submitGraph { graph in
            (try graph.add(StandardFunctions.inc, 1), try graph.add(StandardFunctions.timedSleep, 2.0))
        }
        #expect(try await quick.result(timeout: .seconds(10)) == 2)
        // Recorded evidence, not a wall-clock bound: the short result reached this process before the sleep
        // (on the same machine's monotonic clock) had ended.
        let arrived = DispatchTime.now().uptimeNanoseconds
        let span = try await slow.result(timeout: .seconds(10))
        #expect(arrived < span.end, "the short result arrived \(Double(Int64(arrived) - Int64(span.end)) / 1e9) s after the sleep ended")
    }
}
