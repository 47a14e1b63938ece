import Foundation
import Testing
import ZFlow
import ZFlowCore

/// Workers that die, hang and come back, on real processes with real signals (each sent by PID to a process
/// this test started).
@Suite("Resilience on real processes", .serialized)
struct ResilienceTests {
    /// A task that SIGKILLs its own worker every time is retried on 3 more workers, then fails with
    /// KilledWorker naming the 4 that died; the last worker keeps serving.
    @Test(.timeLimit(.minutes(1)))
    func aTaskThatKillsEveryWorkerFailsWithKilledWorker() async throws {
        let cluster = try await TestCluster(workers: 5, threads: 1, heartbeatMs: 100, workerArguments: ["--allow-shell"])
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let poison = try await client.submit(StandardFunctions.shell, "kill -9 $PPID")
        do {
            _ = try await poison.result(timeout: .seconds(30))
            Issue.record("the poison task returned")
        } catch let error as TaskError {
            #expect(error.typeName == "KilledWorker", "\(error)")
            let named = cluster.workers.keys.filter { error.message.contains($0) }
            #expect(named.count == 4, "names the 4 dead workers: \(error.message)")
        }
        let info = try await cluster.waitForInfo(client, "one worker left") { $0.workers.count == 1 }
        #expect(info.workers.count == 1)
        #expect(try await client.submit(StandardFunctions.inc, 41).result(timeout: .seconds(10)) == 42)
    }

    /// A worker stopped with SIGSTOP mid-job is expired, the job completes on the other worker with the right
    /// results, and after SIGCONT the stopped worker registers again and takes work.
    @Test(.timeLimit(.minutes(1)))
    func aHungWorkerIsExpiredAndRejoinsAfterSigcont() async throws {
        let cluster = try await TestCluster(workers: 2, threads: 1, heartbeatMs: 100)
        defer {
            cluster.workers["w1"]?.signal(SIGCONT)
            cluster.shutdown()
        }
        let client = try await cluster.client()
        let futures = try await client.map(StandardFunctions.timedSleep, Array(repeating: 0.05, count: 40))
        _ = try await cluster.waitForInfo(client, "w1 is working") { info in
            info.workers.first { $0.name == "w1" }.map { $0.tasksCompleted > 0 } ?? false
        }
        let hung = cluster.workers["w1"]!
        hung.signal(SIGSTOP)
        let spans = try await client.gather(futures, timeout: .seconds(30))
        #expect(spans.count == 40)
        let expired = try await cluster.waitForInfo(client, "w1 expired") { $0.workers.map(\.name) == ["w0"] }
        #expect(expired.workers.map(\.name) == ["w0"])
        hung.signal(SIGCONT)
        let back = try await cluster.waitForInfo(client, "w1 registered again") { $0.workers.count == 2 }
        #expect(back.workers.map(\.name) == ["w0", "w1"])
        let again = try await client.map(StandardFunctions.timedSleep, Array(repeating: 0.05, count: 8))
        let later = try await client.gather(again, timeout: .seconds(20))
        #expect(Set(later.map(\.pid)).contains(hung.pid), "the rejoined worker runs tasks")
    }

    /// `zflow-worker --nanny` restarts its worker after a SIGKILL; the restarted worker registers under the
    /// same name and runs tasks.
    @Test(.timeLimit(.minutes(1)))
    func theNannyRestartsAKilledWorker() async throws {
        let cluster = try await TestCluster(workers: 0)
        defer { cluster.shutdown() }
        try cluster.startWorker(name: "w0", heartbeatMs: 100, extra: ["--nanny"])
        let nanny = cluster.workers["w0"]!
        let first = try #require(nanny.waitForLine(containing: "(restart 0)", timeout: 20))
        let client = try await cluster.client()
        let pid = try #require(Self.pid(in: first))
        #expect(pid != nanny.pid, "the worker runs in a child of the nanny")
        kill(pid, SIGKILL)
        let second = try #require(nanny.waitForLine(containing: "(restart 1)", timeout: 20))
        #expect(Self.pid(in: second) != pid)
        let value = try await client.submit(StandardFunctions.inc, 41).result(timeout: .seconds(20))
        #expect(value == 42)
        let info = try await client.schedulerInfo()
        #expect(info.workers.map(\.name) == ["w0"])
    }

