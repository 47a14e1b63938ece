import Testing
import ZFlowCore
import ZFlowScheduling
import ZFlowTestKit

// Scheduling decisions of `SchedulerState`: placement, queuing, priority, graph order, work stealing,
// restrictions, resources and retries. Every step goes through `SchedulerHarness`, which checks the
// invariants after it; time is virtual (`h.now`).

private let w1: WorkerID = "w1"
private let w2: WorkerID = "w2"
private let w3: WorkerID = "w3"
private let c0: ClientID = "c0"
private let c1: ClientID = "c1"
private let c2: ClientID = "c2"

/// A harness with the given workers (each offering `functions`) and clients registered at time 0.
private func cluster(
    _ workers: [WorkerID] = [w1], nthreads: Int = 1, functions: [String] = ["inc", "slow"],
    clients: [ClientID] = [c1], config: SchedulerConfig = SchedulerConfig()
) -> SchedulerHarness {
    var h = SchedulerHarness(config: config)
    for worker in workers { h.registerWorker(worker, nthreads: nthreads, functions: functions) }
    for client in clients { h.registerClient(client) }
    return h
}

/// A task spec with the given restrictions and settings.
private func task(
    _ key: TaskKey, function: String = "inc", deps: [TaskKey] = [], priority: Int = 0, workers: [WorkerID] = [],
    allowOtherWorkers: Bool = false, resources: Resources = [:], retries: Int = 0
) -> TaskSpec {
    var spec = TaskSpec.dummy(key, function: function, deps: deps, priority: priority)
    spec.workers = workers
    spec.allowOtherWorkers = allowOtherWorkers
    spec.resources = resources
    spec.retries = retries
    return spec
}

/// The `compute-task` assignments among `actions`, with their recipients, in order.
private func assignments(_ actions: [SchedulerAction]) -> [(to: RoutingID, assignment: TaskAssignment)] {
    actions.compactMap { action in
        guard case .toWorker(let routing, .computeTask(let assignment)) = action else { return nil }
        return (routing, assignment)
    }
}

/// The keys of the `compute-task`s among `actions`, in order.
private func assignedKeys(_ actions: [SchedulerAction]) -> [TaskKey] { assignments(actions).map(\.assignment.key) }

/// The keys of the `compute-task`s among `actions` sent to `worker`, in order.
private func assignedKeys(_ actions: [SchedulerAction], to worker: WorkerID) -> [TaskKey] {
    assignments(actions).filter { $0.to == .worker(worker) }.map(\.assignment.key)
}

/// The `steal-request`s among `actions`: victim, key and run.
private func stealRequests(_ actions: [SchedulerAction]) -> [(victim: RoutingID, key: TaskKey, run: RunID)] {
    actions.compactMap { action in
        guard case .toWorker(let routing, .stealRequest(let key, let run)) = action else { return nil }
        return (routing, key, run)
    }
}

/// Finishes processing tasks one at a time, best priority first (as a 1-thread worker runs them), each measured at
/// `duration`, and returns the keys handed out meanwhile, in order.
private func drain(_ h: inout SchedulerHarness, duration: Interval = .seconds(1)) -> [TaskKey] {
    var handedOut: [TaskKey] = []
    while let next = h.state.tasks.values.filter({ $0.status == .processing })
        .min(by: { ($0.priority, $0.key) < ($1.priority, $1.key) })?.key
    {
        handedOut += assignedKeys(h.finish(next, duration: duration))
    }
    return handedOut
}

/// Occupies w1's two queuing slots (1 thread, saturation 1.25) with high-priority root tasks from client `c0`,
/// so that root tasks submitted afterwards are queued.
private func fillWorker(_ h: inout SchedulerHarness) {
    let actions = h.submit([task("f0", priority: 10), task("f1", priority: 10)], from: c0)
    precondition(assignedKeys(actions) == ["f0", "f1"], "fillers must be sent: \(actions)")
}

// MARK: - Placement

@Suite("Scheduling decisions: placement by earliest start")
struct PlacementDecisionTests {
    /// A 100 MB input on an idle worker pulls its dependent there: moving it would take 0.2 s.
    @Test func largeInputPullsTheTaskToItsHolder() {
        var h = cluster([w1, w2])
        h.fromClient(c1, .scattered(worker: w2, keys: [KeySize(key: "big", nbytes: 100_000_000)]))
        let actions = h.submit([task("use", deps: ["big"])])
        #expect(assignedKeys(actions, to: w2) == ["use"], "\(actions)")
        #expect(h.worker(of: "use") == w2)
    }

