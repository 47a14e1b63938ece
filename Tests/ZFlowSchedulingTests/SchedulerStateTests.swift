import Testing
import ZFlowCore
import ZFlowScheduling
import ZFlowTestKit

// Every step goes through `SchedulerHarness`, which runs `checkInvariants()` after it.

private let w1: WorkerID = "w1"
private let w2: WorkerID = "w2"
private let w3: WorkerID = "w3"
private let c1: ClientID = "c1"
private let c2: ClientID = "c2"

/// A harness with a registered client `c1` and the given workers registered at time 0.
private func cluster(_ workers: [WorkerID] = [w1], functions: [String] = ["inc"]) -> SchedulerHarness {
    var h = SchedulerHarness()
    for worker in workers { h.registerWorker(worker, functions: functions) }
    h.registerClient(c1)
    return h
}

private func compute(_ worker: WorkerID, _ assignment: TaskAssignment) -> SchedulerAction {
    .toWorker(.worker(worker), .computeTask(assignment))
}

/// The actions with each assignment's priority reduced to the user's, for tests about other decisions
/// (the scheduler's full priority is tested on its own).
private func plain(_ actions: [SchedulerAction]) -> [SchedulerAction] {
    actions.map { action in
        guard case .toWorker(let routing, .computeTask(var assignment)) = action else { return action }
        assignment.priority = TaskPriority(user: assignment.priority.user)
        return .toWorker(routing, .computeTask(assignment))
    }
}

private func free(_ worker: WorkerID, _ keys: [TaskKey]) -> SchedulerAction {
    .toWorker(.worker(worker), .freeKeys(keys))
}

private func finished(_ client: ClientID, _ key: TaskKey, nbytes: UInt64 = 8, on holders: [WorkerID]) -> SchedulerAction {
    .toClient(client, .taskFinished(key: key, nbytes: nbytes, holders: holders.map { PeerAddress.dummy($0) }))
}

@Suite("SchedulerState")
struct SchedulerStateTests {
    // MARK: - Registration

    @Test func registerIsAccepted() {
        var h = SchedulerHarness()
        #expect(h.registerWorker(w1) == [.toWorker(.worker(w1), .registered)])
        #expect(h.state.workers[w1]?.address == .dummy(w1))
        #expect(h.registerClient(c1) == [.toClient(c1, .registered)])
    }

    @Test func registerWithAnotherVersionIsRefusedWith503() {
        var h = SchedulerHarness()
        let actions = h.fromWorker(w1, .register(.dummy(name: w1, version: 2)))
        #expect(actions.map(\.ignoringErrorText) == [.toWorker(.worker(w1), .error(.code(.versionMismatch)))])
        #expect(h.state.workers.isEmpty)
        let client = h.fromClient(c1, .register(version: 2))
        #expect(client.map(\.ignoringErrorText) == [.toClient(c1, .error(.code(.versionMismatch)))])
        #expect(h.state.clients.isEmpty)
    }

    @Test func nameUsedByAnotherRoutingIDIsRefusedWith504() {
        var h = cluster([w1])
        h.submit([.dummy("a")])
        let impostor = RoutingID("worker:other-connection")
        let actions = h.handle(.fromWorker(impostor, .register(.dummy(name: w1)), principal: .localWorker, now: h.now))
        #expect(actions.map(\.ignoringErrorText) == [.toWorker(impostor, .error(.code(.nameTaken)))])
        #expect(h.state.workers[w1]?.routing == .worker(w1))
        #expect(h.worker(of: "a") == w1)
    }

    @Test func messageBeforeRegisterGets310UnknownWorker() {
        var h = SchedulerHarness()
        let actions = h.fromWorker(w1, .heartbeat)
        #expect(actions.map(\.ignoringErrorText) == [.toWorker(.worker(w1), .error(.code(.unknownWorker)))])
        let late = h.fromWorker(w1, .taskFinished(key: "a", runID: RunID(1), nbytes: 1, duration: .milliseconds(1)))
        #expect(late.map(\.ignoringErrorText) == [.toWorker(.worker(w1), .error(.code(.unknownWorker)))])
    }

    @Test func clientOperationBeforeRegisterClientGets311() {
        var h = cluster([w1])
        let actions = h.fromClient(c2, .submit([.dummy("a")]))
        #expect(actions.map(\.ignoringErrorText) == [.toClient(c2, .error(.code(.unknownClient)))])
        #expect(h.state.tasks.isEmpty)
    }

    /// docs/PROTOCOL.md §5.3: "Any op other than `register-client` before `registered` gets `error` 502.
    /// So does a second `register-client`."
    @Test func secondRegisterClientGets502() {
        var h = cluster([w1])
        let actions = h.registerClient(c1)
        #expect(actions.map(\.ignoringErrorText) == [.toClient(c1, .error(.code(.unexpected)))])
    }

