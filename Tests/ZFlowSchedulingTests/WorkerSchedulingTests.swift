import Testing
import ZFlowCore
import ZFlowScheduling
import ZFlowTestKit

// Scheduling decisions of `WorkerState`: run-queue order, resources, steal requests and bandwidth measurement.
// Every step goes through `WorkerHarness`, which checks the worker's invariants after it; time is virtual.

private let peerA = PeerAddress("tcp://a:9000")
private let peerB = PeerAddress("tcp://b:9000")
private let mebibyte: UInt64 = 1 << 20

/// An assignment with a full scheduler priority and optional resources.
private func assignment(
    _ key: TaskKey, run: UInt64, user: Int = 0, generation: UInt64 = 0, graphOrder: UInt64 = 0,
    deps: [DependencyLocation] = [], resources: Resources = [:]
) -> TaskAssignment {
    TaskAssignment(
        key: key, runID: RunID(run), function: "inc", arguments: .emptyArguments, dependencies: deps,
        priority: TaskPriority(user: user, generation: generation, graphOrder: graphOrder), resources: resources)
}

private func success(_ nbytes: UInt64 = 8) -> TaskOutcome { .success(nbytes: nbytes, duration: .milliseconds(1)) }

/// The assignments among `actions` handed to the executor pool, in order.
private func executed(_ actions: [WorkerAction]) -> [TaskKey] {
    actions.compactMap { if case .execute(let assignment) = $0 { return assignment.key } else { return nil } }
}

private func stealResponse(_ key: TaskKey, run: UInt64, stolen: Bool) -> WorkerAction {
    .send(.stealResponse(key: key, runID: RunID(run), stolen: stolen))
}

// MARK: - Run-queue order

@Suite("Worker scheduling: run-queue order")
struct WorkerRunQueueOrderTests {
    /// Ready tasks start by user priority, then generation, then graph order, whatever order they arrived in.
    @Test func readyTasksStartInTaskPriorityOrder() {
        var h = WorkerHarness(config: WorkerConfig(nthreads: 1, dispatchDepth: 1))
        #expect(executed(h.computeTask(assignment("busy", run: 1))) == ["busy"])
        h.computeTask(assignment("x", run: 2, generation: 1, graphOrder: 0))
        h.computeTask(assignment("y", run: 3, generation: 0, graphOrder: 5))
        h.computeTask(assignment("z", run: 4, user: 1, generation: 9, graphOrder: 9))
        h.computeTask(assignment("w", run: 5, generation: 0, graphOrder: 2))
        #expect(h.state.readyQueue == ["z", "w", "y", "x"])
        var started: [TaskKey] = []
        var current: (TaskKey, UInt64) = ("busy", 1)
        let runs: [TaskKey: UInt64] = ["x": 2, "y": 3, "z": 4, "w": 5]
        while true {
            let next = executed(h.executed(current.0, run: current.1, success()))
            #expect(next.count <= 1, "one thread at depth 1 runs one task at a time")
            guard let key = next.first else { break }
            started.append(key)
            current = (key, runs[key]!)
        }
        #expect(started == ["z", "w", "y", "x"])
    }

    /// Equal priorities start in arrival order.
    @Test func equalPrioritiesStartInArrivalOrder() {
        var h = WorkerHarness(config: WorkerConfig(nthreads: 1, dispatchDepth: 1))
        h.computeTask(assignment("busy", run: 1))
        h.computeTask(assignment("b", run: 2, generation: 1, graphOrder: 1))
        h.computeTask(assignment("a", run: 3, generation: 1, graphOrder: 1))
        #expect(h.state.readyQueue == ["b", "a"])
    }
}

// MARK: - Resources

@Suite("Worker scheduling: resources")
struct WorkerResourceTests {
    static func gpuWorker() -> WorkerHarness {
        var config = WorkerConfig(nthreads: 2)
        config.resources = ["GPU": 1]
        return WorkerHarness(config: config)
    }