    /// Seconds of measured work queued on the holder outweigh the 0.2 s transfer: the task goes to the idle worker.
    @Test func busyHolderLosesTheTaskToAnIdleWorker() {
        var h = cluster([w1, w2])
        h.submit([task("warm", function: "slow")])
        h.finish("warm", duration: .seconds(1))  // "slow" is measured at 1 s
        h.fromClient(c1, .scattered(worker: w2, keys: [KeySize(key: "big", nbytes: 100_000_000)]))
        h.submit([
            task("s0", function: "slow", workers: [w2]), task("s1", function: "slow", workers: [w2]),
            task("s2", function: "slow", workers: [w2]),
        ])
        let occupancy = h.state.workers[w2]!.occupancy
        #expect(abs(occupancy - 3.0) < 1e-9, "three 1 s tasks on w2, got \(occupancy)")
        let actions = h.submit([task("use", deps: ["big"])])
        #expect(assignedKeys(actions, to: w1) == ["use"], "\(actions)")
        #expect(h.worker(of: "use") == w1)
    }

    /// An 8-byte input costs nanoseconds to move, less than one queued task: the task goes to the idle worker.
    @Test func tinyInputDoesNotPullTheTaskToABusierWorker() {
        var h = cluster([w1, w2])
        h.fromClient(c1, .scattered(worker: w2, keys: [KeySize(key: "tiny", nbytes: 8)]))
        h.submit([task("busy", workers: [w2])])  // 1 ms (the default duration) queued on w2
        let actions = h.submit([task("use", deps: ["tiny"])])
        #expect(assignedKeys(actions, to: w1) == ["use"], "\(actions)")
        #expect(
            assignments(actions).first?.assignment.dependencies == [.dummy("tiny", nbytes: 8, holders: [.dummy(w2)])])
    }

    /// Occupancy is the sum of the expected (measured) durations of the tasks processing on a worker.
    @Test func occupancyIsTheSumOfMeasuredDurations() {
        var h = cluster([w1])
        h.submit([task("warm", function: "slow")])
        h.finish("warm", duration: .milliseconds(250))
        h.submit([task("a", function: "slow", workers: [w1]), task("b", function: "slow", workers: [w1])])
        #expect(abs(h.state.workers[w1]!.occupancy - 0.5) < 1e-9)
        h.finish("a", duration: .milliseconds(250))
        #expect(abs(h.state.workers[w1]!.occupancy - 0.25) < 1e-9)
    }
}

// MARK: - Queuing

@Suite("Scheduling decisions: queuing and saturation")
struct QueuingDecisionTests {
    /// One thread at saturation 1.25 holds 2 root tasks of an unmeasured function; the other 8 wait queued.
    @Test func rootTasksBeyondSaturationAreQueued() {
        var h = cluster([w1])
        let keys = (0..<10).map { TaskKey("t\($0)") }
        let actions = h.submit(keys.map { task($0) })
        #expect(assignedKeys(actions) == ["t0", "t1"])
        #expect(h.state.queuedCount == 8)
        #expect(keys.dropFirst(2).allSatisfy { h.state.tasks[$0]?.status == .queued })
        #expect(h.state.workers[w1]?.processing == ["t0", "t1"])
    }

    /// The capacity rounds `saturation × nthreads` up: 2 threads × 1.25 → 3 root tasks.
    @Test func capacityRoundsSaturationUp() {
        var h = cluster([w1], nthreads: 2)
        let actions = h.submit((0..<10).map { task(TaskKey("t\($0)")) })
        #expect(assignedKeys(actions) == ["t0", "t1", "t2"])
        #expect(h.state.queuedCount == 7)
    }

    /// Finishing a long task frees one slot, and exactly the next queued task is handed out.
    @Test func finishingOneHandsOutExactlyTheNextQueuedTask() {
        var h = cluster([w1])
        h.submit((0..<10).map { task(TaskKey("t\($0)")) })
        let actions = h.finish("t0", duration: .seconds(1))
        #expect(assignedKeys(actions, to: w1) == ["t2"], "\(actions)")
        #expect(h.state.queuedCount == 7)
        #expect(h.state.tasks["t3"]?.status == .queued)
    }

    /// A worker losing a task for any reason (released, erred) is offered the next queued task in that event.
    @Test func workerLosingATaskGetsTheNextQueuedTask() {
        var h = cluster([w1])
        h.submit((0..<10).map { task(TaskKey("t\($0)")) })
        let released = h.fromClient(c1, .release(["t0"]))
        #expect(released.contains(.toWorker(.worker(w1), .freeKeys(["t0"]))))
        #expect(assignedKeys(released, to: w1) == ["t2"], "\(released)")
        let erred = h.fail("t1", error: .dummy(key: "t1"))
        #expect(assignedKeys(erred, to: w1) == ["t3"], "\(erred)")
        #expect(h.state.queuedCount == 6)
    }

