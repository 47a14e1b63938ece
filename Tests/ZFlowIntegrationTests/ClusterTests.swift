import Foundation
import Testing
import ZFlow
import ZFlowCore

let inc = StandardFunctions.inc
let add = StandardFunctions.add

/// End-to-end behaviour on real processes: one scheduler, two workers, loopback, ephemeral ports.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ClusterTests {
    @Test func seedScenario() async throws {
        let cluster = try await TestCluster()
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let x = try await client.submit(inc, 1)
        let y = try await client.submit(inc, 2)
        let z = try await client.submit(add, x, y)
        #expect(try await z.result(timeout: .seconds(20)) == 5)
        let ys = try await client.map(inc, Array(0..<10_000))
        let total = try await client.gather(ys, timeout: .seconds(40)).reduce(0, +)
        #expect(total == (1...10_000).reduce(0, +))
        let info = try await client.schedulerInfo()
        #expect(info.counters.payloadBytesRelayed == 0)
        #expect(info.workers.allSatisfy { $0.tasksCompleted > 0 }, "map spreads over both workers: \(info.workers)")
    }

    @Test func treeReductionMovesDataWorkerToWorker() async throws {
        let cluster = try await TestCluster()
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        var level = try await client.map(inc, Array(0..<1024))
        while level.count > 1 {
            var next: [Future<Int>] = []
            for pair in stride(from: 0, to: level.count, by: 2) {
                next.append(try await client.submit(add, level[pair], level[pair + 1]))
            }
            level = next
        }
        #expect(try await level[0].result(timeout: .seconds(40)) == (1...1024).reduce(0, +))
        let info = try await cluster.waitForInfo(client, "both workers report peer fetches") { info in
            info.workers.count == 2 && info.workers.allSatisfy { $0.metrics.executed > 0 }
                && info.workers.reduce(0) { $0 + $1.metrics.fetchedKeys } > 0
        }
        #expect(info.workers.allSatisfy { $0.tasksCompleted > 0 })
        let fetched = info.workers.reduce(0) { $0 + $1.metrics.fetchedKeys }
        let served = info.workers.reduce(0) { $0 + $1.metrics.servedKeys }
        #expect(fetched > 0)
        #expect(served >= fetched, "every fetched key was served by a peer")
        #expect(info.counters.payloadBytesRelayed == 0, "results never pass through the scheduler")
    }

    @Test func aThrowingTaskFailsItsFutureAndItsDependents() async throws {
        let cluster = try await TestCluster()
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let failing = try await client.submit(StandardFunctions.fail, "boom")
        let dependent = try await client.submit(add, failing, 1)
        do {
            _ = try await failing.result(timeout: .seconds(20))
            Issue.record("expected a TaskError")
        } catch let error as TaskError {
            #expect(error.key == failing.key)
            #expect(error.function == "fail")
            #expect(error.worker.map { ["w0", "w1"].contains($0.rawValue) } == true)
            #expect(error.message.contains("boom"))
        }
        do {
            _ = try await dependent.result(timeout: .seconds(20))
            Issue.record("expected the dependent to fail")
        } catch let error as TaskError {
            #expect(error.key == dependent.key)
            #expect(error.causeKey == failing.key)
            #expect(error.message.contains("boom"))
        }
        #expect(try await client.submit(inc, 41).result(timeout: .seconds(20)) == 42, "the cluster keeps serving")
    }

    @Test func unknownFunctionsAndWrongArgumentTypesAreClearErrors() async throws {
        let cluster = try await TestCluster()
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let nope = TaskFunction("no-such-function") { (x: Int) in x }
        do {
            _ = try await client.submit(nope, 1).result(timeout: .seconds(20))
            Issue.record("expected UnknownFunction")
        } catch let error as TaskError {
            #expect(error.typeName == "UnknownFunction")
            #expect(error.message.contains("no-such-function"))
        }
        let wrongTypes = TaskFunction("inc") { (text: String) in text }
        do {
            _ = try await client.submit(wrongTypes, "hello").result(timeout: .seconds(20))
            Issue.record("expected ArgumentError")
        } catch let error as TaskError {
            #expect(error.typeName == "ArgumentError")
            #expect(error.message.contains("argument 1 of 'inc'"))
        }
        #expect(try await client.submit(inc, 1).result(timeout: .seconds(20)) == 2)
    }

    /// A running Swift function cannot be interrupted: cancel settles the future at once, and the worker drops
    /// the result when the run ends.
    @Test func cancelSettlesARunningTaskAndTheWorkerDropsItsResult() async throws {
        let cluster = try await TestCluster()
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let slow = try await client.submit(StandardFunctions.sleep, 2.0)
        let dependent = try await client.submit(StandardFunctions.identity, AnyValue.null)
        // Wait until a thread runs it: a run cancelled while still queued in the pool is withdrawn, not run. (Two
        // seconds of sleep: the running count arrives with heartbeats, which a loaded machine delays.)
        _ = try await cluster.waitForInfo(client, "the sleep is running") { info in
            info.workers.contains { $0.metrics.running >= 1 }
        }
        await client.cancel([slow])
        do {
            _ = try await slow.result(timeout: .seconds(10))
            Issue.record("expected cancellation")
        } catch ClientError.cancelled(let key) {
            #expect(key == slow.key)
        }
        _ = try await dependent.result(timeout: .seconds(10))
        let info = try await cluster.waitForInfo(client, "the cancelled run ended and its result was dropped") { info in
            info.taskCounts["processing", default: 0] == 0 && info.workers.reduce(0) { $0 + $1.metrics.executed } == 2
                && info.workers.reduce(0) { $0 + $1.metrics.storedKeys } == 1
        }
        #expect(info.taskCounts["memory"] == 1, "only the identity result is kept")
        #expect(try await client.submit(inc, 1).result(timeout: .seconds(20)) == 2)
    }

    @Test func droppedFuturesFreeResultsOnEveryWorker() async throws {
        let cluster = try await TestCluster()
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        do {
            let futures = try await client.map(inc, Array(0..<200))
            let total = try await client.gather(futures, timeout: .seconds(20)).reduce(0, +)
            #expect(total == (1...200).reduce(0, +))
            let held = try await client.schedulerInfo().workers.reduce(0) { $0 + $1.keysHeld }
            #expect(held == 200)
        }
        // Another client watches, so this one sends nothing after dropping its futures: the held-back
        // releases leave on their own.
        let observer = try await cluster.client()
        let info = try await cluster.waitForInfo(observer, "workers report empty stores") { info in
            info.workers.allSatisfy { $0.keysHeld == 0 && $0.metrics.storedKeys == 0 && $0.metrics.executed > 0 }
        }
        #expect(info.taskCounts.values.reduce(0, +) == 0, "the scheduler forgot every task")
        #expect(info.workers.allSatisfy { $0.metrics.storedBytes == 0 }, "each worker's own store is empty")
        // Still connected (its departure would release everything anyway).
        #expect(try await client.schedulerInfo().clients == 2)
    }

    /// A key dropped and submitted again at once, 100 times: each resolves. The client's release leaves before
    /// the new submit, and a late report of the previous run does not make the worker drop the new run (which
    /// then never reported: a hang). A key names one computation, so each round is the same `inc(41)`.
    @Test func aKeySubmittedAgainRightAfterItsFutureIsDroppedResolvesEachTime() async throws {
        let cluster = try await TestCluster()
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        for round in 0..<100 {
            let value = try await client.submit(inc, 41, key: "same-key").result(timeout: .seconds(10))
            #expect(value == 42, "round \(round)")
        }
    }

    @Test func scatterGatherAsCompletedAndWait() async throws {
        let cluster = try await TestCluster()
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let scattered = try await client.scatter([1, 2, 3, 4])
        #expect(try await client.gather(scattered) == [1, 2, 3, 4])
        let total = try await client.submit(StandardFunctions.sum, scattered)
        #expect(try await total.result(timeout: .seconds(20)) == 10)
        let custom = try await client.submit(inc, 5, key: "my-key")
        #expect(custom.key == "my-key")
        // Both workers idle first (as the scheduler sees them, which may be after the pushed result arrives
        // here), so the two sleeps run side by side: placement breaks a tie by name.
        #expect(try await custom.result(timeout: .seconds(20)) == 6)
        _ = try await cluster.waitForInfo(client, "both workers idle") { $0.workers.allSatisfy { $0.processing == 0 } }
        let sleeps = [
            try await client.submit(StandardFunctions.sleep, 0.3),
            try await client.submit(StandardFunctions.sleep, 0.01),
        ]
        var order: [TaskKey] = []
        for await future in client.asCompleted(sleeps) { order.append(future.key) }
        #expect(order == [sleeps[1].key, sleeps[0].key])
        let slow = try await client.submit(StandardFunctions.sleep, 5.0)
        let fast = try await client.submit(StandardFunctions.sleep, 0.0)
        let (done, notDone) = try await client.wait([slow, fast], returnWhen: .firstCompleted, timeout: .seconds(20))
        #expect(done.map(\.key) == [fast.key])
        #expect(notDone.map(\.key) == [slow.key])
        do {
            _ = try await slow.result(timeout: .milliseconds(200))
            Issue.record("expected a timeout")
        } catch ClientError.timedOut {}
    }

    /// A gather of several fetch chunks, some keys finished before it starts and some after, with a key
    /// twice: every value comes back, in order.
    @Test func aLargeGatherReturnsEveryValueInOrder() async throws {
        let cluster = try await TestCluster()
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let early = try await client.map(inc, Array(0..<1500))
        _ = try await client.wait(early, timeout: .seconds(20))
        let late = try await client.map(inc, Array(1500..<3500))
        let all = early + late + [early[0]]
        let values = try await client.gather(all, timeout: .seconds(30))
        #expect(values == Array(1...3500) + [1])
    }

    @Test func killedWorkerMidTaskStillResolves() async throws {
        let cluster = try await TestCluster()
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let slow = try await client.submit(StandardFunctions.sleep, 1.0, key: "victim")
        let info = try await cluster.waitForInfo(client, "the task is processing") { $0.workers.contains { $0.processing == 1 } }
        let victim = try #require(info.workers.first { $0.processing == 1 }?.name)
        cluster.workers[victim]!.signal(SIGKILL)
        #expect(try await slow.result(timeout: .seconds(20)) == 1.0)
        let after = try await client.schedulerInfo()
        #expect(after.workers.map(\.name) == [victim == "w0" ? "w1" : "w0"])
    }
}