    /// Two GPU tasks on a one-GPU worker run one at a time; a task needing nothing uses the free thread meanwhile.
    @Test func oneGpuRunsOneGpuTaskAtATime() {
        var h = Self.gpuWorker()
        #expect(executed(h.computeTask(assignment("g1", run: 1, resources: ["GPU": 1]))) == ["g1"])
        #expect(h.computeTask(assignment("g2", run: 2, resources: ["GPU": 1])) == [], "the GPU is held by g1")
        #expect(h.state.readyQueue == ["g2"])
        #expect(h.state.executing == ["g1"], "a thread is free, but not the GPU")
        #expect(!h.state.availableResources.covers(["GPU": 1]))
        #expect(executed(h.computeTask(assignment("p", run: 3))) == ["p"], "a task needing no resource starts")
        let actions = h.executed("g1", run: 1, success())
        #expect(executed(actions) == ["g2"], "\(actions)")
        #expect(h.state.heldResources == [RunID(2): ["GPU": 1]])
    }

    /// A GPU task waiting for the GPU does not block a lower-priority task that needs none.
    @Test func resourceWaitDoesNotBlockTasksBehindIt() {
        var h = Self.gpuWorker()
        h.computeTask(assignment("g1", run: 1, resources: ["GPU": 1]))
        h.computeTask(assignment("g2", run: 2, user: 5, resources: ["GPU": 1]))
        #expect(executed(h.computeTask(assignment("p", run: 3, user: -5))) == ["p"])
        #expect(h.state.readyQueue == ["g2"])
    }

    /// A run freed while executing keeps its GPU until its `.executed` arrives.
    @Test func abandonedRunKeepsItsResourcesUntilExecuted() {
        var h = Self.gpuWorker()
        h.computeTask(assignment("g1", run: 1, resources: ["GPU": 1]))
        h.computeTask(assignment("g2", run: 2, resources: ["GPU": 1]))
        #expect(h.freeKeys(["g1"]) == [.abandon("g1", RunID(1))], "a thread is free, but the GPU is not")
        #expect(h.state.heldResources[RunID(1)] == ["GPU": 1])
        #expect(!h.state.availableResources.covers(["GPU": 1]))
        #expect(h.tick().isEmpty)
        let actions = h.handle(.executed("g1", RunID(1), .failure(.dummy(key: "g1")), now: h.now))
        #expect(actions.first == .dropResult("g1", RunID(1)))
        #expect(executed(actions) == ["g2"], "\(actions)")
        #expect(h.state.abandoned.isEmpty)
    }

    /// Resources come back after a failed run too.
    @Test func failedRunReleasesItsResources() {
        var h = Self.gpuWorker()
        h.computeTask(assignment("g1", run: 1, resources: ["GPU": 1]))
        h.computeTask(assignment("g2", run: 2, resources: ["GPU": 1]))
        let actions = h.executed("g1", run: 1, .failure(.dummy(key: "g1")))
        #expect(executed(actions) == ["g2"])
    }
}

// MARK: - Steal requests