    /// With `--memory-limit 64MiB`, a worker whose process grows past 95 % of it (a 60 MiB result, which
    /// `bytes` allows, on top of the process itself) is restarted by its nanny.
    @Test(.timeLimit(.minutes(1)))
    func theNannyRestartsAWorkerOverItsMemoryLimit() async throws {
        let cluster = try await TestCluster(workers: 0)
        defer { cluster.shutdown() }
        try cluster.startWorker(name: "w0", heartbeatMs: 100, extra: ["--nanny", "--memory-limit", "64MiB"])
        let nanny = cluster.workers["w0"]!
        let first = try #require(nanny.waitForLine(containing: "(restart 0)", timeout: 20))
        let client = try await cluster.client()
        let big = try await client.submit(StandardFunctions.bytes, 60 << 20)
        let second = try #require(nanny.waitForLine(containing: "(restart 1)", timeout: 30))
        #expect(Self.pid(in: second) != Self.pid(in: first))
        withExtendedLifetime(big) {}  // held until here, so the task is not released before it runs
    }

    /// The pid in a nanny line `… worker pid PID started …`.
    static func pid(in line: String) -> Int32? {
        let words = line.split(separator: " ")
        guard let index = words.firstIndex(of: "pid"), index + 1 < words.count else { return nil }
        return Int32(words[index + 1])
    }
}

/// Memory limits on a real worker process.
@Suite("Spilling on real processes", .serialized)
struct SpillTests {
    /// 24 results of 8 MiB (192 MiB) on a worker limited to 64 MiB: the job completes, results are spilled
    /// and read back from disk, and the results kept in memory stay under the limit.
    @Test(.timeLimit(.minutes(1)))
    func aJobSeveralTimesTheMemoryLimitCompletesBySpilling() async throws {
        let cluster = try await TestCluster(workers: 0)
        defer { cluster.shutdown() }
        try cluster.startWorker(name: "w0", heartbeatMs: 100, extra: ["--memory-limit", "64MiB"])
        let client = try await cluster.client()
        let size = 8 << 20
        let blobs = try await client.map(StandardFunctions.bytes, Array(repeating: size, count: 24))
        var lengths: [Future<Int>] = []
        for blob in blobs { lengths.append(try await client.submit(StandardFunctions.length, blob)) }
        let total = try await client.gather(lengths, timeout: .seconds(40)).reduce(0, +)
        #expect(total == 24 * size)
        let info = try await cluster.waitForInfo(client, "spill counted in metrics") { info in
            (info.workers.first?.metrics.spillCount ?? 0) > 0
        }
        let metrics = try #require(info.workers.first?.metrics)
        #expect(metrics.memoryLimit == 64 << 20)
        #expect(metrics.storedBytes <= 64 << 20, "in memory: \(metrics.storedBytes)")
        #expect(metrics.spilledBytes >= UInt64(size), "the blobs still wanted are on disk: \(metrics.spilledBytes)")
    }

    /// Spilled results whose files are deleted behind the worker's back are recomputed when a task needs them:
    /// the worker reports them lost (`missing-data` naming itself) instead of failing the task.
    @Test(.timeLimit(.minutes(1)))
    func spilledResultsWhoseFilesVanishAreRecomputed() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zflow-lost-spill-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try await TestCluster(workers: 0)
        defer { cluster.shutdown() }
        try cluster.startWorker(
            name: "w0", heartbeatMs: 100, extra: ["--memory-limit", "32MiB", "--local-directory", directory.path])
        let client = try await cluster.client()
        let size = 8 << 20
        let blobs = try await client.map(StandardFunctions.bytes, Array(repeating: size, count: 8))
        _ = try await client.wait(blobs, timeout: .seconds(30))
        let spillFiles = {
            FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])?
                .compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true } ?? []
        }
        // Metrics come with heartbeats: wait for one that counts what is on disk.
        let spilled = try await cluster.waitForInfo(client, "results spilled, one file each") { info in
            let keys = info.workers.first?.metrics.spilledKeys ?? 0
            return keys > 0 && Int(keys) == spillFiles().count
        }
        let spilledKeys = try #require(spilled.workers.first?.metrics.spilledKeys)
        let files = spillFiles()
        #expect(files.count == Int(spilledKeys), "one file per spilled result")
        for file in files { try FileManager.default.removeItem(at: file) }
        var lengths: [Future<Int>] = []
        for blob in blobs { lengths.append(try await client.submit(StandardFunctions.length, blob)) }
        let total = try await client.gather(lengths, timeout: .seconds(40)).reduce(0, +)
        #expect(total == 8 * size)
        // Metrics come with heartbeats: wait for the one that counts every run.
        let info = try await cluster.waitForInfo(client, "each lost blob made again") { info in
            (info.workers.first?.metrics.executed ?? 0) >= 16 + spilledKeys
        }
        #expect((info.workers.first?.metrics.executed ?? 0) >= 16 + spilledKeys)
    }
}

