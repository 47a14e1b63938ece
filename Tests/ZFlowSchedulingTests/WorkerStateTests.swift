import Testing
import ZFlowCore
import ZFlowScheduling
import ZFlowTestKit

// Every step goes through `WorkerHarness`, which checks the worker's invariants after it.

private let peerA = PeerAddress("tcp://a:9000")
private let peerB = PeerAddress("tcp://b:9000")

private func success(_ nbytes: UInt64 = 8) -> TaskOutcome { .success(nbytes: nbytes, duration: .milliseconds(1)) }

private func finishedMessage(_ key: TaskKey, run: UInt64 = 1, nbytes: UInt64 = 8) -> WorkerAction {
    .send(.taskFinished(key: key, runID: RunID(run), nbytes: nbytes, duration: .milliseconds(1)))
}

@Suite("WorkerState")
struct WorkerStateTests {
    // MARK: - Running

    @Test func computeTaskWithoutDependenciesExecutes() {
        var h = WorkerHarness()
        #expect(h.computeTask(.dummy("a")) == [.execute(.dummy("a"))])
        #expect(h.state.executing == ["a"])
        #expect(h.state.tasks["a"]?.status == .executing)
    }

    @Test func secondTaskWaitsForTheOnlyThread() {
        var h = WorkerHarness(nthreads: 1)
        #expect(h.computeTask(.dummy("a", run: 1)) == [.execute(.dummy("a", run: 1))])
        #expect(h.computeTask(.dummy("b", run: 2)) == [])
        #expect(h.state.readyQueue == ["b"])
        #expect(
            h.executed("a", run: 1, success()) == [
                .storeResult("a", RunID(1)), finishedMessage("a"), .execute(.dummy("b", run: 2)),
            ])
        #expect(h.state.executing == ["b"])
        #expect(h.state.readyQueue.isEmpty)
    }

    @Test func twoThreadsRunTwoTasks() {
        var h = WorkerHarness(nthreads: 2)
        h.computeTask(.dummy("a", run: 1))
        #expect(h.computeTask(.dummy("b", run: 2)) == [.execute(.dummy("b", run: 2))])
        #expect(h.computeTask(.dummy("c", run: 3)) == [])
        #expect(h.state.executing == ["a", "b"])
    }

    @Test func readyTasksRunByPriorityThenArrival() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(.dummy("a", run: 1))
        h.computeTask(.dummy("b", run: 2))
        h.computeTask(.dummy("c", run: 3, priority: 5))
        h.computeTask(.dummy("d", run: 4, priority: 5))
        h.computeTask(.dummy("e", run: 5, priority: -1))
        #expect(h.state.readyQueue == ["c", "d", "b", "e"])
        #expect(
            h.executed("a", run: 1, success()) == [
                .storeResult("a", RunID(1)), finishedMessage("a"), .execute(.dummy("c", run: 3, priority: 5)),
            ])
        #expect(h.executed("c", run: 3, success()).last == .execute(.dummy("d", run: 4, priority: 5)))
        #expect(h.executed("d", run: 4, success()).last == .execute(.dummy("b", run: 2)))
        #expect(h.executed("b", run: 2, success()).last == .execute(.dummy("e", run: 5, priority: -1)))
    }

    @Test func successStoresTheResultAndReportsIt() {
        var h = WorkerHarness()
        h.computeTask(.dummy("a", run: 7))
        let actions = h.executed("a", run: 7, .success(nbytes: 123, duration: .milliseconds(4)))
        #expect(
            actions == [
                .storeResult("a", RunID(7)),
                .send(.taskFinished(key: "a", runID: RunID(7), nbytes: 123, duration: .milliseconds(4))),
            ])
        #expect(h.state.tasks["a"]?.status == .memory)
        #expect(h.state.held == [KeySize(key: "a", nbytes: 123)])
        #expect(h.state.executing.isEmpty)
    }

    @Test func failureReportsTaskErred() {
        var h = WorkerHarness()
        h.computeTask(.dummy("a", run: 3))
        let error = RemoteError.dummy(key: "a", worker: "w1")
        #expect(h.executed("a", run: 3, .failure(error)) == [.send(.taskErred(key: "a", runID: RunID(3), error: error))])
        #expect(h.state.tasks["a"]?.status == .error)
        #expect(h.state.held.isEmpty)
    }

    @Test func computeTaskForAResultHeldHereReportsItAtOnce() {
        var h = WorkerHarness()
        h.computeTask(.dummy("a", run: 1))
        h.executed("a", run: 1, success(16))
        #expect(h.computeTask(.dummy("a", run: 2)) == [.send(.taskFinished(key: "a", runID: RunID(2), nbytes: 16, duration: Interval(nanoseconds: 0)))])
    }

    @Test func localResultFeedsALocalDependentWithoutAFetch() {
        var h = WorkerHarness()
        h.computeTask(.dummy("x", run: 1))
        h.executed("x", run: 1, success())
        let y = TaskAssignment.dummy("y", run: 2, deps: [.dummy("x", holders: [peerA])])
        #expect(h.computeTask(y) == [.execute(y)])
        // x was computed here, so the scheduler tracks it: it is kept after y runs.
        #expect(h.executed("y", run: 2, success()) == [.storeResult("y", RunID(2)), finishedMessage("y", run: 2)])
        #expect(h.state.held.map(\.key) == ["x", "y"])
    }

    // MARK: - Stale runs and free-keys

    @Test func freeKeysWhileExecutingThenExecutedDropsTheResultSilently() {
        var h = WorkerHarness()
        h.computeTask(.dummy("a", run: 1))
        #expect(h.freeKeys(["a"]) == [.abandon("a", RunID(1))])
        #expect(h.state.executing.isEmpty)
        #expect(h.state.tasks["a"] == nil)
        #expect(h.executed("a", run: 1, success()) == [.dropResult("a", RunID(1))])
        #expect(h.state.held.isEmpty)
    }

    @Test func outcomeOfAnOlderRunIsDropped() {
        var h = WorkerHarness(nthreads: 2)
        h.computeTask(.dummy("a", run: 1))
        h.freeKeys(["a"])
        #expect(h.computeTask(.dummy("a", run: 2)) == [.execute(.dummy("a", run: 2))])
        #expect(h.executed("a", run: 1, success()) == [.dropResult("a", RunID(1))])
        #expect(h.state.tasks["a"]?.status == .executing)
        #expect(h.executed("a", run: 2, success()) == [.storeResult("a", RunID(2)), finishedMessage("a", run: 2)])
    }

    @Test func freeKeysOfAStoredResultDiscardsIt() {
        var h = WorkerHarness()
        h.computeTask(.dummy("a", run: 1))
        h.executed("a", run: 1, success())
        #expect(h.freeKeys(["a"]) == [.discard(["a"])])
        #expect(h.state.tasks.isEmpty)
        #expect(h.freeKeys(["a"]) == [])
    }

    @Test func freeKeysOfAReadyTaskRemovesItFromTheQueue() {
        var h = WorkerHarness(nthreads: 1)
        h.computeTask(.dummy("a", run: 1))
        h.computeTask(.dummy("b", run: 2))
        #expect(h.freeKeys(["b"]) == [])
        #expect(h.state.readyQueue.isEmpty)
        #expect(h.executed("a", run: 1, success()) == [.storeResult("a", RunID(1)), finishedMessage("a")])
    }

    @Test func freeKeysOfAWaitingTaskForgetsItsFetches() {
        var h = WorkerHarness()
        let y = TaskAssignment.dummy("y", run: 1, deps: [.dummy("x", holders: [peerA])])
        h.computeTask(y)
        #expect(h.freeKeys(["y"]) == [])
        #expect(h.state.tasks.isEmpty)
        // The answer to the abandoned fetch is thrown away.
        #expect(h.fetched(from: peerA, found: [KeySize(key: "x", nbytes: 8)]) == [.discard(["x"])])
        #expect(h.state.inFlight.isEmpty)
    }

    // MARK: - Fetching

    @Test func dependenciesOnOnePeerAreFetchedInOneRequest() {
        var h = WorkerHarness()
        let y = TaskAssignment.dummy(
            "y", run: 1, deps: [.dummy("x1", holders: [peerA]), .dummy("x2", holders: [peerA])])
        #expect(h.computeTask(y) == [.fetch(["x1", "x2"], from: peerA)])
        #expect(h.state.tasks["x1"]?.status == .flight)
        #expect(h.state.tasks["y"]?.status == .waiting)
        let actions = h.fetched(from: peerA, found: [KeySize(key: "x1", nbytes: 8), KeySize(key: "x2", nbytes: 8)])
        #expect(actions == [.execute(y)])
        #expect(h.state.inFlight.isEmpty)
    }

    @Test func dependenciesOnTwoPeersAreFetchedInParallel() {
        var h = WorkerHarness()
        let y = TaskAssignment.dummy(
            "y", run: 1, deps: [.dummy("x1", holders: [peerA]), .dummy("x2", holders: [peerB])])
        #expect(h.computeTask(y) == [.fetch(["x1"], from: peerA), .fetch(["x2"], from: peerB)])
        #expect(h.fetched(from: peerB, found: [KeySize(key: "x2", nbytes: 8)]) == [])
        #expect(h.state.tasks["y"]?.waitingOn == ["x1"])
        #expect(h.fetched(from: peerA, found: [KeySize(key: "x1", nbytes: 8)]) == [.execute(y)])
    }

    /// A `free-keys` for a key this worker is fetching as another task's input (it was about an older run of
    /// the key here) leaves the fetch alone: the task still gets its input and runs.
    @Test func aFreeKeysForAnInputBeingFetchedKeepsTheFetch() {
        var h = WorkerHarness()
        let y = TaskAssignment.dummy("y", run: 2, deps: [.dummy("x", holders: [peerA])])
        #expect(h.computeTask(y) == [.fetch(["x"], from: peerA)])
        #expect(h.freeKeys(["x"]) == [])
        #expect(h.state.tasks["x"]?.status == .flight)
        #expect(h.fetched(from: peerA, found: [KeySize(key: "x", nbytes: 8)]) == [.execute(y)])
    }

    @Test func aBusyPeerGetsOneRequestAtATime() {
        var h = WorkerHarness()
        let y = TaskAssignment.dummy("y", run: 1, deps: [.dummy("x1", holders: [peerA])])
        let z = TaskAssignment.dummy("z", run: 2, deps: [.dummy("x2", holders: [peerA])])
        #expect(h.computeTask(y) == [.fetch(["x1"], from: peerA)])
        #expect(h.computeTask(z) == [])
        #expect(h.state.tasks["x2"]?.status == .fetch)
        #expect(h.fetched(from: peerA, found: [KeySize(key: "x1", nbytes: 8)]) == [.fetch(["x2"], from: peerA), .execute(y)])
    }

    @Test func fetchesInFlightAreBounded() {
        var config = WorkerConfig()
        config.maxFetchesInFlight = 2
        var h = WorkerHarness(config: config)
        let peers = (1...3).map { PeerAddress("tcp://p\($0):9000") }
        let y = TaskAssignment.dummy(
            "y", run: 1, deps: (1...3).map { .dummy(TaskKey("x\($0)"), holders: [peers[$0 - 1]]) })
        #expect(h.computeTask(y) == [.fetch(["x1"], from: peers[0]), .fetch(["x2"], from: peers[1])])
        #expect(h.fetched(from: peers[0], found: [KeySize(key: "x1", nbytes: 8)]) == [.fetch(["x3"], from: peers[2])])
    }

    @Test func missingKeyIsReportedAndTheNextHolderTried() {
        var h = WorkerHarness()
        let y = TaskAssignment.dummy("y", run: 1, deps: [.dummy("x", holders: [peerA, peerB])])
        #expect(h.computeTask(y) == [.fetch(["x"], from: peerA)])
        #expect(
            h.fetched(from: peerA, missing: ["x"]) == [
                .send(.missingData(key: "x", holder: peerA)), .fetch(["x"], from: peerB),
            ])
        #expect(h.fetched(from: peerB, found: [KeySize(key: "x", nbytes: 8)]) == [.execute(y)])
    }

    @Test func keyMissingFromEveryHolderIsMissingUntilTheSchedulerReassigns() {
        var h = WorkerHarness()
        let y = TaskAssignment.dummy("y", run: 1, deps: [.dummy("x", holders: [peerA, peerB])])
        h.computeTask(y)
        h.fetched(from: peerA, missing: ["x"])
        #expect(h.fetched(from: peerB, missing: ["x"]) == [.send(.missingData(key: "x", holder: peerB))])
        #expect(h.state.tasks["x"]?.status == .missing)
        #expect(h.state.tasks["y"]?.status == .waiting)
        // The scheduler takes y back (free-keys) and assigns it again with a new holder.
        #expect(h.freeKeys(["y"]) == [])
        #expect(h.state.tasks.isEmpty)
        let again = TaskAssignment.dummy("y", run: 2, deps: [.dummy("x", holders: [PeerAddress("tcp://c:9000")])])
        #expect(h.computeTask(again) == [.fetch(["x"], from: PeerAddress("tcp://c:9000"))])
    }

    @Test func fetchTimesOutOnTick() {
        var config = WorkerConfig(nthreads: 1)
        config.fetchResponseTime = .seconds(10)
        var h = WorkerHarness(config: config)
        let y = TaskAssignment.dummy("y", run: 1, deps: [.dummy("x", nbytes: 0, holders: [peerA, peerB])])
        h.computeTask(y)  // at 0; the deadline is 10 s later (no bytes to add time for)
        h.now = .ms(9_999)
        #expect(h.tick() == [])
        h.now = .ms(10_000)
        #expect(h.tick() == [.send(.missingData(key: "x", holder: peerA)), .fetch(["x"], from: peerB)])
        #expect(h.state.inFlight.keys.sorted() == [peerB])
        h.now = .ms(20_000)
        #expect(h.tick() == [.send(.missingData(key: "x", holder: peerB))])
        #expect(h.state.tasks["x"]?.status == .missing)
    }

    @Test func fetchedCopyIsDiscardedAfterTheDependentRan() {
        var h = WorkerHarness()
        let y = TaskAssignment.dummy("y", run: 1, deps: [.dummy("x", holders: [peerA])])
        h.computeTask(y)
        h.fetched(from: peerA, found: [KeySize(key: "x", nbytes: 8)])
        #expect(
            h.executed("y", run: 1, success()) == [
                .storeResult("y", RunID(1)), finishedMessage("y"), .discard(["x"]),
            ])
        #expect(h.state.tasks.keys.sorted() == ["y"])
        #expect(h.state.held == [KeySize(key: "y", nbytes: 8)])
    }

    @Test func fetchedCopyIsKeptWhileAnotherDependentNeedsIt() {
        var h = WorkerHarness(nthreads: 1)
        let y = TaskAssignment.dummy("y", run: 1, deps: [.dummy("x", holders: [peerA])])
        let z = TaskAssignment.dummy("z", run: 2, deps: [.dummy("x", holders: [peerA])])
        #expect(h.computeTask(y) == [.fetch(["x"], from: peerA)])
        #expect(h.computeTask(z) == [])
        #expect(h.fetched(from: peerA, found: [KeySize(key: "x", nbytes: 8)]) == [.execute(y)])
        #expect(h.executed("y", run: 1, success()) == [.storeResult("y", RunID(1)), finishedMessage("y"), .execute(z)])
        #expect(
            h.executed("z", run: 2, success()) == [
                .storeResult("z", RunID(2)), finishedMessage("z", run: 2), .discard(["x"]),
            ])
    }

    @Test func fetchedCopyIsDiscardedWhenTheDependentFails() {
        var h = WorkerHarness()
        let y = TaskAssignment.dummy("y", run: 1, deps: [.dummy("x", holders: [peerA])])
        h.computeTask(y)
        h.fetched(from: peerA, found: [KeySize(key: "x", nbytes: 8)])
        let error = RemoteError.dummy(key: "y")
        #expect(
            h.executed("y", run: 1, .failure(error)) == [
                .send(.taskErred(key: "y", runID: RunID(1), error: error)), .discard(["x"]),
            ])
    }

    // MARK: - Results lost here

    /// x ran here; y needs it, but x's spilled file cannot be read back when y is about to start.
    private static func lostInputSetUp() -> (WorkerHarness, TaskAssignment) {
        var config = WorkerConfig()
        config.address = PeerAddress("tcp://self:9000")
        var h = WorkerHarness(config: config)
        h.computeTask(.dummy("x", run: 1))
        h.executed("x", run: 1, success())
        let y = TaskAssignment.dummy("y", run: 2, deps: [.dummy("x", holders: [PeerAddress("tcp://self:9000")])])
        #expect(h.computeTask(y) == [.execute(y)])
        return (h, y)
    }

    @Test func aLostInputIsReportedAsMissingHereAndTheRunWaitsForIt() {
        var (h, _) = Self.lostInputSetUp()
        let actions = h.handle(.inputsLost("y", RunID(2), lost: ["x"], now: h.now))
        #expect(actions == [.send(.missingData(key: "x", holder: PeerAddress("tcp://self:9000")))])
        #expect(h.state.executing.isEmpty, "the run's slot is free again")
        #expect(h.state.tasks["y"]?.status == .waiting)
        #expect(h.state.tasks["y"]?.waitingOn == ["x"])
        #expect(h.state.tasks["x"]?.status == .missing)
        #expect(h.state.held.isEmpty, "a re-registration would not claim it")
        // A second run that finds it gone reports nothing twice.
        #expect(h.computeTask(.dummy("z", run: 3)) == [.execute(.dummy("z", run: 3))])
    }

    @Test func otherTasksNeedingALostInputWaitForItInsteadOfStartingOneAfterAnother() {
        var config = WorkerConfig()
        config.address = PeerAddress("tcp://self:9000")
        var h = WorkerHarness(config: config)
        h.computeTask(.dummy("x", run: 1))
        h.executed("x", run: 1, success())
        let here = [DependencyLocation.dummy("x", holders: [PeerAddress("tcp://self:9000")])]
        let y = TaskAssignment.dummy("y", run: 2, deps: here)
        #expect(h.computeTask(y) == [.execute(y)])
        h.computeTask(.dummy("z", run: 3, deps: here))
        h.computeTask(.dummy("w", run: 4, deps: here + [.dummy("v", holders: [peerA])]))
        h.computeTask(.dummy("u", run: 5))
        #expect(h.state.readyQueue == ["z", "u"])
        let actions = h.handle(.inputsLost("y", RunID(2), lost: ["x"], now: h.now))
        // Only u, which does not need x, starts; z and w wait for x with y.
        #expect(actions == [.send(.missingData(key: "x", holder: PeerAddress("tcp://self:9000"))), .execute(.dummy("u", run: 5))])
        #expect(h.state.tasks["z"]?.status == .waiting && h.state.tasks["z"]?.waitingOn == ["x"])
        #expect(h.state.tasks["w"]?.waitingOn == ["v", "x"])
    }

    @Test func afterALossTheSchedulerTakesTheTaskBackAndSendsItWithTheInputElsewhere() {
        var (h, _) = Self.lostInputSetUp()
        h.handle(.inputsLost("y", RunID(2), lost: ["x"], now: h.now))
        // The scheduler frees its record of x here, then takes y back: both are forgotten.
        #expect(h.freeKeys(["x"]) == [])
        #expect(h.state.tasks["x"]?.status == .missing, "y still waits for it")
        #expect(h.freeKeys(["y"]) == [])
        #expect(h.state.tasks.isEmpty)
        // y comes back with x recomputed on peer A: fetched from there, then run.
        let again = TaskAssignment.dummy("y", run: 4, deps: [.dummy("x", holders: [peerA])])
        #expect(h.computeTask(again) == [.fetch(["x"], from: peerA)])
        #expect(h.fetched(from: peerA, found: [KeySize(key: "x", nbytes: 8)]) == [.execute(again)])
    }

    @Test func aLostInputRecomputedHereWakesTheWaitingRun() {
        var (h, y) = Self.lostInputSetUp()
        h.handle(.inputsLost("y", RunID(2), lost: ["x"], now: h.now))
        // The scheduler recomputes x on this worker before taking y back.
        #expect(h.computeTask(.dummy("x", run: 5)) == [.execute(.dummy("x", run: 5))])
        #expect(h.executed("x", run: 5, success()) == [.storeResult("x", RunID(5)), finishedMessage("x", run: 5), .execute(y)])
    }

    @Test func aLossReportedForUnknownInputsFailsTheRunInsteadOfLooping() {
        var (h, _) = Self.lostInputSetUp()
        let actions = h.handle(.inputsLost("y", RunID(2), lost: ["nope"], now: h.now))
        guard case .send(.taskErred(let key, let run, let error))? = actions.first else {
            Issue.record("expected task-erred, got \(actions)")
            return
        }
        #expect(key == "y" && run == RunID(2) && error.typeName == "MissingInput")
        #expect(h.state.executing.isEmpty)
    }

    // MARK: - Scatter

    /// A worker whose peer address is `self`.
    func selfAddressed() -> WorkerHarness {
        var config = WorkerConfig(nthreads: 1)
        config.address = PeerAddress("tcp://self:9000")
        return WorkerHarness(config: config)
    }

    @Test func scatteredDataIsHeldAndUsedWithoutAFetch() {
        var h = selfAddressed()
        #expect(h.dataStored([KeySize(key: "s", nbytes: 64)]) == [])
        #expect(h.state.held == [KeySize(key: "s", nbytes: 64)])
        // The scheduler names this worker as a holder of s: the client reported the scatter here.
        let t = TaskAssignment.dummy("t", run: 1, deps: [.dummy("s", nbytes: 64, holders: [peerA, h.state.config.address])])
        #expect(h.computeTask(t) == [.execute(t)])
        #expect(h.executed("t", run: 1, success()) == [.storeResult("t", RunID(1)), finishedMessage("t")])
        // The scheduler tracks scattered keys: they stay until freed.
        #expect(h.state.held.map(\.key) == ["s", "t"])
        #expect(h.freeKeys(["s"]) == [.discard(["s"])])
    }

    @Test func aValueAPeerStoredUnderATasksKeyIsNotItsResult() {
        var h = WorkerHarness()
        h.dataStored([KeySize(key: "x", nbytes: 64)])
        #expect(h.computeTask(.dummy("x")) == [.discard(["x"]), .execute(.dummy("x"))], "the planted value is dropped, x runs")
        #expect(h.state.tasks["x"]?.status == .executing)
    }

    @Test func aStoredValueTheSchedulerDoesNotNameIsNotTheInputItNames() {
        var h = selfAddressed()
        h.dataStored([KeySize(key: "s", nbytes: 64)])
        let t = TaskAssignment.dummy("t", run: 1, deps: [.dummy("s", nbytes: 64, holders: [peerA])])
        #expect(h.computeTask(t) == [.discard(["s"]), .fetch(["s"], from: peerA)], "the real s is fetched from its holder")
        var replica = selfAddressed()
        replica.dataStored([KeySize(key: "r", nbytes: 8)])
        #expect(
            replica.handle(.acquireReplicas([.dummy("r", nbytes: 8, holders: [peerB])], now: replica.now))
                == [.discard(["r"]), .fetch(["r"], from: peerB)], "nor is it the copy a retirement asks for")
    }

    @Test func putDataIsRefusedToWorkersForKnownKeysAndBeyondTheMemoryLimit() {
        var h = WorkerHarness()
        h.computeTask(.dummy("busy"))
        let item = [KeySize(key: "new", nbytes: 10)]
        #expect(h.state.refusalOfPut(item, from: Principal(.client, "c"), memoryLimit: 100) == nil)
        #expect(h.state.refusalOfPut(item, from: nil, memoryLimit: nil) == nil, "without security anyone may")
        #expect(h.state.refusalOfPut(item, from: Principal(.worker, "w"), memoryLimit: 100)?.code == .forbidden)
        #expect(h.state.refusalOfPut([KeySize(key: "busy", nbytes: 1)], from: nil, memoryLimit: nil)?.code == .forbidden)
        let huge = [KeySize(key: "a", nbytes: .max), KeySize(key: "b", nbytes: .max)]
        #expect(h.state.refusalOfPut(huge, from: nil, memoryLimit: 1 << 30)?.code == .outOfRange, "sums saturate")
    }

    @Test func storedDataNeverReplacesAFetch() {
        var h = WorkerHarness()
        let t = TaskAssignment.dummy("t", run: 1, deps: [.dummy("s", nbytes: 64, holders: [peerA])])
        #expect(h.computeTask(t) == [.fetch(["s"], from: peerA)])
        #expect(h.dataStored([KeySize(key: "s", nbytes: 64)]) == [], "a value a peer stores is not what the scheduler named")
        #expect(h.state.tasks["s"]?.status == .flight)
        #expect(h.fetched(from: peerA, found: [KeySize(key: "s", nbytes: 64)]) == [.execute(t)])
    }
}

