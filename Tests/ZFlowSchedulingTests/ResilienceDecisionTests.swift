import Testing
import ZFlowCore
import ZFlowScheduling
import ZFlowTestKit

/// A harness with client c1 and workers w0…w(count-1), each with a 100 ms heartbeat.
private func workers(_ count: Int, config: SchedulerConfig = SchedulerConfig()) -> SchedulerHarness {
    var h = SchedulerHarness(config: config)
    for index in 0..<count { h.registerWorker(WorkerID("w\(index)")) }
    h.registerClient("c1")
    return h
}

/// Lets the worker running `key` die silently: every other worker heartbeats, time passes beyond three
/// intervals, and a tick expires it. Returns the tick's actions.
private func expireWorkerRunning(_ key: TaskKey, _ h: inout SchedulerHarness) -> [SchedulerAction] {
    let victim = h.worker(of: key)!
    h.now = Instant(nanoseconds: h.now.nanoseconds + 250_000_000)
    for worker in h.state.workers.keys.sorted() where worker != victim { h.fromWorker(worker, .heartbeat) }
    h.now = Instant(nanoseconds: h.now.nanoseconds + 100_000_000)
    let actions = h.tick()
    #expect(h.state.workers[victim] == nil, "\(victim) expired")
    return actions
}

@Suite("Resilience decisions: workers that die")
struct ResilienceDecisionTests {
    /// A task whose workers keep dying is rescheduled while at most `allowedFailures` (3) of them died, and
    /// fails with KilledWorker naming all four on the fourth death; the client is told.
    @Test func aTaskThatKillsItsWorkersFailsWithKilledWorkerAfterTheLimit() {
        var h = workers(5)
        h.submit([.dummy("poison")])
        var dead: [WorkerID] = []
        for death in 1...3 {
            dead.append(h.worker(of: "poison")!)
            _ = expireWorkerRunning("poison", &h)
            #expect(h.state.tasks["poison"]?.status == .processing, "rescheduled after death \(death)")
            #expect(h.state.tasks["poison"]?.suspects.map(\.worker) == dead)
        }
        dead.append(h.worker(of: "poison")!)
        let actions = expireWorkerRunning("poison", &h)
        #expect(h.state.tasks["poison"]?.status == .erred)
        let error = h.state.tasks["poison"]?.error
        #expect(error?.typeName == "KilledWorker")
        for worker in dead { #expect(error?.message.contains(worker.rawValue) == true, "names \(worker)") }
        #expect(actions.contains { if case .toClient("c1", .taskErred(key: "poison", _)) = $0 { true } else { false } })
        #expect(h.state.workers.count == 1, "one worker is left to serve others")
    }

    /// `allowedFailures: 0` fails the task on the first death.
    @Test func noAllowedFailuresFailsOnTheFirstDeath() {
        var config = SchedulerConfig()
        config.allowedFailures = 0
        var h = workers(2, config: config)
        h.submit([.dummy("poison")])
        _ = expireWorkerRunning("poison", &h)
        #expect(h.state.tasks["poison"]?.error?.typeName == "KilledWorker")
    }

    /// A worker that was expired but registers again from the same connection did not die (a pause, an
    /// overloaded machine): its expiries do not count towards KilledWorker.
    @Test func anExpiredWorkerThatComesBackIsNotCountedAsDead() {
        var h = workers(2)
        h.submit([.dummy("t")])
        for _ in 1...5 {
            let worker = h.worker(of: "t")!
            _ = expireWorkerRunning("t", &h)
            h.registerWorker(worker)
        }
        #expect(h.state.tasks["t"]?.suspects.count == 5)
        #expect(h.state.tasks["t"]?.status == .processing, "five expiries of revived workers are no deaths")
        #expect(h.state.revivals.values.reduce(0, +) == 5)
    }

    /// An expiry is forgiven when that connection registers again, but a later death of the same connection
    /// still counts.
    @Test func aRevivedWorkerThatLaterDiesCounts() {
        var config = SchedulerConfig()
        config.allowedFailures = 1
        var h = workers(2, config: config)
        h.submit([.dummy("t")])
        let first = h.worker(of: "t")!
        _ = expireWorkerRunning("t", &h)  // first suspect, then revived below: forgiven
        h.registerWorker(first)
        _ = expireWorkerRunning("t", &h)  // the other worker: counts (1 of 1 allowed)
        #expect(h.state.tasks["t"]?.status == .processing)
        #expect(h.worker(of: "t") == first)
        _ = expireWorkerRunning("t", &h)  // the revived worker dies again: counts (2 > 1)
        #expect(h.state.tasks["t"]?.error?.typeName == "KilledWorker")
    }

    /// A worker that unregisters (a clean stop) makes no task suspicious: its tasks are simply rescheduled.
    @Test func aCleanStopIsNotADeath() {
        var h = workers(2)
        h.submit([.dummy("t")])
        let first = h.worker(of: "t")!
        h.fromWorker(first, .unregister)
        #expect(h.state.tasks["t"]?.suspects.isEmpty == true)
        #expect(h.state.tasks["t"]?.status == .processing)
        #expect(h.worker(of: "t") != first)
    }

    /// Only the tasks processing on the dead worker become suspicious, not those elsewhere.
    @Test func tasksOnOtherWorkersAreNotSuspected() {
        var h = workers(2)
        h.submit([.dummy("a"), .dummy("b")])
        let onW0 = h.state.tasks.values.first { $0.processingOn == "w0" }!.key
        let onW1 = h.state.tasks.values.first { $0.processingOn == "w1" }!.key
        _ = expireWorkerRunning(onW0, &h)
        #expect(h.state.tasks[onW0]?.suspects.map(\.worker) == ["w0"])
        #expect(h.state.tasks[onW1]?.suspects.isEmpty == true)
    }
}

@Suite("Nanny restart policy")
struct NannyPolicyTests {
    /// Deaths are restarted with a doubling delay, capped at the maximum.
    @Test func delaysDoubleUpToTheMaximum() {
        var policy = NannyPolicy(maximumRestarts: 10)
        let delays = (0..<7).map { _ in policy.decide(.signalled(9), uptime: .seconds(1)) }
        #expect(
            delays == [0.5, 1, 2, 4, 8, 10, 10].map { NannyDecision.restart(after: .seconds($0)) })
    }