    /// A function measured at 1 µs fits 20 000 runs per thread in the 20 ms queue time: nothing waits queued.
    @Test func measuredShortFunctionIsSentAllAtOnce() {
        var h = cluster([w1])
        h.submit((0..<10).map { task(TaskKey("t\($0)")) })
        let released = h.finish("t0", duration: Interval(nanoseconds: 1_000))
        #expect(assignedKeys(released) == (2..<10).map { TaskKey("t\($0)") })
        #expect(h.state.queuedCount == 0)
        let more = h.submit((10..<20).map { task(TaskKey("t\($0)")) })
        #expect(assignedKeys(more).count == 10)
        #expect(h.state.queuedCount == 0)
    }

    /// `saturation: .infinity` turns queuing off: every root task is sent at once.
    @Test func infiniteSaturationTurnsQueuingOff() {
        var config = SchedulerConfig()
        config.saturation = .infinity
        var h = cluster([w1], config: config)
        let actions = h.submit((0..<10).map { task(TaskKey("t\($0)")) })
        #expect(assignedKeys(actions).count == 10)
        #expect(h.state.queuedCount == 0)
        #expect(!h.state.tasks.values.contains { $0.status == .queued })
    }

    /// A worker registering while tasks are queued gets them in the same event as its `registered` reply.
    @Test func newWorkerReceivesQueuedTasksWithItsRegistration() {
        var h = cluster([w1])
        h.submit((0..<10).map { task(TaskKey("t\($0)")) })
        let actions = h.registerWorker(w2, functions: ["inc", "slow"])
        #expect(actions.first == .toWorker(.worker(w2), .registered))
        #expect(assignedKeys(actions, to: w2) == ["t2", "t3"], "\(actions)")
        #expect(h.state.queuedCount == 6)
    }

    /// Tasks with dependencies are never queued: data placement decides where they go.
    @Test func tasksWithDependenciesAreNotQueued() {
        var h = cluster([w1])
        h.submit([task("a")])
        h.finish("a", duration: .seconds(1))
        let actions = h.submit((0..<5).map { task(TaskKey("d\($0)"), deps: ["a"]) })
        #expect(assignedKeys(actions).count == 5)
        #expect(h.state.queuedCount == 0)
    }
}

// MARK: - Priority

@Suite("Scheduling decisions: priority")
struct PriorityDecisionTests {
    /// Submitted tasks carry (user priority, the client's submission count, graph position).
    @Test func taskPriorityRecordsUserGenerationAndPosition() {
        var h = cluster([w1])
        h.submit([task("a"), task("b", priority: 3)])
        h.submit([task("c")])
        #expect(h.state.tasks["a"]?.priority == TaskPriority(user: 0, generation: 0, graphOrder: 0))
        #expect(h.state.tasks["b"]?.priority == TaskPriority(user: 3, generation: 0, graphOrder: 1))
        #expect(h.state.tasks["c"]?.priority == TaskPriority(user: 0, generation: 1, graphOrder: 0))
    }

    /// The queue hands out higher user priority first, then earlier submissions, then graph order.
    @Test func queuedTasksAreHandedOutByUserPriorityThenGenerationThenGraphOrder() {
        var h = cluster([w1], clients: [c0, c1])
        fillWorker(&h)
        h.submit([task("x"), task("y", priority: 5), task("z"), task("v", priority: -1), task("u", priority: 5)])
        h.submit([task("late"), task("hi", priority: 1)])
        #expect(h.state.queuedCount == 7)
        #expect(drain(&h) == ["y", "u", "hi", "x", "z", "late", "v"])
    }

    /// The compute-task carries the scheduler's full priority for the worker's run queue.
    @Test func computeTaskCarriesTheFullPriority() {
        var h = cluster([w1])
        h.submit([task("a")])
        let first = assignments(h.submit([task("b", priority: 2), task("c", deps: ["a"])]))
        #expect(first.map(\.assignment.key) == ["b"])
        #expect(first.first?.assignment.priority == TaskPriority(user: 2, generation: 1, graphOrder: 0))
        let second = assignments(h.finish("a"))
        #expect(second.map(\.assignment.key) == ["c"])
        #expect(second.first?.assignment.priority == TaskPriority(user: 0, generation: 1, graphOrder: 1))
    }

    /// Two clients submitting at once take turns: c2's first submission runs before c1's second.
    @Test func clientsSubmittingAtOnceTakeTurns() {
        var h = cluster([w1], clients: [c0, c1, c2])
        fillWorker(&h)
        for index in 0..<5 { h.submit([task(TaskKey("a\(index)"))], from: c1) }
        h.submit([task("b0")], from: c2)
        #expect(h.state.tasks["a3"]?.priority.generation == 3)
        #expect(h.state.tasks["b0"]?.priority.generation == 0)
        let order = drain(&h)
        #expect(order == ["a0", "b0", "a1", "a2", "a3", "a4"])
        #expect((order.firstIndex(of: "b0") ?? .max) < (order.firstIndex(of: "a1") ?? 0))
    }
}