@Suite("WorkerState dispatch depth")
struct WorkerDispatchDepthTests {
    @Test func deeperDispatchHandsSeveralRunsPerThreadToThePool() {
        var h = WorkerHarness(config: WorkerConfig(nthreads: 1, dispatchDepth: 3))
        #expect(h.computeTask(.dummy("a", run: 1)) == [.execute(.dummy("a", run: 1))])
        #expect(h.computeTask(.dummy("b", run: 2)) == [.execute(.dummy("b", run: 2))])
        #expect(h.computeTask(.dummy("c", run: 3)) == [.execute(.dummy("c", run: 3))])
        #expect(h.computeTask(.dummy("d", run: 4)) == [], "three slots for one thread at depth 3")
        #expect(h.state.readyQueue == ["d"])
    }

    @Test func abandonedRunKeepsItsSlotUntilItEnds() {
        var h = WorkerHarness(config: WorkerConfig(nthreads: 1, dispatchDepth: 1))
        h.computeTask(.dummy("a", run: 1))
        #expect(h.freeKeys(["a"]) == [.abandon("a", RunID(1))])
        #expect(h.computeTask(.dummy("b", run: 2)) == [], "the abandoned run still holds the only slot")
        #expect(h.handle(.executed("a", RunID(1), .failure(.dummy(key: "a")), now: h.now)) == [
            .dropResult("a", RunID(1)), .execute(.dummy("b", run: 2)),
        ])
    }
}