    /// docs/PROTOCOL.md §5.1: "A second `register` from a registered routing id gets `error` 502."
    @Test func secondRegisterFromARegisteredWorkerGets502() {
        var h = cluster([w1])
        h.submit([.dummy("a")])
        let actions = h.registerWorker(w1)
        #expect(actions.map(\.ignoringErrorText) == [.toWorker(.worker(w1), .error(.code(.unexpected)))])
        #expect(h.worker(of: "a") == w1)
        #expect(h.runID(of: "a") == RunID(1))
    }

    @Test func rejectedMessagesAreAnsweredAndCounted() {
        var h = cluster([w1])
        let violation = ProtocolViolation(.unknownOp, "unknown op 'frobnicate'")
        #expect(h.handle(.rejectedFromWorker(.worker(w1), violation, now: h.now)) == [.toWorker(.worker(w1), .error(violation))])
        #expect(h.handle(.rejectedFromClient(c1, violation, now: h.now)) == [.toClient(c1, .error(violation))])
        #expect(h.state.counters.messagesRejected == 2)
    }

    @Test func aNewWorkersClaimsToHoldResultsAreRefusedAndFreed() {
        var h = cluster([w1])
        h.submit([.dummy("x")])
        h.finish("x")
        let actions = h.registerWorker(w2, held: [KeySize(key: "x", nbytes: 8), KeySize(key: "ghost", nbytes: 4)])
        #expect(actions == [.toWorker(.worker(w2), .registered), free(w2, ["x", "ghost"])])
        #expect(h.state.tasks["x"]?.holders == [w1], "w2 was never given x: clients keep fetching it from w1")
        #expect(h.state.workers[w2]?.bytesHeld == 0)
    }

    // MARK: - Submitting and placing

    @Test func submitSendsComputeTaskToAWorker() {
        var h = cluster([w1])
        #expect(h.submit([.dummy("a")]) == [compute(w1, .dummy("a", run: 1))])
        #expect(h.state.tasks["a"]?.status == .processing)
        #expect(h.state.story("a").map(\.to) == [.waiting, .processing])
    }