/// Graceful retirement on real processes.
@Suite("Retirement on real processes", .serialized)
struct RetirementTests {
    /// A 1 MiB result held only by w1 survives w1's retirement: it is copied to w0, w1 exits cleanly, the
    /// result is read from w0, and nothing was recomputed.
    @Test(.timeLimit(.minutes(1)))
    func retiringAWorkerMovesItsResultsAndRecomputesNothing() async throws {
        let cluster = try await TestCluster(workers: 2, threads: 1, heartbeatMs: 100)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let blob = try await client.submit(StandardFunctions.bytes, 1 << 20, workers: ["w1"])
        _ = try await client.wait([blob], timeout: .seconds(20))
        let before = try await client.schedulerInfo().counters.tasksCompleted
        try await client.retireWorkers(["w1"], timeout: .seconds(20))
        #expect(cluster.workers["w1"]!.waitForExit(timeout: 10) == 0, "w1 unregistered and exited cleanly")
        let info = try await client.schedulerInfo(whoHas: [blob.key])
        #expect(info.workers.map(\.name) == ["w0"])
        #expect(info.whoHas[blob.key.rawValue] == ["w0"])
        #expect(try await blob.result(timeout: .seconds(10)).count == 1 << 20)
        #expect(try await client.schedulerInfo().counters.tasksCompleted == before, "nothing was recomputed")
    }

    /// `zflow retire NAME` does the same from the command line.
    @Test(.timeLimit(.minutes(1)))
    func zflowRetireRetiresAWorker() async throws {
        let cluster = try await TestCluster(workers: 2, threads: 1, heartbeatMs: 100)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let value = try await client.submit(StandardFunctions.inc, 1, workers: ["w0"])
        #expect(try await value.result(timeout: .seconds(10)) == 2)
        let retired = try CLITests().zflow(["retire", "--scheduler", cluster.address, "--timeout", "20", "w0"])
        #expect(retired.status == 0, "\(retired.err)")
        #expect(retired.out.contains("retired w0"))
        #expect(try await client.schedulerInfo().workers.map(\.name) == ["w1"])
        #expect(try await value.result(timeout: .seconds(10)) == 2)
    }
}

/// A worker killed in the middle of a graph.
@Suite("Killing a worker mid-graph", .serialized)
struct MidGraphKillTests {
    /// A 32,767-task tree reduction on three workers (large enough to be mid-way when the kill comes, even on a
    /// machine loaded by the rest of the suite; heartbeats every 300 ms, so a busy w2 is not expired beside the killed
    /// w1); w1 is SIGKILLed once 300 results are in memory. Its running and queued tasks are rerun
    /// elsewhere, results only it held are recomputed, and the sum is right.
    @Test(.timeLimit(.minutes(1)))
    func killingAWorkerMidTreeStillGivesTheRightSum() async throws {
        let cluster = try await TestCluster(workers: 3, threads: 1, heartbeatMs: 300)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let leaves = 1 << 14
        let started = Date()
        let root = try await cluster.treeSum(client, leaves: leaves)
        _ = try await cluster.waitForInfo(client, "300 results in memory") { info in (info.taskCounts["memory"] ?? 0) >= 300 }
        let pendingAtKill = root.status == .pending
        cluster.workers["w1"]!.signal(SIGKILL)
        let killedAfter = Date().timeIntervalSince(started)
        do {
            #expect(try await root.result(timeout: .seconds(40)) == leaves * (leaves + 1) / 2)
        } catch {
            let stuck = try await client.schedulerInfo()
            Issue.record("no sum: \(error); tasks \(stuck.taskCounts); workers \(stuck.workers)")
        }
        #expect(pendingAtKill, "the kill came mid-graph (after \(killedAfter) s)")
        let info = try await cluster.waitForInfo(client, "w1 expired") { $0.workers.count == 2 }
        #expect(info.workers.map(\.name) == ["w0", "w2"])
    }
}