@Suite("WorkerState adaptive dispatch depth")
struct WorkerAdaptiveDepthTests {
    @Test func shortRunsDeepenTheDispatchAndLongRunsKeepItShallow() {
        var config = WorkerConfig(nthreads: 1, dispatchDepth: 1, maxDispatchDepth: 8)
        config.dispatchQueueTime = .milliseconds(1)
        var h = WorkerHarness(config: config)
        #expect(h.state.executionSlots == 1, "unmeasured: the initial depth")
        h.computeTask(.dummy("a", run: 1))
        h.executed("a", run: 1, .success(nbytes: 1, duration: Interval(nanoseconds: 100_000)))
        #expect(h.state.executionSlots == 8, "0.1 ms runs: 10 would fit in 1 ms, capped at 8")
        for index in 2...9 { h.computeTask(.dummy(TaskKey("t\(index)"), run: UInt64(index))) }
        #expect(h.state.executing.count == 8)

        var slow = WorkerHarness(config: config)
        slow.computeTask(.dummy("a", run: 1))
        slow.executed("a", run: 1, .success(nbytes: 1, duration: .milliseconds(20)))
        #expect(slow.state.executionSlots == 1, "20 ms runs stay one at a time, stealable on the scheduler")
    }
}

@Suite("WorkerState late peer replies")
struct WorkerLateReplyTests {
    @Test func aLateReplyDoesNotClearANewerRequestToTheSamePeer() {
        var config = WorkerConfig(nthreads: 1)
        config.fetchTimeout = .milliseconds(100)
        var h = WorkerHarness(config: config)
        let peer = PeerAddress.dummy("w2")
        h.computeTask(.dummy("a", run: 1, deps: [.dummy("x", holders: [peer])]))
        #expect(h.state.inFlight[peer]?.keys == ["x"])
        h.now = .ms(200)
        h.handle(.tick(now: h.now))  // x times out: missing-data, no other holder
        h.computeTask(.dummy("b", run: 2, deps: [.dummy("y", holders: [peer])]))
        #expect(h.state.inFlight[peer]?.keys == ["y"])
        // The reply to the old request (x) arrives late.
        h.handle(.fetched(from: peer, found: [KeySize(key: "x", nbytes: 8)], missing: [], now: h.now))
        #expect(h.state.inFlight[peer]?.keys == ["y"], "y is still in flight, with its deadline")
        #expect(h.state.tasks["y"]?.status == .flight)
    }
}

@Suite("WorkerState result push")
struct WorkerPushTests {
    @Test func smallResultsArePushedToTheWaitingClientsLargeOnesAreNot() {
        var config = WorkerConfig(nthreads: 1)
        config.pushLimit = 100
        var h = WorkerHarness(config: config)
        h.computeTask(.dummy("a", run: 1, notify: ["c1", "c2"]))
        #expect(
            h.executed("a", run: 1, .success(nbytes: 8, duration: .milliseconds(1))) == [
                .storeResult("a", RunID(1)), .push("a", to: ["c1", "c2"]),
                .send(.taskFinished(key: "a", runID: RunID(1), nbytes: 8, duration: .milliseconds(1))),
            ])
        h.computeTask(.dummy("b", run: 2, notify: ["c1"]))
        #expect(
            h.executed("b", run: 2, .success(nbytes: 101, duration: .milliseconds(1))) == [
                .storeResult("b", RunID(2)),
                .send(.taskFinished(key: "b", runID: RunID(2), nbytes: 101, duration: .milliseconds(1))),
            ], "above the push limit the client fetches it")
    }
}