// MARK: - Graph order

@Suite("Scheduling decisions: depth-first graph order")
struct GraphOrderDecisionTests {
    static let tree: [TaskSpec] = [
        task("l0"), task("l1"), task("l2"), task("l3"),
        task("s01", deps: ["l0", "l1"]), task("s23", deps: ["l2", "l3"]), task("root", deps: ["s01", "s23"]),
    ]
    /// The same tree listed right branch first (inputs still before the tasks that need them: the scheduler
    /// requires that, `zflow run` sorts graph files so).
    static let scrambled: [TaskSpec] = [
        task("l2"), task("l3"), task("s23", deps: ["l2", "l3"]), task("l0"), task("l1"),
        task("s01", deps: ["l0", "l1"]), task("root", deps: ["s01", "s23"]),
    ]

    /// A reduction tree is numbered depth-first: the left sum comes before the right leaves.
    @Test func binaryTreeIsNumberedDepthFirst() {
        var h = cluster([w1])
        h.submit(Self.tree)
        let order = Dictionary(uniqueKeysWithValues: h.state.tasks.map { ($0.key, $0.value.priority.graphOrder) })
        #expect((order["s01"] ?? .max) < (order["l2"] ?? 0))
        #expect(order == ["l0": 0, "l1": 1, "s01": 2, "l2": 3, "l3": 4, "s23": 5, "root": 6])
    }

    /// The numbering follows the graph (dependencies in argument order), not the order the specs are listed in.
    @Test func graphOrderIgnoresListingOrder() {
        var h = cluster([w1])
        h.submit(Self.scrambled)
        #expect(h.state.counters.tasksErred == 0)
        let order = Dictionary(uniqueKeysWithValues: h.state.tasks.map { ($0.key, $0.value.priority.graphOrder) })
        #expect(order == ["l0": 0, "l1": 1, "s01": 2, "l2": 3, "l3": 4, "s23": 5, "root": 6])
    }

    /// With one thread, the left sum is handed out before the last leaf: one branch is finished first.
    @Test func oneThreadFinishesTheLeftBranchBeforeTheLastLeaf() {
        var h = cluster([w1], clients: [c0, c1])
        fillWorker(&h)
        h.submit(Self.scrambled)
        #expect(h.state.queuedCount == 4)
        let order = drain(&h)
        #expect(order == ["l0", "l1", "l2", "s01", "l3", "s23", "root"])
        #expect((order.firstIndex(of: "s01") ?? .max) < (order.firstIndex(of: "l3") ?? 0))
    }

    /// Compute-task assignments carry the graph order, so the worker also runs the left sum before right leaves.
    @Test func assignmentsCarryTheGraphOrder() {
        var config = SchedulerConfig()
        config.saturation = .infinity
        var h = cluster([w1], config: config)
        let leaves = assignments(h.submit(Self.tree))
        #expect(leaves.map(\.assignment.priority.graphOrder) == [0, 1, 3, 4])
        h.finish("l0")
        let sum = assignments(h.finish("l1"))
        #expect(sum.map(\.assignment.key) == ["s01"])
        guard let s01 = sum.first, leaves.count == 4 else { return }
        #expect(s01.assignment.priority < leaves[2].assignment.priority, "s01 runs before l2 on the worker")
    }
}

// MARK: - Work stealing

/// w1 (1 thread, offering inc and slow) holds t0…t3, tasks of `function` measured at `duration` that depend on
/// `warm` (so they are not queued); w2 is not registered yet.
private func loadedW1(function: String = "slow", duration: Interval = .milliseconds(10)) -> SchedulerHarness {
    var h = cluster([w1])
    h.submit([task("warm", function: function)])
    h.finish("warm", duration: duration)
    let actions = h.submit((0..<4).map { task(TaskKey("t\($0)"), function: function, deps: ["warm"]) })
    precondition(assignedKeys(actions, to: w1) == ["t0", "t1", "t2", "t3"], "\(actions)")
    return h
}

@Suite("Scheduling decisions: work stealing")
struct StealingDecisionTests {
    /// An idle worker registering asks the busy worker for its lowest-priority task.
    @Test func registeringIdleWorkerStealsTheLowestPriorityTask() {
        var h = loadedW1()
        let run = h.runID(of: "t3")!
        let actions = h.registerWorker(w2, functions: ["inc", "slow"])
        #expect(actions == [.toWorker(.worker(w2), .registered), .toWorker(.worker(w1), .stealRequest(key: "t3", runID: run))])
        #expect(h.state.counters.stealRequests == 1)
        #expect(h.state.steals["t3"]?.victim == w1)
        #expect(h.state.steals["t3"]?.thief == w2)
        #expect(h.state.steals["t3"]?.run == run)
        #expect(h.worker(of: "t3") == w1, "nothing moves before the victim answers")
    }