    @Test func independentTasksSpreadOverTwoWorkers() {
        var h = cluster([w1, w2])
        let actions = h.submit([.dummy("a"), .dummy("b"), .dummy("c"), .dummy("d")])
        #expect(
            plain(actions) == [
                compute(w1, .dummy("a", run: 1)), compute(w2, .dummy("b", run: 2)),
                compute(w1, .dummy("c", run: 3)), compute(w2, .dummy("d", run: 4)),
            ])
    }

    @Test func placementPrefersTheWorkerHoldingALargeDependency() {
        var h = cluster([w1, w2])
        h.submit([.dummy("small"), .dummy("big")])  // small → w1, big → w2
        h.finish("small", nbytes: 8)
        h.finish("big", nbytes: 100_000_000)
        h.submit([.dummy("p"), .dummy("q"), .dummy("r")])  // p → w1, q → w2, r → w1
        #expect(h.state.workers[w1]?.processing.count == 2)
        // The holder w2 has 1 ms queued; w1 has 2 ms queued but would first move 100 MB (0.2 s at 500 MB/s).
        #expect(
            plain(h.submit([.dummy("useBig", deps: ["big"])])) == [
                compute(w2, .dummy("useBig", run: 6, deps: [.dummy("big", nbytes: 100_000_000, holders: [.dummy(w2)])]))
            ])
        // A small input does not outweigh a queue: w1 holds `small` but has 2 ms queued, w2 has 1 ms queued
        // once q finishes, plus 16 ns to move 8 bytes.
        h.finish("q")
        #expect(
            plain(h.submit([.dummy("useSmall", deps: ["small"])])) == [
                compute(w2, .dummy("useSmall", run: 7, deps: [.dummy("small", nbytes: 8, holders: [.dummy(w1)])]))
            ])
    }

    @Test func chainComputeTaskNamesTheHolderOfItsInput() {
        var h = cluster([w1, w2])
        #expect(h.submit([.dummy("a"), .dummy("b", deps: ["a"])]) == [compute(w1, .dummy("a", run: 1))])
        #expect(h.state.tasks["b"]?.waitingOn == ["a"])
        let actions = h.finish("a", nbytes: 16)
        #expect(
            plain(actions) == [
                finished(c1, "a", nbytes: 16, on: [w1]),
                compute(w1, .dummy("b", run: 2, deps: [.dummy("a", nbytes: 16, holders: [.dummy(w1)])])),
            ])
    }

    @Test func taskFinishedIsSentToTheWantingClient() {
        var h = cluster([w1])
        h.registerClient(c2)
        h.submit([.dummy("a")])
        h.submit([.dummy("other")], from: c2)
        #expect(h.finish("a", nbytes: 42, duration: .milliseconds(5)) == [finished(c1, "a", nbytes: 42, on: [w1])])
        #expect(h.state.tasks["a"]?.status == .memory)
        #expect(h.state.tasks["a"]?.holders == [w1])
        #expect(h.state.averageDuration["inc"] == .milliseconds(5))
        #expect(h.state.counters.tasksCompleted == 1)
    }

    @Test func submittingAKeyAlreadyInMemoryAnswersAtOnce() {
        var h = cluster([w1])
        h.submit([.dummy("a")])
        h.finish("a")
        #expect(h.submit([.dummy("a")]) == [finished(c1, "a", on: [w1])])
    }

    // MARK: - Failures

    @Test func taskErredErrsDependentsWithCauseKeyAndTellsTheClient() {
        var h = cluster([w1])
        h.submit([.dummy("a"), .dummy("b", deps: ["a"])])
        let error = RemoteError.dummy(key: "a", worker: w1)
        let actions = h.fail("a", error: error)
        let caused = RemoteError(
            typeName: "ValueError", message: "boom", key: "b", function: "inc", worker: w1, causeKey: "a")
        #expect(
            actions == [
                .toClient(c1, .taskErred(key: "a", error: error)),
                .toClient(c1, .taskErred(key: "b", error: caused)),
                free(w1, ["a"]),
            ], "the worker is told to drop its failed run once the scheduler holds the error")
        #expect(h.state.tasks["a"]?.status == .erred)
        #expect(h.state.tasks["b"]?.status == .erred)
        #expect(h.state.counters.tasksErred == 2)
        #expect(h.state.workers[w1]?.processing.isEmpty == true)
        // A task submitted later on top of the failed one fails at once with the same cause.
        #expect(
            h.submit([.dummy("c", deps: ["a"])]) == [
                .toClient(
                    c1,
                    .taskErred(
                        key: "c",
                        error: RemoteError(
                            typeName: "ValueError", message: "boom", key: "c", function: "inc", worker: w1,
                            causeKey: "a")))
            ])
    }

    @Test func unknownFunctionErrsTheTask() {
        var h = cluster([w1])
        let actions = h.submit([.dummy("a", function: "nope")])
        #expect(actions.count == 1)
        guard case .toClient(c1, .taskErred(key: "a", let error)) = actions.first else {
            Issue.record("expected task-erred, got \(actions)")
            return
        }
        #expect(error.typeName == "UnknownFunction")
        #expect(error.key == "a")
        #expect(error.function == "nope")
        #expect(error.worker == nil)
        #expect(error.message.contains("inc"))
        #expect(h.state.tasks["a"]?.status == .erred)
    }

    @Test func missingDependencyErrsTheTask() {
        var h = cluster([w1])
        let actions = h.submit([.dummy("b", deps: ["never"])])
        guard case .toClient(c1, .taskErred(key: "b", let error)) = actions.first, actions.count == 1 else {
            Issue.record("expected task-erred, got \(actions)")
            return
        }
        #expect(error.typeName == "MissingDependency")
    }

    // MARK: - No workers

    @Test func noWorkerThenAWorkerRegisters() {
        var h = SchedulerHarness()
        h.registerClient(c1)
        #expect(h.submit([.dummy("a")]) == [])
        #expect(h.state.tasks["a"]?.status == .noWorker)
        #expect(Array(h.state.noWorker) == ["a"])
        #expect(h.registerWorker(w1) == [.toWorker(.worker(w1), .registered), compute(w1, .dummy("a", run: 1))])
        #expect(h.state.noWorker.isEmpty)
    }

    /// `SchedulerState.noWorker` is documented as "in priority order".
    @Test func noWorkerTasksAreAssignedInPriorityOrder() {
        var h = SchedulerHarness()
        h.registerClient(c1)
        h.submit([.dummy("low"), .dummy("high", priority: 10)])
        #expect(Set(h.state.noWorker) == ["high", "low"])
        #expect(
            plain(h.registerWorker(w1)) == [
                .toWorker(.worker(w1), .registered),
                compute(w1, .dummy("high", run: 1, priority: 10)),
                compute(w1, .dummy("low", run: 2)),
            ])
    }

    @Test func lastWorkerLeavingParksItsTasks() {
        var h = cluster([w1])
        h.submit([.dummy("a")])
        #expect(h.fromWorker(w1, .unregister) == [])
        #expect(h.state.tasks["a"]?.status == .noWorker)
        #expect(h.registerWorker(w2) == [.toWorker(.worker(w2), .registered), compute(w2, .dummy("a", run: 2))])
    }

    // MARK: - Release

    @Test func releasingAFinishedResultFreesItOnItsHolder() {
        var h = cluster([w1])
        h.submit([.dummy("a")])
        h.finish("a")
        #expect(h.fromClient(c1, .release(["a"])) == [free(w1, ["a"])])
        #expect(h.state.tasks.isEmpty)
        #expect(h.state.workers[w1]?.held.isEmpty == true)
        #expect(h.state.workers[w1]?.bytesHeld == 0)
        #expect(h.fromClient(c1, .release(["a"])) == [])
    }

    @Test func releasedInputIsKeptUntilItsDependentFinishes() {
        var h = cluster([w1])
        h.submit([.dummy("a"), .dummy("b", deps: ["a"])])
        h.finish("a")
        #expect(h.state.tasks["b"]?.status == .processing)
        #expect(h.fromClient(c1, .release(["a"])) == [])
        #expect(h.state.tasks["a"]?.status == .memory)
        #expect(h.finish("b") == [finished(c1, "b", on: [w1]), free(w1, ["a"])])
        #expect(h.state.tasks["a"]?.status == .released, "its data is freed; its definition stays as lineage of b")
        #expect(h.state.tasks["a"]?.holders == [])
        #expect(h.fromClient(c1, .release(["b"])) == [free(w1, ["b"])])
        #expect(h.state.tasks.isEmpty, "forgetting b forgets its lineage too")
    }

    @Test func releasedInputIsKeptWhileItsDependentWaits() {
        var h = cluster([w1])
        h.submit([.dummy("a"), .dummy("z"), .dummy("b", deps: ["a", "z"])])
        h.finish("a")
        #expect(h.fromClient(c1, .release(["a"])) == [])
        #expect(h.state.tasks["b"]?.status == .waiting)
        let actions = h.finish("z")
        #expect(
            plain(actions) == [
                finished(c1, "z", on: [w1]),
                compute(
                    w1,
                    .dummy("b", run: 3, deps: [.dummy("a", holders: [.dummy(w1)]), .dummy("z", holders: [.dummy(w1)])])),
            ])
        #expect(h.finish("b") == [finished(c1, "b", on: [w1]), free(w1, ["a"])])
    }

    @Test func duplicateKeyFromTwoClientsIsOneTaskReleasedWhenBothRelease() {
        var h = cluster([w1])
        h.registerClient(c2)
        #expect(h.submit([.dummy("a")], from: c1) == [compute(w1, .dummy("a", run: 1))])
        #expect(h.submit([.dummy("a")], from: c2) == [])
        #expect(h.state.tasks.count == 1)
        #expect(h.finish("a") == [finished(c1, "a", on: [w1]), finished(c2, "a", on: [w1])])
        #expect(h.fromClient(c1, .release(["a"])) == [])
        #expect(h.state.tasks["a"]?.wantedBy == [c2])
        #expect(h.fromClient(c2, .release(["a"])) == [free(w1, ["a"])])
    }

    @Test func clientUnregisterReleasesItsKeys() {
        var h = cluster([w1])
        h.submit([.dummy("a"), .dummy("b")])
        h.finish("a")
        #expect(h.fromClient(c1, .unregister) == [free(w1, ["a", "b"])], "one free-keys for both")
        #expect(h.state.tasks.isEmpty)
        #expect(h.state.clients.isEmpty)
    }

    // MARK: - Cancel and stale runs

    @Test func cancelProcessingTaskThenLateFinishIsStale() {
        var h = cluster([w1])
        h.submit([.dummy("a")])
        #expect(h.fromClient(c1, .cancel(["a"])) == [.toClient(c1, .taskCancelled(key: "a")), free(w1, ["a"])])
        #expect(h.state.tasks.isEmpty)
        #expect(h.state.workers[w1]?.processing.isEmpty == true)
        let late = h.fromWorker(w1, .taskFinished(key: "a", runID: RunID(1), nbytes: 8, duration: .milliseconds(1)))
        #expect(late == [free(w1, ["a"])])
        #expect(h.state.tasks.isEmpty)
        #expect(h.state.counters.tasksCompleted == 0)
    }

    /// The key was cancelled and submitted again, and its new run went to the same worker: the old run's late
    /// report changes nothing and gets no `free-keys`, which would make that worker drop the new run (§5.8 rule 7).
    @Test func finishUnderAnOldRunDoesNotChangeTheTaskNorFreeTheNewRun() {
        var h = cluster([w1])
        h.submit([.dummy("a")])
        h.fromClient(c1, .cancel(["a"]))
        h.submit([.dummy("a")])
        #expect(h.runID(of: "a") == RunID(2))
        #expect(h.worker(of: "a") == w1)
        let late = h.fromWorker(w1, .taskFinished(key: "a", runID: RunID(1), nbytes: 8, duration: .milliseconds(1)))
        #expect(late == [])
        #expect(h.state.tasks["a"]?.status == .processing)
        #expect(h.finish("a") == [finished(c1, "a", on: [w1])])
        // Once the new run holds the result there, a late report of the old one still leaves it alone.
        #expect(h.fromWorker(w1, .taskErred(key: "a", runID: RunID(1), error: .dummy(key: "a"))) == [])
        #expect(h.state.tasks["a"]?.holders == [w1])
    }

    /// The old run's worker is not where the key's new run is: it is told to drop its stale copy.
    @Test func finishUnderAnOldRunElsewhereFreesTheStaleCopy() {
        var h = cluster([w1, w2])
        h.submit([.dummy("a")])
        let first = h.worker(of: "a")!
        h.fromClient(c1, .cancel(["a"]))
        h.submit([.dummy("b")])  // the worker that ran a is busy now
        h.submit([.dummy("a")])
        let second = h.worker(of: "a")!
        #expect(second != first)
        let late = h.fromWorker(first, .taskFinished(key: "a", runID: RunID(1), nbytes: 8, duration: .milliseconds(1)))
        #expect(late == [free(first, ["a"])])
    }

    /// docs/PROTOCOL.md §5.1 (`task-erred`) and §5.8 rule 7: a stale `task-erred` is answered with `free-keys`.
    @Test func lateErredUnderACancelledRunIsStale() {
        var h = cluster([w1])
        h.submit([.dummy("a")])
        h.fromClient(c1, .cancel(["a"]))
        let late = h.fromWorker(w1, .taskErred(key: "a", runID: RunID(1), error: .dummy(key: "a")))
        #expect(late == [free(w1, ["a"])])
        #expect(h.state.tasks.isEmpty)
        #expect(h.state.counters.tasksErred == 0)
    }

    @Test func cancelCascadesToDependents() {
        var h = cluster([w1])
        h.registerClient(c2)
        h.submit([.dummy("a"), .dummy("b", deps: ["a"])])
        h.submit([.dummy("c", deps: ["b"])], from: c2)
        let actions = h.fromClient(c1, .cancel(["a"]))
        #expect(
            actions == [
                .toClient(c1, .taskCancelled(key: "a")),
                .toClient(c1, .taskCancelled(key: "b")),
                .toClient(c2, .taskCancelled(key: "c")),
                free(w1, ["a"]),
            ])
        #expect(h.state.tasks.isEmpty)
        #expect(h.state.clients[c2] != nil && h.state.tasks.values.allSatisfy { !$0.wantedBy.contains(c2) })
    }

    @Test func cancellingADependentReleasesItsUnwantedInput() {
        var h = cluster([w1])
        h.submit([.dummy("a")])
        h.finish("a")
        h.submit([.dummy("b", deps: ["a"])])
        h.fromClient(c1, .release(["a"]))
        #expect(h.fromClient(c1, .cancel(["b"])) == [.toClient(c1, .taskCancelled(key: "b")), free(w1, ["b", "a"])])
        #expect(h.state.tasks.isEmpty)
    }

    /// Runs of `free-keys` to one worker are joined, but never across another operation to that worker:
    /// a key freed before it is assigned again must stay freed first.
    @Test func freeKeysAreJoinedOnlyWithinARunToOneWorker() {
        let h = cluster([w1])
        let compute = SchedulerAction.toWorker(.worker(w1), .computeTask(.dummy("x")))
        let other = SchedulerAction.toClient(c1, .taskCancelled(key: "z"))
        let actions = [free(w1, ["a"]), other, free(w1, ["b"]), compute, free(w1, ["c"]), free(w1, ["d"])]
        #expect(
            h.state.coalescingFreeKeys(actions) == [free(w1, ["a", "b"]), other, compute, free(w1, ["c", "d"])])
    }

    // MARK: - Who has, scatter, info

    @Test func whoHasAnswersHoldersAndEmptyForTheRest() {
        var h = cluster([w1, w2])
        h.submit([.dummy("a"), .dummy("b")])
        h.finish("a")
        let actions = h.fromClient(c1, .whoHas(["a", "b", "unknown"]))
        #expect(actions == [.toClient(c1, .whoHas(["a": [.dummy(w1)], "b": [], "unknown": []]))])
    }

    @Test func scatteredKeysAreInMemoryAtTheWorker() {
        var h = cluster([w1, w2])
        let actions = h.fromClient(c1, .scattered(worker: w2, keys: [KeySize(key: "s", nbytes: 64)]))
        #expect(actions == [finished(c1, "s", nbytes: 64, on: [w2])])
        #expect(h.state.tasks["s"]?.status == .memory)
        #expect(h.state.workers[w2]?.bytesHeld == 64)
        #expect(
            h.submit([.dummy("t", deps: ["s"])]) == [
                compute(w2, .dummy("t", run: 1, deps: [.dummy("s", nbytes: 64, holders: [.dummy(w2)])]))
            ])
        #expect(h.fromClient(c1, .whoHas(["s"])) == [.toClient(c1, .whoHas(["s": [.dummy(w2)]]))])
    }

    @Test func scatteredToAnUnknownWorkerErrs() {
        var h = cluster([w1])
        let actions = h.fromClient(c1, .scattered(worker: "ghost", keys: [KeySize(key: "s", nbytes: 64)]))
        guard case .toClient(c1, .taskErred(key: "s", let error)) = actions.first, actions.count == 1 else {
            Issue.record("expected task-erred, got \(actions)")
            return
        }
        #expect(error.typeName == "UnknownWorker")
        #expect(h.state.tasks.isEmpty)
    }

    @Test func infoCountsTasksWorkersAndClients() {
        var h = cluster([w1, w2])
        h.registerClient(c2)
        h.submit([.dummy("a"), .dummy("b"), .dummy("c", deps: ["a"])])
        h.submit([.dummy("e", function: "nope")])
        h.now = .ms(10)
        h.finish("a", nbytes: 100)
        h.now = .ms(50)
        let actions = h.fromClient(c1, .info(keys: ["a", "b"]))
        var counters = SchedulerCounters()
        counters.tasksCompleted = 1
        counters.tasksErred = 1
        let expected = SchedulerInfo(
            workers: [
                WorkerInfo(
                    name: "w1", address: "tcp://w1:9000", nthreads: 1, processing: 1, keysHeld: 1, bytesHeld: 100,
                    functions: ["inc"], lastSeenMilliseconds: 40, tasksCompleted: 1),
                WorkerInfo(
                    name: "w2", address: "tcp://w2:9000", nthreads: 1, processing: 1, keysHeld: 0, bytesHeld: 0,
                    functions: ["inc"], lastSeenMilliseconds: 50),
            ],
            taskCounts: ["released": 0, "waiting": 0, "queued": 0, "no-worker": 0, "processing": 2, "memory": 1, "erred": 1],
            clients: 2, counters: counters, whoHas: ["a": ["w1"], "b": []])
        #expect(actions == [.toClient(c1, .info(expected))])
        #expect(h.state.info(whoHasKeys: ["a", "b"]) == expected)
    }

    // MARK: - Worker failure

    @Test func silentWorkerExpiresAfterThreeIntervals() {
        var h = cluster([w1, w2])
        h.submit([.dummy("x")])  // w1
        h.finish("x")
        h.submit([.dummy("a")])  // w1 (both idle, w1 sorts first)
        #expect(h.worker(of: "a") == w1)
        h.now = .ms(250)
        h.fromWorker(w2, .heartbeat)
        h.now = .ms(300)
        #expect(h.tick() == [])
        #expect(h.state.workers[w1] != nil)
        h.now = .ms(301)
        let actions = h.tick()
        // a was processing on w1: rescheduled under a new run. x was held only by w1 and c1 still wants it.
        #expect(actions.count == 2)
        #expect(plain(actions).contains(compute(w2, .dummy("a", run: 3))) || plain(actions).contains(compute(w2, .dummy("a", run: 4))))
        #expect(plain(actions).contains(compute(w2, .dummy("x", run: 3))) || plain(actions).contains(compute(w2, .dummy("x", run: 4))))
        #expect(h.state.workers[w1] == nil)
        #expect(h.state.tasks["x"]?.status == .processing)
        #expect(h.worker(of: "a") == w2)
        // The expired worker is told to register again.
        let late = h.fromWorker(w1, .heartbeat)
        #expect(late.map(\.ignoringErrorText) == [.toWorker(.worker(w1), .error(.code(.unknownWorker)))])
        #expect(h.finish("x") == [finished(c1, "x", on: [w2])])
    }

    @Test func resultLostWithItsWorkerIsRecomputedFromReleasedInputs() {
        var h = cluster([w1, w2])
        h.submit([.dummy("x"), .dummy("a", deps: ["x"])])
        h.finish("x")  // a → w1, which holds x
        h.fromClient(c1, .release(["x"]))
        #expect(h.finish("a") == [finished(c1, "a", on: [w1]), free(w1, ["x"])])
        #expect(h.state.tasks["x"]?.status == .released)
        h.now = .ms(400)
        h.fromWorker(w2, .heartbeat)
        let actions = h.tick()
        #expect(actions.map(\.ignoringErrorText) == [.toWorker(.worker(w2), .computeTask(.dummy("x", run: 3)))])
        #expect(h.state.tasks["a"]?.status == .waiting)
        #expect(h.state.tasks["a"]?.waitingOn == ["x"])
        let recomputed = h.finish("x")
        #expect(recomputed.count == 1, "x is wanted by nobody: only a's compute-task follows, got \(recomputed)")
        #expect(h.worker(of: "a") == w2)
        #expect(h.finish("a") == [finished(c1, "a", on: [w2]), free(w2, ["x"])])
        #expect(h.state.tasks["x"]?.status == .released)
    }

    /// A dependent running on the expired worker must not be sent off again before its lost input is recomputed:
    /// its `compute-task` would name no holder for the input, and the new worker could never fetch it.
    @Test func dependentOfAResultLostWithItsWorkerWaitsForTheRecompute() {
        var h = cluster([w1, w2])
        h.submit([.dummy("x"), .dummy("y", deps: ["x"])])
        h.finish("x")  // y goes to w1, which holds x
        #expect(h.worker(of: "y") == w1)
        h.now = .ms(250)
        h.fromWorker(w2, .heartbeat)
        h.now = .ms(301)
        #expect(h.tick() == [compute(w2, .dummy("x", run: 3))])
        #expect(h.state.tasks["y"]?.status == .waiting)
        #expect(
            plain(h.finish("x")) == [
                finished(c1, "x", on: [w2]),
                compute(w2, .dummy("y", run: 4, deps: [.dummy("x", holders: [.dummy(w2)])])),
            ])
    }

    @Test func unregisterReschedulesProcessingTasks() {
        var h = cluster([w1, w2])
        h.submit([.dummy("a")])  // w1
        #expect(h.fromWorker(w1, .unregister) == [compute(w2, .dummy("a", run: 2))])
        #expect(h.state.workers.keys.sorted() == [w2])
    }

    @Test func missingDataRemovesTheHolderAndReassignsTheStrandedDependent() {
        var h = SchedulerHarness()
        h.registerWorker(w1, functions: ["inc", "load"])
        h.registerWorker(w2)
        h.registerClient(c1)
        h.submit([.dummy("z")])  // w1
        h.submit([.dummy("x", function: "load"), .dummy("y", deps: ["x"])])  // x: only w1 offers load
        // y goes to the idle w2, which must fetch x from w1.
        #expect(
            plain(h.finish("x", nbytes: 1000)) == [
                finished(c1, "x", nbytes: 1000, on: [w1]),
                compute(w2, .dummy("y", run: 3, deps: [.dummy("x", nbytes: 1000, holders: [.dummy(w1)])])),
            ])
        h.registerWorker(w3)
        #expect(h.fromWorker(w3, .missingData(key: "x", holder: .dummy(w1))).isEmpty, "w3 never needed x: ignored")
        #expect(h.state.tasks["x"]?.holders == [w1])
        let actions = h.fromWorker(w2, .missingData(key: "x", holder: .dummy(w1)))
        #expect(
            plain(actions) == [
                free(w1, ["x"]),
                compute(w1, .dummy("x", run: 4, function: "load")),
                free(w2, ["y"]),
            ], "w1 may still be alive: it is told to drop the copy nobody counts on; x is computed again")
        #expect(h.state.tasks["x"]?.holders == [])
        #expect(h.state.tasks["y"]?.status == .waiting)
        #expect(h.state.workers[w1]?.held.contains("x") == false)
        #expect(h.state.workers[w1]?.bytesHeld == 0)
    }

    @Test func missingDataFromTheOnlyHolderRecomputesTheInput() {
        var h = SchedulerHarness()
        h.registerWorker(w1, functions: ["inc", "load"])
        h.registerWorker(w2)
        h.registerClient(c1)
        h.submit([.dummy("z")])  // w1
        h.submit([.dummy("x", function: "load"), .dummy("y", deps: ["x"])])
        h.finish("x", nbytes: 1000)  // y → w2 (run 3)
        let actions = h.fromWorker(w2, .missingData(key: "x", holder: .dummy(w1)))
        #expect(plain(actions) == [free(w1, ["x"]), compute(w1, .dummy("x", run: 4, function: "load")), free(w2, ["y"])])
        #expect(h.state.tasks["y"]?.status == .waiting)
        #expect(h.state.tasks["y"]?.waitingOn == ["x"])
        #expect(
            plain(h.finish("x", nbytes: 1000)) == [
                finished(c1, "x", nbytes: 1000, on: [w1]),
                compute(w2, .dummy("y", run: 5, deps: [.dummy("x", nbytes: 1000, holders: [.dummy(w1)])])),
            ])
    }

    /// A worker whose own copy of an input is lost (its spilled file unreadable) reports itself as the holder:
    /// the input is recomputed, and the dependent it was about to run is taken back and sent again after.
    @Test func missingDataNamingTheReporterItselfRecomputesAndTakesTheDependentBack() {
        var h = SchedulerHarness()
        h.registerWorker(w1)
        h.registerClient(c1)
        h.submit([.dummy("x"), .dummy("y", deps: ["x"])])
        h.finish("x", nbytes: 1000)  // y → w1 (run 2), x held by w1
        #expect(h.worker(of: "y") == w1)
        let actions = h.fromWorker(w1, .missingData(key: "x", holder: .dummy(w1)))
        #expect(plain(actions) == [free(w1, ["x"]), compute(w1, .dummy("x", run: 3)), free(w1, ["y"])])
        #expect(h.state.tasks["y"]?.status == .waiting)
        #expect(h.state.workers[w1]?.held.contains("x") == false)
        #expect(
            plain(h.finish("x", nbytes: 1000)) == [
                finished(c1, "x", nbytes: 1000, on: [w1]),
                compute(w1, .dummy("y", run: 4, deps: [.dummy("x", nbytes: 1000, holders: [.dummy(w1)])])),
            ])
    }

    @Test func storyRecordsTransitionsWithTheirStimulus() {
        var h = cluster([w1])
        h.submit([.dummy("a")])
        h.finish("a")
        h.fromClient(c1, .release(["a"]))
        let story = h.state.story("a")
        #expect(story.map(\.from) == [nil, .waiting, .processing, .memory])
        #expect(story.map(\.to) == [.waiting, .processing, .memory, nil])
        #expect(story.map { $0.stimulus.description.hasPrefix("submit-") } == [true, true, false, false])
        #expect(story[2].stimulus.description.hasPrefix("task-finished-"))
        #expect(story[3].stimulus.description.hasPrefix("release-"))
    }
}