@Suite("Worker scheduling: steal requests")
struct WorkerStealTests {
    /// A ready task is given up: stolen, gone from the run queue, and never started.
    @Test func readyTaskIsGivenUp() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(.dummy("a", run: 1))
        h.computeTask(.dummy("b", run: 2))
        #expect(h.handle(.stealRequest("b", RunID(2), now: h.now)) == [stealResponse("b", run: 2, stolen: true)])
        #expect(h.state.tasks["b"] == nil)
        #expect(h.state.readyQueue.isEmpty)
        #expect(executed(h.executed("a", run: 1, success())).isEmpty)
    }

    /// A task waiting for an input in flight is given up; the fetched copy is then discarded.
    @Test func waitingTaskIsGivenUpAndItsInFlightInputDropped() {
        var h = WorkerHarness(nthreads: 1)
        #expect(h.computeTask(.dummy("c", run: 1, deps: [.dummy("d", holders: [peerA])])) == [.fetch(["d"], from: peerA)])
        #expect(h.handle(.stealRequest("c", RunID(1), now: h.now)) == [stealResponse("c", run: 1, stolen: true)])
        #expect(h.state.tasks["c"] == nil)
        #expect(h.state.tasks["d"] == nil)
        #expect(h.fetched(from: peerA, found: [KeySize(key: "d", nbytes: 8)]) == [.discard(["d"])])
        #expect(h.state.tasks.isEmpty)
    }

    /// A task whose input is still waiting to be fetched is given up, and that fetch is never sent.
    @Test func waitingTaskIsGivenUpAndItsQueuedFetchDropped() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(.dummy("e", run: 1, deps: [.dummy("d1", holders: [peerA])]))
        h.computeTask(.dummy("c", run: 2, deps: [.dummy("d2", holders: [peerA])]))
        #expect(h.state.toFetch == ["d2"], "peer A is busy with d1")
        #expect(h.handle(.stealRequest("c", RunID(2), now: h.now)) == [stealResponse("c", run: 2, stolen: true)])
        #expect(h.state.toFetch.isEmpty)
        #expect(h.state.tasks["d2"] == nil)
        let actions = h.fetched(from: peerA, found: [KeySize(key: "d1", nbytes: 8)])
        #expect(!actions.contains { if case .fetch = $0 { return true } else { return false } }, "\(actions)")
        #expect(executed(actions) == ["e"])
    }

    /// An input shared with another local task is kept when one of them is stolen.
    @Test func sharedInputIsKeptForTheRemainingTask() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(.dummy("c1", run: 1, deps: [.dummy("d", holders: [peerA])]))
        h.computeTask(.dummy("c2", run: 2, deps: [.dummy("d", holders: [peerA])]))
        #expect(h.handle(.stealRequest("c1", RunID(1), now: h.now)) == [stealResponse("c1", run: 1, stolen: true)])
        #expect(h.state.tasks["d"]?.status == .flight)
        #expect(h.state.tasks["d"]?.dependents == ["c2"])
        #expect(executed(h.fetched(from: peerA, found: [KeySize(key: "d", nbytes: 8)])) == ["c2"])
    }

    /// An executing task is kept: stolen false, still executing.
    @Test func executingTaskIsKept() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(.dummy("a", run: 1))
        #expect(h.handle(.stealRequest("a", RunID(1), now: h.now)) == [stealResponse("a", run: 1, stolen: false)])
        #expect(h.state.tasks["a"]?.status == .executing)
        #expect(h.state.executing == ["a"])
    }

    /// A request naming another run of the task (or an unknown key) is refused and changes nothing.
    @Test func wrongRunOrUnknownKeyIsRefused() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(.dummy("a", run: 1))
        h.computeTask(.dummy("b", run: 2))
        #expect(h.handle(.stealRequest("b", RunID(7), now: h.now)) == [stealResponse("b", run: 7, stolen: false)])
        #expect(h.handle(.stealRequest("ghost", RunID(2), now: h.now)) == [stealResponse("ghost", run: 2, stolen: false)])
        #expect(h.state.tasks["b"]?.status == .ready)
        #expect(h.state.readyQueue == ["b"])
        #expect(executed(h.executed("a", run: 1, success())) == ["b"])
    }

    /// A ready task that another local task waits for is kept.
    @Test func taskWithALocalDependentIsKept() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(.dummy("a", run: 1))
        h.computeTask(.dummy("b", run: 2))
        h.computeTask(.dummy("c", run: 3, deps: [.dummy("b", holders: [peerA])]))
        #expect(h.state.tasks["c"]?.waitingOn == ["b"], "b is computed here, not fetched")
        #expect(h.handle(.stealRequest("b", RunID(2), now: h.now)) == [stealResponse("b", run: 2, stolen: false)])
        #expect(h.state.readyQueue == ["b"])
    }

    /// A task re-sent under a newer run is kept when the older run is asked for, and given up for the newer.
    @Test func olderRunOfAReassignedTaskIsKept() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(.dummy("a", run: 1))
        h.computeTask(.dummy("b", run: 2))
        h.computeTask(.dummy("b", run: 5))
        #expect(h.handle(.stealRequest("b", RunID(2), now: h.now)) == [stealResponse("b", run: 2, stolen: false)])
        #expect(h.state.tasks["b"]?.status == .ready)
        #expect(h.handle(.stealRequest("b", RunID(5), now: h.now)) == [stealResponse("b", run: 5, stolen: true)])
        #expect(h.state.tasks["b"] == nil)
    }

    /// A run handed to the executor pool ahead of time (dispatch depth 2) counts as started and is kept.
    @Test func runHandedToThePoolAheadOfTimeIsKept() {
        var h = WorkerHarness(config: WorkerConfig(nthreads: 1, dispatchDepth: 2))
        h.computeTask(.dummy("a", run: 1))
        #expect(executed(h.computeTask(.dummy("b", run: 2))) == ["b"])
        #expect(h.handle(.stealRequest("b", RunID(2), now: h.now)) == [stealResponse("b", run: 2, stolen: false)])
        #expect(h.state.executing == ["a", "b"])
    }

    /// A finished task is kept: its result is here.
    @Test func finishedTaskIsKept() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(.dummy("a", run: 1))
        h.executed("a", run: 1, success())
        #expect(h.handle(.stealRequest("a", RunID(1), now: h.now)) == [stealResponse("a", run: 1, stolen: false)])
        #expect(h.state.tasks["a"]?.status == .memory)
    }
}