    /// A granted steal reassigns the task to the thief under a new run and counts it.
    @Test func grantedStealReassignsTheTaskToTheThief() {
        var h = loadedW1()
        let old = h.runID(of: "t3")!
        h.registerWorker(w2, functions: ["inc", "slow"])
        let actions = h.fromWorker(w1, .stealResponse(key: "t3", runID: old, stolen: true))
        let sent = assignments(actions)
        #expect(sent.map(\.to) == [.worker(w2)])
        #expect(sent.first?.assignment.key == "t3")
        #expect(sent.first?.assignment.runID != old)
        #expect(sent.first?.assignment.dependencies == [.dummy("warm", nbytes: 8, holders: [.dummy(w1)])])
        #expect(h.worker(of: "t3") == w2)
        #expect(h.runID(of: "t3") == sent.first?.assignment.runID)
        #expect(h.state.workers[w1]?.processing.contains("t3") == false)
        #expect(h.state.counters.tasksStolen == 1)
        #expect(h.state.steals.isEmpty)
    }

    /// A refused steal leaves the task where it runs, under the same run.
    @Test func refusedStealLeavesTheTaskOnTheVictim() {
        var h = loadedW1()
        let run = h.runID(of: "t3")!
        h.registerWorker(w2, functions: ["inc", "slow"])
        let actions = h.fromWorker(w1, .stealResponse(key: "t3", runID: run, stolen: false))
        #expect(assignedKeys(actions).isEmpty)
        #expect(h.worker(of: "t3") == w1)
        #expect(h.runID(of: "t3") == run)
        #expect(h.state.counters.tasksStolen == 0)
        #expect(h.state.steals.isEmpty)
    }

    /// The victim finishes the task before its steal-response arrives: it is in memory once, and the late answer
    /// (even a "stolen") is ignored.
    @Test func finishBeforeStealResponseKeepsTheResultAndIgnoresTheAnswer() {
        var h = loadedW1()
        let run = h.runID(of: "t3")!
        h.registerWorker(w2, functions: ["inc", "slow"])
        let completed = h.state.counters.tasksCompleted
        h.fromWorker(w1, .taskFinished(key: "t3", runID: run, nbytes: 8, duration: .milliseconds(10)))
        #expect(h.state.tasks["t3"]?.status == .memory)
        let late = h.fromWorker(w1, .stealResponse(key: "t3", runID: run, stolen: true))
        #expect(assignedKeys(late).isEmpty, "\(late)")
        #expect(h.state.tasks["t3"]?.status == .memory)
        #expect(h.state.tasks["t3"]?.holders == [w1])
        #expect(h.state.counters.tasksCompleted == completed + 1)
        #expect(h.state.counters.tasksStolen == 0)
        #expect(h.state.steals.isEmpty)
        #expect(h.state.workers[w2]?.processing.isEmpty == true)
    }

    /// A steal-response naming a run (or a key) the scheduler did not ask about changes nothing.
    @Test func stealResponseForAnUnknownRunIsIgnored() {
        var h = loadedW1()
        let run = h.runID(of: "t3")!
        h.registerWorker(w2, functions: ["inc", "slow"])
        #expect(h.fromWorker(w1, .stealResponse(key: "t3", runID: RunID(999), stolen: true)).isEmpty)
        #expect(h.fromWorker(w1, .stealResponse(key: "t0", runID: h.runID(of: "t0")!, stolen: true)).isEmpty)
        #expect(h.fromWorker(w1, .stealResponse(key: "nope", runID: RunID(1), stolen: true)).isEmpty)
        #expect(h.worker(of: "t3") == w1)
        #expect(h.worker(of: "t0") == w1)
        #expect(h.runID(of: "t3") == run)
        #expect(h.state.counters.tasksStolen == 0)
        #expect(h.state.steals["t3"]?.run == run, "the real request is still pending")
    }

    /// A steal-response from a worker other than the victim changes nothing.
    @Test func stealResponseFromAnotherWorkerIsIgnored() {
        var h = loadedW1()
        let run = h.runID(of: "t3")!
        h.registerWorker(w2, functions: ["inc", "slow"])
        #expect(h.fromWorker(w2, .stealResponse(key: "t3", runID: run, stolen: true)).isEmpty)
        #expect(h.worker(of: "t3") == w1)
        #expect(h.state.counters.tasksStolen == 0)
    }