/// A client whose fetch goes to a worker that hangs.
@Suite("Client fetches from a hung holder", .serialized)
struct HungHolderFetchTests {
    /// x lives only on w1; w1 is SIGSTOPped and the client asks for x at once, so its get-data goes to w1 and
    /// is never answered. After the fetch deadline the client asks the scheduler where x is now (recomputed on
    /// w0 after w1 expired) and gets it from there.
    @Test(.timeLimit(.minutes(1)))
    func aFetchFromAHungHolderIsRetriedWhereTheSchedulerSays() async throws {
        try await Self.withResultOnAStoppedHolder { client, x in
            let started = Date()
            let value = try await x.result(timeout: .seconds(40))
            #expect(value.count == 1 << 20)
            let waited = Date().timeIntervalSince(started)
            let info = try await client.schedulerInfo(whoHas: [x.key])
            #expect(
                info.whoHas[x.key.rawValue] == ["w0"],
                "recomputed on w0 after w1 expired (waited \(waited) s; workers \(info.workers.map { ($0.name, $0.tasksCompleted) }))")
        }
    }

    /// The timeout of `result`/`gather` covers fetching too: x's only holder is stopped, so the fetch would
    /// wait for its 5 s deadline (and a retry after); the caller's 1 s timeout ends it first.
    @Test(.timeLimit(.minutes(1)))
    func aResultTimeoutCoversAFetchFromAHungHolder() async throws {
        try await Self.withResultOnAStoppedHolder { _, x in
            let started = Date()
            do {
                _ = try await x.result(timeout: .seconds(1))
                Issue.record("expected a timeout; the value came after \(Date().timeIntervalSince(started)) s")
            } catch ClientError.timedOut {
                #expect(Date().timeIntervalSince(started) < 4, "it ends near the 1 s asked for")
            }
        }
    }

    /// Runs `body` with a client of two workers (100 ms heartbeats) and x, a 1 MiB result made on w1 only, with
    /// w1 stopped (SIGSTOP) before anything fetches x; w1 is continued and the cluster stopped afterwards.
    static func withResultOnAStoppedHolder(_ body: (Client, Future<Data>) async throws -> Void) async throws {
        let cluster = try await TestCluster(workers: 2, threads: 1, heartbeatMs: 100)
        defer {
            cluster.workers["w1"]?.signal(SIGCONT)
            cluster.shutdown()
        }
        let client = try await cluster.client()
        let x = try await client.submit(StandardFunctions.bytes, 1 << 20, workers: ["w1"], allowOtherWorkers: true)
        _ = try await client.wait([x], timeout: .seconds(20))
        cluster.workers["w1"]!.signal(SIGSTOP)
        #expect(waitUntilStopped(cluster.workers["w1"]!.pid, timeout: 5), "w1 is stopped before the fetch")
        try await body(client, x)
    }

    /// Polls /proc until the process is in state T (stopped), for at most `timeout` seconds.
    static func waitUntilStopped(_ pid: Int32, timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "T"
            {
                return true
            }
            usleep(5_000)
        }
        return false
    }
}