// MARK: - Bandwidth

@Suite("Worker scheduling: bandwidth measurement")
struct WorkerBandwidthTests {
    /// A 2 MiB fetch answered 10 ms later measures about 2 MiB / 10 ms.
    @Test func largeFetchMeasuresBandwidth() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(.dummy("a", run: 1, deps: [.dummy("big", nbytes: 2 * mebibyte, holders: [peerA])]))
        #expect(h.state.measuredBandwidth == nil)
        h.now = .ms(10)
        h.fetched(from: peerA, found: [KeySize(key: "big", nbytes: 2 * mebibyte)])
        let expected = Double(2 * mebibyte) / 0.010
        let measured = h.state.measuredBandwidth
        #expect(measured != nil)
        #expect(abs((measured ?? 0) - expected) / expected < 1e-6, "measured \(String(describing: measured))")
    }

    /// Fetches below 1 MiB measure latency, not bandwidth, and leave the figure unset.
    @Test func smallFetchLeavesBandwidthUnmeasured() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(.dummy("a", run: 1, deps: [.dummy("small", nbytes: 8, holders: [peerA])]))
        h.now = .ms(10)
        h.fetched(from: peerA, found: [KeySize(key: "small", nbytes: 8)])
        #expect(h.state.measuredBandwidth == nil)
    }

    /// Several keys in one reply count together; a second sample is folded in as a moving average.
    @Test func laterFetchesAreAveraged() {
        var h = WorkerHarness(nthreads: 1)
        let half = mebibyte / 2
        h.computeTask(
            .dummy(
                "a", run: 1,
                deps: [.dummy("x", nbytes: half, holders: [peerA]), .dummy("y", nbytes: half, holders: [peerA])]))
        h.now = .ms(1)
        h.fetched(from: peerA, found: [KeySize(key: "x", nbytes: half), KeySize(key: "y", nbytes: half)])
        let first = Double(mebibyte) / 0.001
        #expect(abs((h.state.measuredBandwidth ?? 0) - first) / first < 1e-6)
        h.computeTask(.dummy("b", run: 2, deps: [.dummy("z", nbytes: mebibyte, holders: [peerB])]))
        h.now = .ms(5)  // sent at 1 ms, answered 4 ms later
        h.fetched(from: peerB, found: [KeySize(key: "z", nbytes: mebibyte)])
        let expected = first * 0.75 + Double(mebibyte) / 0.004 * 0.25
        #expect(abs((h.state.measuredBandwidth ?? 0) - expected) / expected < 1e-6)
    }
}

// MARK: - Memory pause

@Suite("Worker scheduling: memory pause")
struct WorkerMemoryPauseTests {
    /// While paused, ready tasks wait (a running one finishes normally); resuming starts them.
    @Test func aPausedWorkerStartsNothingUntilResumed() {
        var h = WorkerHarness(config: WorkerConfig(nthreads: 1, dispatchDepth: 1))
        #expect(executed(h.computeTask(assignment("running", run: 1))) == ["running"])
        h.handle(.paused(true, now: h.now))
        #expect(executed(h.computeTask(assignment("next", run: 2))).isEmpty)
        let finished = h.executed("running", run: 1, success())
        #expect(executed(finished).isEmpty, "a finished run frees a thread, but nothing starts while paused")
        #expect(finished.contains(.send(.taskFinished(key: "running", runID: RunID(1), nbytes: 8, duration: .milliseconds(1)))))
        #expect(h.state.readyQueue == ["next"])
        #expect(executed(h.handle(.paused(false, now: h.now))) == ["next"])
    }
}

// MARK: - Replicas for a retiring worker