    /// Tasks expected to run shorter than `minimumStealDuration` (1 ms) are not worth two messages.
    @Test func shortTasksAreNotStolen() {
        var h = loadedW1(function: "inc", duration: Interval(nanoseconds: 100_000))
        let actions = h.registerWorker(w2, functions: ["inc", "slow"])
        #expect(stealRequests(actions).isEmpty, "\(actions)")
        h.now = .ms(50)
        #expect(stealRequests(h.tick()).isEmpty)
        #expect(h.state.counters.stealRequests == 0)
    }

    /// A task whose input would take longer to move than half its run is not stolen.
    @Test func tasksWithLargeMissingInputsAreNotStolen() {
        var h = cluster([w1])
        h.submit([task("warm", function: "slow")])
        h.finish("warm", nbytes: 100_000_000, duration: .milliseconds(10))  // 0.2 s to move, 10 ms to run
        h.submit((0..<4).map { task(TaskKey("t\($0)"), function: "slow", deps: ["warm"]) })
        let actions = h.registerWorker(w2, functions: ["inc", "slow"])
        #expect(stealRequests(actions).isEmpty, "\(actions)")
    }

    /// The tick balances too: once the thief is idle again it asks for the next lowest-priority task.
    @Test func tickSendsStealRequestsToBusyWorkers() {
        var h = loadedW1()
        h.registerWorker(w2, functions: ["inc", "slow"])
        h.fromWorker(w1, .stealResponse(key: "t3", runID: h.runID(of: "t3")!, stolen: true))
        let finished = h.finish("t3", duration: .milliseconds(10))
        #expect(stealRequests(finished).isEmpty, "stealing waits for the tick")
        h.now = .ms(50)
        let requests = stealRequests(h.tick())
        #expect(requests.map(\.victim) == [.worker(w1)])
        #expect(requests.map(\.key) == ["t2"])
        #expect(requests.first?.run == h.runID(of: "t2"))
        #expect(h.state.counters.stealRequests == 2)
    }

    /// A steal still awaiting its answer is not asked again, and the waiting thief asks for nothing more.
    @Test func pendingStealIsNotRequestedAgainOnTick() {
        var h = loadedW1()
        h.registerWorker(w2, functions: ["inc", "slow"])
        h.now = .ms(50)
        #expect(stealRequests(h.tick()).isEmpty)
        #expect(h.state.counters.stealRequests == 1)
    }

    /// A granted steal moves the task's expected duration from the victim's occupancy to the thief's.
    @Test func grantedStealMovesOccupancy() {
        var h = loadedW1()
        h.registerWorker(w2, functions: ["inc", "slow"])
        h.fromWorker(w1, .stealResponse(key: "t3", runID: h.runID(of: "t3") ?? RunID(0), stolen: true))
        #expect(abs(h.state.workers[w1]!.occupancy - 0.03) < 1e-9)
        #expect(abs(h.state.workers[w2]!.occupancy - 0.01) < 1e-9)
    }

    /// A thief with two idle threads asks for the two lowest-priority tasks.
    @Test func thiefAsksForAsManyTasksAsItHasIdleThreads() {
        var h = loadedW1()
        let actions = h.registerWorker(w2, nthreads: 2, functions: ["inc", "slow"])
        #expect(stealRequests(actions).map(\.key) == ["t3", "t2"], "\(actions)")
        #expect(h.state.counters.stealRequests == 2)
    }

    /// The thief asks the victim with the largest surplus.
    @Test func thiefAsksTheVictimWithTheLargestSurplus() {
        var h = cluster([w1, w3])
        h.submit([task("warm", function: "slow")])
        h.finish("warm", duration: .milliseconds(10))
        h.submit((0..<4).map { task(TaskKey("a\($0)"), function: "slow", workers: [w1, w2]) })
        h.submit((0..<2).map { task(TaskKey("b\($0)"), function: "slow", workers: [w3, w2]) })
        #expect(h.state.workers[w1]?.processing.count == 4)
        #expect(h.state.workers[w3]?.processing.count == 2)
        let requests = stealRequests(h.registerWorker(w2, functions: ["inc", "slow"]))
        #expect(requests.map(\.victim) == [.worker(w1)])
        #expect(requests.map(\.key) == ["a3"])
    }

    /// A thief departing before the answer: the task given up is placed again like any ready task.
    @Test func stealGrantedAfterTheThiefLeftReplacesTheTask() {
        var h = loadedW1()
        let old = h.runID(of: "t3") ?? RunID(0)
        h.registerWorker(w2, functions: ["inc", "slow"])
        h.fromWorker(w2, .unregister)
        #expect(h.state.steals["t3"]?.thief == nil)
        let actions = h.fromWorker(w1, .stealResponse(key: "t3", runID: old, stolen: true))
        #expect(assignedKeys(actions, to: w1) == ["t3"], "\(actions)")
        #expect(h.worker(of: "t3") == w1)
        #expect(h.runID(of: "t3") != old)
    }