/// A client that goes silent: within the scheduler's client timeout it keeps its futures; past it, they are
/// released and the client fails with a precise error instead of waiting forever.
@Suite("Clients that go silent", .serialized)
struct SilentClientTests {
    /// Runs `zflow submit sleep SECONDS` as a child process, stops it with SIGSTOP for `pause` seconds while
    /// its task runs, and returns its exit status and standard error.
    static func submitPausing(_ cluster: TestCluster, sleep seconds: String, pause: Double) async throws -> (Int32?, String) {
        var observer = try await cluster.client()
        defer { observer.close() }
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("zflow-silent-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: errors) }
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = Process()
        process.executableURL = TestCluster.executable("zflow")
        process.arguments = ["submit", "--scheduler", cluster.address, "--timeout", "20", "sleep", seconds]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // A debug `zflow` starting under a loaded test run can take seconds; a short task may also be over by
        // the time a poll sees it (the pause then still falls while the client waits for its result).
        // The observer is a client too, under the same short client timeout: on a loaded machine it may be
        // forgotten itself, and then a fresh one goes on watching (it holds no futures).
        let watchUntil = Date(timeIntervalSinceNow: 30)
        while true {
            do {
                _ = try await cluster.waitForInfo(observer, "its task runs", timeout: watchUntil.timeIntervalSinceNow) { info in
                    info.workers.first.map { $0.processing == 1 || $0.tasksCompleted > 0 } ?? false
                }
                break
            } catch ClientError.forgotten where Date() < watchUntil {
                observer.close()
                observer = try await cluster.client()
            }
        }
        kill(process.processIdentifier, SIGSTOP)
        usleep(UInt32(pause * 1_000_000))  // the silence under test, not a wait for an event
        kill(process.processIdentifier, SIGCONT)
        let deadline = Date(timeIntervalSinceNow: 20)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        let text = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        return (process.isRunning ? nil : process.terminationStatus, text)
    }

    /// Silent for 0.5 s of a 3 s grace period: the client keeps its future and gets the result.
    @Test(.timeLimit(.minutes(1)))
    func aClientSilentWithinTheGracePeriodKeepsItsFutures() async throws {
        let cluster = try await TestCluster(workers: 1, schedulerArguments: ["--client-timeout", "3"])
        defer { cluster.shutdown() }
        let (status, errors) = try await Self.submitPausing(cluster, sleep: "1.5", pause: 0.5)
        #expect(status == 0, "\(errors)")
    }

    /// Silent for 2.5 s with a 1 s timeout: its futures are released, and when it resumes it fails at once
    /// with an error saying so.
    @Test(.timeLimit(.minutes(1)))
    func aClientSilentPastTheGracePeriodFailsWithAClearError() async throws {
        let cluster = try await TestCluster(workers: 1, schedulerArguments: ["--client-timeout", "1"])
        defer { cluster.shutdown() }
        let (status, errors) = try await Self.submitPausing(cluster, sleep: "5", pause: 2.5)
        #expect(status != nil && status != 0, "it ends, with a failure")
        #expect(errors.contains("no longer knows this client"), "\(errors)")
    }
}

/// A gather whose result is lost and still being recomputed when its fetch gives up.
@Suite("Gathering a result being recomputed", .serialized)
struct RecomputingGatherTests {
    /// x (6 s of work) lives on w1, which is SIGSTOPped before the client fetches it: the fetch times out
    /// (5 s), the scheduler names no holder yet (x is being recomputed on w0), so the client waits for the
    /// recomputation and then fetches it from w0 instead of failing.
    @Test(.timeLimit(.minutes(1)))
    func aGatherWaitsForARecomputationInsteadOfFailing() async throws {
        let cluster = try await TestCluster(workers: 2, threads: 1, heartbeatMs: 100)
        defer {
            cluster.workers["w1"]?.signal(SIGCONT)
            cluster.shutdown()
        }
        let client = try await cluster.client()
        let x = try await client.map(StandardFunctions.timedSleep, [6.0], workers: ["w1"], allowOtherWorkers: true)
        _ = try await client.wait(x, timeout: .seconds(30))
        let hung = cluster.workers["w1"]!
        hung.signal(SIGSTOP)
        #expect(HungHolderFetchTests.waitUntilStopped(hung.pid, timeout: 5))
        let spans = try await client.gather(x, timeout: .seconds(40))
        #expect(spans.count == 1)
        #expect(spans.first?.pid != hung.pid, "the value came from the recomputation on w0")
    }
}