@Suite("SchedulerState retries and restrictions")
struct SchedulerRetryTests {
    @Test func aFailedRunIsRetriedThenErrs() {
        var h = SchedulerHarness()
        h.registerWorker(w1)
        h.registerClient(c1)
        var spec = TaskSpec.dummy("a")
        spec.retries = 1
        h.submit([spec])
        let firstRun = h.runID(of: "a")
        let retried = h.fail("a", error: .dummy(key: "a"))
        #expect(retried.count == 2, "free-keys for the failed run, then a new compute-task: \(retried)")
        #expect(h.state.tasks["a"]?.status == .processing)
        #expect(h.runID(of: "a") != firstRun)
        #expect(h.state.tasks["a"]?.spec.retries == 0)
        let final = h.fail("a", error: .dummy(key: "a"))
        guard case .toClient(c1, .taskErred(key: "a", _))? = final.first else {
            Issue.record("expected task-erred after the last retry, got \(final)")
            return
        }
    }

    @Test func aRestrictionNoWorkerSatisfiesParksTheTaskUntilOneArrives() {
        var h = SchedulerHarness()
        h.registerWorker(w1)
        h.registerClient(c1)
        var spec = TaskSpec.dummy("a")
        spec.workers = [w2]
        #expect(h.submit([spec]).isEmpty)
        #expect(h.state.tasks["a"]?.status == .noWorker)
        let actions = h.registerWorker(w2)
        #expect(actions.contains { if case .toWorker(.worker(w2), .computeTask) = $0 { return true } else { return false } })
        #expect(h.worker(of: "a") == w2)
    }
}