@Suite("Worker scheduling: replicas")
struct WorkerReplicaTests {
    /// Asked for a copy, the worker fetches it, keeps it and reports it with add-keys.
    @Test func anAcquiredReplicaIsFetchedKeptAndReported() {
        var h = WorkerHarness(nthreads: 1)
        let asked = h.handle(.acquireReplicas([.dummy("x", nbytes: 100, holders: [peerA])], now: h.now))
        #expect(asked == [.fetch(["x"], from: peerA)])
        let arrived = h.handle(.fetched(from: peerA, found: [KeySize(key: "x", nbytes: 100)], missing: [], now: h.now))
        #expect(arrived == [.send(.addKeys([KeySize(key: "x", nbytes: 100)]))])
        #expect(h.state.tasks["x"]?.status == .memory)
        #expect(h.state.held == [KeySize(key: "x", nbytes: 100)])
    }

    /// A replica that was also an input of a local task stays after that task finishes.
    @Test func aReplicaOutlivesTheTaskThatUsedIt() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(assignment("y", run: 1, deps: [.dummy("x", nbytes: 8, holders: [peerA])]))
        h.handle(.acquireReplicas([.dummy("x", nbytes: 8, holders: [peerA])], now: h.now))
        h.handle(.fetched(from: peerA, found: [KeySize(key: "x", nbytes: 8)], missing: [], now: h.now))
        let done = h.executed("y", run: 1, success())
        #expect(!done.contains(.discard(["x"])))
        #expect(h.state.tasks["x"]?.status == .memory)
    }

    /// A copy already here is reported at once.
    @Test func aResultAlreadyHereIsReportedAtOnce() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(assignment("x", run: 1))
        h.executed("x", run: 1, success(16))
        let asked = h.handle(.acquireReplicas([.dummy("x", nbytes: 16, holders: [peerA])], now: h.now))
        #expect(asked == [.send(.addKeys([KeySize(key: "x", nbytes: 16)]))])
    }
}

// MARK: - Fetch deadlines

@Suite("Worker scheduling: fetch deadlines")
struct WorkerFetchDeadlineTests {
    /// A fetch of an empty key from a dead peer fails after `fetchResponseTime` (5 s), not the full
    /// `fetchTimeout`; a 200 MB key gets 10 s more at the assumed 20 MB/s.
    @Test func deadlinesGrowWithTheBytesFetched() {
        var config = WorkerConfig(nthreads: 1)
        config.fetchTimeout = .seconds(30)
        var h = WorkerHarness(config: config)
        h.computeTask(assignment("small", run: 1, deps: [.dummy("s", nbytes: 0, holders: [peerA])]))
        h.computeTask(assignment("large", run: 2, deps: [.dummy("l", nbytes: 200_000_000, holders: [peerB])]))
        #expect(h.state.inFlight[peerA]?.deadline == Instant(nanoseconds: 5_000_000_000))
        #expect(h.state.inFlight[peerB]?.deadline == Instant(nanoseconds: 15_000_000_000))
        h.now = Instant(nanoseconds: 5_000_000_000)
        let late = h.handle(.tick(now: h.now))
        #expect(late.contains(.send(.missingData(key: "s", holder: peerA))))
        #expect(h.state.inFlight[peerB] != nil, "the large fetch still has time")
    }
}

// MARK: - Forgotten by the scheduler

@Suite("Worker scheduling: forgotten by the scheduler")
struct WorkerForgottenTests {
    /// After an expiry the scheduler has reassigned everything: the worker abandons its running task, drops
    /// queued and waiting ones and their fetches, and keeps only its results (which it reports when it
    /// registers again).
    @Test func aForgottenWorkerKeepsOnlyItsResults() {
        var h = WorkerHarness(config: WorkerConfig(nthreads: 1, dispatchDepth: 1))
        h.computeTask(assignment("done", run: 1))
        h.executed("done", run: 1, success(16))
        #expect(executed(h.computeTask(assignment("running", run: 2))) == ["running"])
        h.computeTask(assignment("queued", run: 3))
        h.computeTask(assignment("waiting", run: 4, deps: [.dummy("input", holders: [peerA])]))
        let actions = h.handle(.forgotten(now: h.now))
        #expect(actions.contains(.abandon("running", RunID(2))))
        #expect(h.state.tasks.keys.sorted() == ["done"])
        #expect(h.state.held == [KeySize(key: "done", nbytes: 16)])
        #expect(h.state.readyQueue.isEmpty && h.state.toFetch.isEmpty)
        let late = h.executed("running", run: 2, success())
        #expect(late == [.dropResult("running", RunID(2))], "the abandoned run's result is dropped")
    }
}