/// Client behaviour that needs a real worker: concurrent fetches from one holder, and waits that time out.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ClientConcurrencyTests {
    @Test func concurrentResultsFromTheSameWorkerAllArrive() async throws {
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let futures = try await client.map(inc, Array(0..<50))
        _ = try await client.wait(futures, timeout: .seconds(20))
        let values = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for (index, future) in futures.enumerated() {
                group.addTask { (index, try await future.result(timeout: .seconds(20))) }
            }
            var values = [Int](repeating: -1, count: futures.count)
            for try await (index, value) in group { values[index] = value }
            return values
        }
        #expect(values == Array(1...50), "replies batched into one message each answer their own request")
    }

    @Test func smallResultsArePushedToTheWaitingClient() async throws {
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        // Warm up: the client's socket to the worker is being connected meanwhile; a push to a client the worker's
        // ROUTER does not know yet is dropped, and that result is fetched instead.
        for value in 0..<20 { #expect(try await client.submit(inc, value).result(timeout: .seconds(10)) == value + 1) }
        let before = try await cluster.waitForInfo(client, "w0 reports its runs") { $0.workers.first?.metrics.executed == 20 }
        let servedBefore = before.workers.first?.metrics.servedKeys ?? 0
        for value in 0..<20 { #expect(try await client.submit(inc, value).result(timeout: .seconds(10)) == value + 1) }
        let after = try await cluster.waitForInfo(client, "w0 reports its runs") { $0.workers.first?.metrics.executed == 40 }
        let served = (after.workers.first?.metrics.servedKeys ?? 0) - servedBefore
        // A push races the scheduler's task-finished; it usually wins, but under load some results are fetched.
        #expect(served < 20, "at least one of 20 results came by push, not by get-data (\(served) fetched)")
        let big = try await client.submit(StandardFunctions.bytes, 10_000).result(timeout: .seconds(10))
        #expect(big.count == 10_000)
        let last = try await cluster.waitForInfo(client, "w0 served the large result") {
            $0.workers.first?.metrics.servedKeys == servedBefore + served + 1
        }
        #expect(last.workers.first?.metrics.servedKeys == servedBefore + served + 1, "results above 4 KiB are fetched")
    }

    @Test func waitWithATimeoutReturnsEvenWhenNothingFinishes() async throws {
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let slow = try await client.submit(StandardFunctions.sleep, 3.0)
        let started = ContinuousClock.now
        do {
            _ = try await client.wait([slow, slow], returnWhen: .allCompleted, timeout: .milliseconds(300))
            Issue.record("expected a timeout")
        } catch ClientError.timedOut {}
        #expect(ContinuousClock.now - started < .seconds(2))
    }
}