    /// After `maximumRestarts` restarts in a row the nanny gives up with status 1.
    @Test func givesUpAfterTheLimit() {
        var policy = NannyPolicy(maximumRestarts: 2)
        #expect(policy.decide(.exited(1), uptime: .seconds(1)) == .restart(after: .milliseconds(500)))
        #expect(policy.decide(.signalled(11), uptime: .seconds(1)) == .restart(after: .seconds(1)))
        guard case .giveUp(let status, _) = policy.decide(.signalled(9), uptime: .seconds(1)) else {
            Issue.record("expected to give up")
            return
        }
        #expect(status == 1)
    }

    /// A worker that ran a stable while resets the count and the delay.
    @Test func aStableRunResetsTheCount() {
        var policy = NannyPolicy(maximumRestarts: 1)
        #expect(policy.decide(.signalled(9), uptime: .seconds(1)) == .restart(after: .milliseconds(500)))
        #expect(policy.decide(.signalled(9), uptime: .seconds(120)) == .restart(after: .milliseconds(500)))
        #expect(policy.restarts == 1)
    }

    /// A clean exit and bad flags end supervision; a refusal by the scheduler (3) is restarted, since a dead
    /// predecessor may still hold the name until it expires.
    @Test func cleanExitAndBadFlagsStopRefusalRestarts() {
        var policy = NannyPolicy(maximumRestarts: 5)
        #expect(policy.decide(.exited(0), uptime: .seconds(1)) == .giveUp(status: 0, reason: "the worker stopped cleanly"))
        #expect(policy.decide(.exited(64), uptime: .seconds(1)) == .giveUp(status: 64, reason: "the worker's flags are wrong"))
        #expect(policy.decide(.exited(3), uptime: .seconds(1)) == .restart(after: .milliseconds(500)))
        #expect(
            policy.decide(.exited(77), uptime: .seconds(1))
                == .giveUp(status: 77, reason: "the scheduler refused the worker's key: restarting would not help"))
        #expect(policy.decide(.overMemory, uptime: .seconds(1)) == .restart(after: .seconds(1)), "a memory kill is a death")
    }
}

@Suite("Resilience decisions: lost results")
struct LostResultTests {
    /// A task running on w1 whose input lived only on w0 is not restarted when w0 dies (it most likely has
    /// the input already); the input is recomputed for whoever still needs it.
    @Test func aRunningDependentIsNotRestartedWhenItsInputIsLost() {
        var h = workers(2)
        h.submit([.dummy("x")])
        #expect(h.worker(of: "x") == "w0")
        h.finish("x", nbytes: 8)
        h.fromWorker("w0", .heartbeat)
        h.submit([.dummy("busy"), .dummy("y", deps: ["x"])], from: "c1")
        // `busy` makes w0 busier than moving x's 8 bytes takes, so y is placed on w1.
        if h.worker(of: "y") != "w1" {
            Issue.record("y went to \(String(describing: h.worker(of: "y"))); the setup needs it on w1")
            return
        }
        let run = h.runID(of: "y")
        let actions = expireWorkerRunning("busy", &h)
        #expect(!actions.contains(.toWorker(.worker("w1"), .freeKeys(["y"]))), "\(actions)")
        #expect(h.worker(of: "y") == "w1" && h.runID(of: "y") == run)
        #expect(h.state.tasks["x"]?.status == .processing, "x is recomputed, c1 still wants it")
    }