    /// A task placed elsewhere because its preferred worker was absent moves there by stealing when it registers.
    @Test func preferredWorkerTakesItsTaskByStealing() {
        var h = cluster([w1])
        h.submit([task("warm", function: "slow")])
        h.finish("warm", duration: .milliseconds(10))
        h.submit((0..<4).map { task(TaskKey("p\($0)"), function: "slow", workers: [w3], allowOtherWorkers: true) })
        #expect(h.state.workers[w1]?.processing.count == 4)
        let requests = stealRequests(h.registerWorker(w3, functions: ["inc", "slow"]))
        #expect(requests.map(\.key) == ["p3"])
    }

    /// Restrictions bind stealing strictly: a worker not named (even with `allowOtherWorkers`) cannot steal.
    @Test func unnamedWorkerDoesNotStealRestrictedTasks() {
        var h = cluster([w1])
        h.submit([task("warm", function: "slow")])
        h.finish("warm", duration: .milliseconds(10))
        h.submit((0..<2).map { task(TaskKey("r\($0)"), function: "slow", workers: [w1]) })
        h.submit((0..<2).map { task(TaskKey("p\($0)"), function: "slow", workers: [w3], allowOtherWorkers: true) })
        #expect(stealRequests(h.registerWorker(w2, functions: ["inc", "slow"])).isEmpty)
    }

    /// docs/scheduling.md: tasks of a function that never finished are never stolen (the 1 ms guess is no
    /// measurement).
    @Test func unmeasuredFunctionIsNeverStolen() {
        var h = cluster([w1])
        h.submit([task("warm")])
        h.finish("warm", duration: .milliseconds(10))  // "inc" is measured, "slow" is not
        h.submit((0..<4).map { task(TaskKey("t\($0)"), function: "slow", deps: ["warm"]) })
        #expect(h.state.averageDuration["slow"] == nil)
        let actions = h.registerWorker(w2, functions: ["inc", "slow"])
        #expect(stealRequests(actions).isEmpty, "\(actions)")
    }

    /// docs/scheduling.md: thieves are served in name order, each "moving on to the next victim when one has
    /// nothing suitable": a thief that cannot run the victim's tasks must not stop a later thief that can.
    @Test func thiefThatCannotRunTheTasksDoesNotBlockAnotherThief() {
        var h = loadedW1()
        #expect(stealRequests(h.registerWorker(w2, functions: ["inc"])).isEmpty, "w2 does not offer slow")
        let actions = h.registerWorker(w3, functions: ["inc", "slow"])
        #expect(stealRequests(actions).map(\.key) == ["t3"], "\(actions)")
        h.now = .ms(50)
        if stealRequests(actions).isEmpty {
            #expect(stealRequests(h.tick()).map(\.key) == ["t3"], "not on the tick either")
        }
    }

    /// `workStealing: false` sends no steal-request at all.
    @Test func stealingCanBeTurnedOff() {
        var config = SchedulerConfig()
        config.workStealing = false
        var h = cluster([w1], config: config)
        h.submit([task("warm", function: "slow")])
        h.finish("warm", duration: .milliseconds(10))
        h.submit((0..<4).map { task(TaskKey("t\($0)"), function: "slow", deps: ["warm"]) })
        #expect(stealRequests(h.registerWorker(w2, functions: ["inc", "slow"])).isEmpty)
        h.now = .ms(50)
        #expect(stealRequests(h.tick()).isEmpty)
    }
}

// MARK: - Restrictions

@Suite("Scheduling decisions: worker restrictions")
struct RestrictionDecisionTests {
    /// `workers: [w2]` runs only on w2, even while w1 is idle.
    @Test func restrictedTaskRunsOnlyOnTheNamedWorker() {
        var h = cluster([w1, w2])
        let actions = h.submit([task("a", workers: [w2]), task("b", workers: [w2]), task("c", workers: [w2])])
        #expect(assignedKeys(actions, to: w2) == ["a", "b", "c"])
        #expect(assignedKeys(actions, to: w1).isEmpty)
    }

    /// A restriction naming an absent worker parks the task (not an error) until that worker registers.
    @Test func restrictionToAnAbsentWorkerWaitsForIt() {
        var h = cluster([w1, w2])
        #expect(h.submit([task("a", workers: [w3])]).isEmpty)
        #expect(h.state.tasks["a"]?.status == .noWorker)
        #expect(h.state.noWorker == ["a"])
        let actions = h.registerWorker(w3, functions: ["inc"])
        #expect(assignedKeys(actions, to: w3) == ["a"])
        #expect(h.worker(of: "a") == w3)
        #expect(h.state.noWorker.isEmpty)
    }