@Suite("SchedulerState parked tasks and lost inputs")
struct SchedulerParkedTests {
    @Test func aParkedTaskWhoseInputWasLostWaitsForTheRecompute() {
        var h = SchedulerHarness()
        h.registerWorker(w1)
        h.registerClient(c1)
        var restricted = TaskSpec.dummy("b", deps: ["a"])
        restricted.workers = [w2]
        h.submit([.dummy("a"), restricted])
        h.finish("a")
        #expect(h.state.tasks["b"]?.status == .noWorker, "only w2 may run b")
        h.fromClient(c1, .release(["a"]))
        #expect(h.state.tasks["a"]?.status == .memory, "b still needs a")
        h.now = .ms(400)
        h.tick()  // w1 expires with a: a must be recomputed, and with no worker left it is parked too
        #expect(h.state.tasks["a"]?.status == .noWorker)
        let actions = h.registerWorker(w2)
        #expect(h.state.tasks["b"]?.status == .waiting, "b must not start before a is back")
        #expect(h.state.tasks["b"]?.waitingOn == ["a"])
        #expect(h.worker(of: "a") == w2, "a is recomputed on w2, got \(actions)")
        h.finish("a")
        #expect(h.worker(of: "b") == w2)
    }
}

@Suite("SchedulerState result push")
struct SchedulerPushTests {
    @Test func tasksSubmittedForPushNameTheirClientsInComputeTask() {
        var h = SchedulerHarness()
        h.registerWorker(w1)
        h.registerClient(c1)
        var eager = TaskSpec.dummy("a")
        eager.pushResult = true
        #expect(h.submit([eager]) == [.toWorker(.worker(w1), .computeTask(.dummy("a", run: 1, notify: [c1])))])
        #expect(plain(h.submit([.dummy("b")])) == [.toWorker(.worker(w1), .computeTask(.dummy("b", run: 2)))], "bulk tasks are fetched")
    }
}