    /// w0 alone holds `b` and `a = f(b)` (a sorts first); `c` needs `a` and a `slow` task on w0. When w0
    /// dies, `a` must not be recomputed on w1 before `b` is: an assignment of `a` with `b`'s holders empty
    /// would wait for ever on w1 (found by the mid-graph kill test).
    @Test func aLostResultIsNotRecomputedFromAnotherLostResult() {
        var h = SchedulerHarness()
        h.registerWorker("w0", functions: ["inc", "sleep"])
        h.registerClient("c1")
        h.submit([.dummy("b")])
        h.finish("b")
        h.submit([.dummy("a", deps: ["b"])])
        h.finish("a")
        h.submit([.dummy("slow", function: "sleep"), .dummy("c", deps: ["a", "slow"])])
        #expect(h.worker(of: "slow") == "w0")
        h.registerWorker("w1", functions: ["inc", "sleep"])
        let actions = expireWorkerRunning("slow", &h)
        for case .toWorker(_, .computeTask(let assignment)) in actions {
            for location in assignment.dependencies {
                #expect(!location.holders.isEmpty, "\(assignment.key) assigned with no holder of \(location.key)")
            }
        }
        #expect(h.state.tasks["b"]?.status == .processing, "b is recomputed first")
        #expect(h.state.tasks["a"]?.status == .waiting, "a waits for b")
        h.finish("b")
        #expect(h.state.tasks["a"]?.status == .processing)
    }

    /// w0 alone holds `z` and `b = f(z)` (b sorts first, so recomputing b starts z's recomputation before z's
    /// own turn); `c = g(z, x)` waits for `x` on w1. When w0 dies, c must wait for z again: once x finishes,
    /// c is still waiting, and no assignment names an input without holders.
    @Test func aWaitingTaskWaitsAgainForAnInputLostWithItsHolder() {
        var h = SchedulerHarness()
        h.registerWorker("w0", functions: ["inc"])
        h.registerClient("c1")
        h.submit([.dummy("z")])
        h.finish("z")
        h.submit([.dummy("b", deps: ["z"])])
        h.finish("b")
        h.registerWorker("w1", functions: ["inc", "sleep"])
        h.submit([.dummy("x", function: "sleep"), .dummy("c", deps: ["z", "x"])])
        #expect(h.worker(of: "x") == "w1")
        h.now = Instant(nanoseconds: h.now.nanoseconds + 250_000_000)
        h.fromWorker("w1", .heartbeat)
        h.now = Instant(nanoseconds: h.now.nanoseconds + 100_000_000)
        var actions = h.tick()
        #expect(h.state.workers["w0"] == nil, "w0 expired")
        #expect(h.state.tasks["c"]?.waitingOn == ["z", "x"])
        actions += h.finish("x")
        #expect(h.state.tasks["c"]?.status == .waiting, "c still waits for z")
        actions += h.finish("z")
        for case .toWorker(_, .computeTask(let assignment)) in actions {
            for location in assignment.dependencies {
                #expect(!location.holders.isEmpty, "\(assignment.key) assigned with no holder of \(location.key)")
            }
        }
        #expect(h.state.tasks["c"]?.status == .processing)
    }
}