    /// A restriction may name a worker by its peer address.
    @Test func restrictionByPeerAddressSelectsThatWorker() {
        var h = cluster([w1, w2])
        let actions = h.submit([task("a", workers: [WorkerID(PeerAddress.dummy(w2).rawValue)])])
        #expect(assignedKeys(actions, to: w2) == ["a"], "\(actions)")
    }

    /// `allowOtherWorkers` makes the restriction a preference: the task runs elsewhere while w3 is absent.
    @Test func allowOtherWorkersRunsElsewhereWhenTheNamedWorkerIsAbsent() {
        var h = cluster([w1])
        let actions = h.submit([task("a", workers: [w3], allowOtherWorkers: true)])
        #expect(assignedKeys(actions, to: w1) == ["a"])
    }

    /// `allowOtherWorkers` still prefers the named worker when it is connected.
    @Test func allowOtherWorkersPrefersTheNamedWorkerWhenPresent() {
        var h = cluster([w1, w3])
        let actions = h.submit([task("a", workers: [w3], allowOtherWorkers: true)])
        #expect(assignedKeys(actions, to: w3) == ["a"])
    }

    /// Restricted root tasks skip the queue: they are sent even when the worker is saturated.
    @Test func restrictedRootTasksAreNotQueued() {
        var h = cluster([w1])
        let actions = h.submit((0..<5).map { task(TaskKey("r\($0)"), workers: [w1]) })
        #expect(assignedKeys(actions).count == 5)
        #expect(h.state.queuedCount == 0)
    }
}

// MARK: - Resources

@Suite("Scheduling decisions: resources")
struct ResourceDecisionTests {
    /// A GPU task goes to the worker declaring a GPU, not to the idle one sorting first.
    @Test func gpuTaskGoesOnlyToAGpuWorker() {
        var h = cluster([w1])
        h.fromWorker(w2, .register(.dummy(name: w2, functions: ["inc"], resources: ["GPU": 1])))
        h.submit([task("busy", workers: [w2])])  // w2 is also busier
        let actions = h.submit([task("g", resources: ["GPU": 1])])
        #expect(assignedKeys(actions, to: w2) == ["g"], "\(actions)")
        #expect(assignments(actions).first?.assignment.resources == ["GPU": 1])
    }

    /// With no worker declaring the resource the task is parked (not erred) until a GPU worker registers.
    @Test func gpuTaskWaitsForAGpuWorker() {
        var h = cluster([w1])
        let actions = h.submit([task("g", resources: ["GPU": 1])])
        #expect(actions.isEmpty, "\(actions)")
        #expect(h.state.tasks["g"]?.status == .noWorker)
        #expect(h.state.counters.tasksErred == 0)
        let registered = h.fromWorker(w2, .register(.dummy(name: w2, functions: ["inc"], resources: ["GPU": 1])))
        #expect(assignedKeys(registered, to: w2) == ["g"])
        #expect(h.worker(of: "g") == w2)
    }

    /// A worker with too small an amount does not qualify.
    @Test func insufficientAmountDoesNotQualify() {
        var h = cluster([w1])
        h.fromWorker(w2, .register(.dummy(name: w2, functions: ["inc"], resources: ["GPU": 1])))
        #expect(h.submit([task("g", resources: ["GPU": 2])]).isEmpty)
        #expect(h.state.tasks["g"]?.status == .noWorker)
        let registered = h.fromWorker(w3, .register(.dummy(name: w3, functions: ["inc"], resources: ["GPU": 4])))
        #expect(assignedKeys(registered, to: w3) == ["g"])
    }
}

// MARK: - Retries

@Suite("Scheduling decisions: retries")
struct RetryDecisionTests {
    /// `retries: 2`: two failures re-run the task under new runs; the third reports task-erred to the client.
    @Test func twoRetriesThenTheThirdFailureErrs() {
        var h = cluster([w1])
        h.submit([task("a", retries: 2)])
        var runs = [h.runID(of: "a")]
        for attempt in 1...2 {
            let actions = h.fail("a", error: .dummy(key: "a"))
            #expect(actions.first == .toWorker(.worker(w1), .freeKeys(["a"])), "attempt \(attempt): \(actions)")
            #expect(assignedKeys(actions, to: w1) == ["a"], "attempt \(attempt): \(actions)")
            #expect(!actions.contains { if case .toClient = $0 { return true } else { return false } })
            #expect(h.state.tasks["a"]?.status == .processing)
            guard let run = h.runID(of: "a") else { return }
            #expect(!runs.contains(run))
            runs.append(run)
        }
        let final = h.fail("a", error: .dummy(key: "a"))
        #expect(final.contains(.toClient(c1, .taskErred(key: "a", error: .dummy(key: "a")))), "\(final)")
        #expect(assignedKeys(final).isEmpty)
        #expect(h.state.tasks["a"]?.status == .erred)
        #expect(h.state.counters.tasksErred == 1)
    }
}