@Suite("Resilience decisions: graceful retirement")
struct RetirementDecisionTests {
    /// Retiring w0, which alone holds x: w1 is asked to copy x; when w1 reports it, w0 is told to retire and
    /// removed, x stays in memory on w1, and nothing is recomputed.
    @Test func aRetiringWorkersOwnResultsAreCopiedBeforeItLeaves() {
        var h = workers(2)
        h.submit([.dummy("x")])
        #expect(h.worker(of: "x") == "w0")
        h.finish("x", nbytes: 100)
        let completed = h.state.counters.tasksCompleted
        let asked = h.fromClient("c1", .retireWorkers(["w0"]))
        #expect(
            asked == [.toWorker(.worker("w1"), .acquireReplicas([.dummy("x", nbytes: 100, holders: [.dummy("w0")])]))])
        #expect(h.state.replicating == ["x": "w1"])
        #expect(h.fromClient("c1", .heartbeat).isEmpty, "the copy is asked for once")
        let done = h.fromWorker("w1", .addKeys([KeySize(key: "x", nbytes: 100)]))
        #expect(
            done == [
                .toWorker(.worker("w0"), .retire),
                .toClient("c1", .taskFinished(key: "x", nbytes: 100, holders: [.dummy("w1")])),
            ], "the client learns where x is now")
        #expect(h.state.workers["w0"] == nil && h.state.retiring.isEmpty)
        #expect(h.state.tasks["x"]?.status == .memory)
        #expect(h.state.tasks["x"]?.holders == ["w1"])
        #expect(h.state.counters.tasksCompleted == completed)
    }

    /// A retiring worker gets no new tasks and first finishes those it has; a worker named by its peer address
    /// retires too.
    @Test func aRetiringWorkerFinishesItsTasksAndGetsNoNewOnes() {
        var h = workers(2)
        h.submit([.dummy("a")])
        #expect(h.worker(of: "a") == "w0")
        #expect(h.fromClient("c1", .retireWorkers([WorkerID(PeerAddress.dummy("w0").rawValue)])).isEmpty)
        #expect(h.state.retiring == ["w0"])
        h.submit([.dummy("b")])
        #expect(h.worker(of: "b") == "w1", "no new task for a retiring worker")
        let finished = h.finish("a")
        #expect(finished.contains(.toWorker(.worker("w1"), .acquireReplicas([.dummy("a", holders: [.dummy("w0")])]))))
    }

    /// With nowhere to copy its results, a retiring worker stays (and keeps them) until another worker joins.
    @Test func aLoneWorkerWithResultsWaitsForAnotherToJoin() {
        var h = workers(1)
        h.submit([.dummy("x")])
        h.finish("x")
        #expect(h.fromClient("c1", .retireWorkers(["w0"])).isEmpty)
        #expect(h.state.workers["w0"] != nil)
        let joined = h.registerWorker("w1")
        #expect(joined.contains(.toWorker(.worker("w1"), .acquireReplicas([.dummy("x", holders: [.dummy("w0")])]))))
    }

    /// A worker holding nothing of its own retires at once.
    @Test func aWorkerWithNothingOfItsOwnRetiresAtOnce() {
        var h = workers(2)
        #expect(h.fromClient("c1", .retireWorkers(["w1", "no-such-worker"])) == [.toWorker(.worker("w1"), .retire)])
        #expect(h.state.workers.keys.sorted() == ["w0"])
    }

    /// A copy that fails (missing-data from the receiver) is asked for again.
    @Test func aFailedCopyIsAskedForAgain() {
        var h = workers(2)
        h.submit([.dummy("x")])
        h.finish("x")
        h.fromClient("c1", .retireWorkers(["w0"]))
        let again = h.fromWorker("w1", .missingData(key: "x", holder: .dummy("w0")))
        #expect(again.contains(.toWorker(.worker("w1"), .acquireReplicas([.dummy("x", holders: [.dummy("w0")])]))))
        #expect(h.state.tasks["x"]?.holders == ["w0"], "a failed copy costs the retiring holder nothing")
    }

    /// With only a retiring worker offering a function, a task that becomes ready waits (`no-worker`) for
    /// another worker instead of failing with UnknownFunction.
    @Test func tasksReadiedWhileTheOnlyWorkerRetiresWait() {
        var h = workers(1)
        h.submit([.dummy("a")])
        h.fromClient("c1", .retireWorkers(["w0"]))
        h.submit([.dummy("b")])
        #expect(h.state.tasks["b"]?.status == .noWorker)
        h.finish("a")
        #expect(h.state.workers["w0"] != nil, "it still holds a, wanted by c1, with nowhere to copy it")
        let joined = h.registerWorker("w1")
        #expect(joined.contains { if case .toWorker(.worker("w1"), .computeTask(let a)) = $0 { a.key == "b" } else { false } })
    }

    /// Workers offering different functions: a queued task of one function does not hold back the other
    /// worker's tasks behind it.
    @Test func aQueuedTaskOfAnotherFunctionDoesNotBlockTheQueue() {
        var h = SchedulerHarness()
        h.registerWorker("f-worker", functions: ["f"])
        h.registerWorker("g-worker", functions: ["g"])
        h.registerClient("c1")
        h.submit((0..<4).map { .dummy(TaskKey("f\($0)"), function: "f") } + (0..<4).map { .dummy(TaskKey("g\($0)"), function: "g") })
        #expect(h.state.queuedCount == 4, "two of each are sent, two of each wait")
        let g = h.state.tasks.values.first { $0.spec.function == "g" && $0.status == .processing }!.key
        let next = h.finish(g)
        #expect(next.contains { if case .toWorker(.worker("g-worker"), .computeTask(let a)) = $0 { a.function == "g" } else { false } })
    }
}
