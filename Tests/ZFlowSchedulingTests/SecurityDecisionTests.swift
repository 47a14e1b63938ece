import Testing
import ZFlowCore
import ZFlowScheduling
import ZFlowTestKit

// Roles, ownership and validated numbers in the scheduler: every decision about who may do what, as the keys of
// the connections say (`Principal`), without sockets.

private let alice = Principal(.client, "alice")
private let bob = Principal(.client, "bob")
private let ops = Principal(.admin, "ops")
private let workerKey = Principal(.worker, "worker")

/// The peer address of worker `name` under security: its endpoint and its peer socket's key.
private func keyed(_ name: WorkerID) -> PeerAddress { PeerAddress("tcp://\(name.rawValue):9000|" + String(repeating: "a", count: 40)) }

/// A registration under security (a keyed address), with test defaults.
private func registration(_ name: WorkerID, held: [KeySize] = []) -> WorkerRegistration {
    .dummy(name: name, address: keyed(name), held: held)
}

/// Workers w0…w(count-1) registered with the worker key, and clients a (alice), b (bob) and o (ops).
private func secured(_ count: Int = 2, config: SchedulerConfig = SchedulerConfig()) -> SchedulerHarness {
    var h = SchedulerHarness(config: config)
    for index in 0..<count { h.fromWorker(WorkerID("w\(index)"), .register(registration(WorkerID("w\(index)"))), as: workerKey) }
    h.registerClient("a", as: alice)
    h.registerClient("b", as: bob)
    h.registerClient("o", as: ops)
    return h
}

private func refused(client: ClientID, _ code: ErrorCode) -> SchedulerAction { .toClient(client, .error(.code(code))) }
private func refused(worker: WorkerID, _ code: ErrorCode) -> SchedulerAction { .toWorker(.worker(worker), .error(.code(code))) }

@Suite("Security decisions: roles and ownership")
struct RoleDecisionTests {
    @Test func aClientKeyCannotActAsAWorker() {
        var h = secured()
        let actions = h.fromWorker("fake", .register(.dummy(name: "fake")), as: alice)
        #expect(actions.map(\.ignoringErrorText) == [refused(worker: "fake", .forbidden)])
        #expect(h.state.workers["fake"] == nil)
    }

    @Test func aWorkerKeyCannotActAsAClient() {
        var h = secured()
        let actions = h.fromClient("sneaky", .register(version: ProtocolVersion.current), as: workerKey)
        #expect(actions.map(\.ignoringErrorText) == [refused(client: "sneaky", .forbidden)])
        #expect(h.state.clients["sneaky"] == nil)
    }

    @Test func aClientIDStaysBoundToTheKeyItRegisteredWith() {
        var h = secured()
        h.submit([.dummy("x")], from: "a")
        let actions = h.fromClient("a", .cancel(["x"]), as: bob)
        #expect(actions.map(\.ignoringErrorText) == [refused(client: "a", .forbidden)])
        #expect(h.state.tasks["x"]?.status == .processing)
    }

    @Test func aClientCancelsOnlyKeysItHoldsAFutureFor() {
        var h = secured()
        h.submit([.dummy("mine"), .dummy("shared")], from: "a")
        h.submit([.dummy("shared")], from: "b")
        let actions = h.fromClient("b", .cancel(["mine", "shared"]))
        #expect(
            actions.map(\.ignoringErrorText).contains(refused(client: "b", .forbidden)), "one of the keys belongs to alice alone")
        #expect(h.state.tasks["mine"] != nil, "alice's key is untouched")
        #expect(h.state.tasks["shared"] == nil, "bob holds a future for it: he may cancel it")
    }

    @Test func anAdminCancelsAnyKey() {
        var h = secured()
        h.submit([.dummy("x")], from: "a")
        let actions = h.fromClient("o", .cancel(["x"]))
        #expect(actions.contains(.toClient("a", .taskCancelled(key: "x"))))
        #expect(h.state.tasks["x"] == nil)
    }

    @Test func onlyAnAdminRetiresWorkers() {
        var h = secured()
        #expect(h.fromClient("a", .retireWorkers(["w0"])).map(\.ignoringErrorText) == [refused(client: "a", .forbidden)])
        #expect(h.state.retiring.isEmpty)
        h.fromClient("o", .retireWorkers(["w0"]))
        #expect(h.state.workers["w0"] == nil || h.state.retiring.contains("w0"))
    }

    @Test func adminFunctionsAreRefusedWholeToClients() {
        var h = secured()
        let actions = h.submit([.dummy("ls", function: "shell"), .dummy("after", deps: ["ls"])], from: "a")
        #expect(actions.count == 2)
        for action in actions {
            guard case .toClient("a", .taskErred(_, let error)) = action else {
                Issue.record("expected a refusal, got \(action)")
                continue
            }
            #expect(error.typeName == "NotAllowed" && error.message.contains("admin"))
        }
        #expect(h.state.tasks.isEmpty)
        h.submit([.dummy("ls", function: "shell")], from: "o")
        #expect(h.state.tasks["ls"] != nil, "an admin may")
    }

    @Test func withoutSecurityEveryClientIsAnAdmin() {
        var h = SchedulerHarness()
        h.registerWorker("w0")
        h.registerClient("c1")
        h.submit([.dummy("x")], from: "c1")
        h.registerClient("c2")
        h.fromClient("c2", .cancel(["x"]))
        #expect(h.state.tasks["x"] == nil)
    }
}

@Suite("Security decisions: what workers may claim")
struct WorkerClaimDecisionTests {
    @Test func aWorkerMayReclaimOnlyWhatItHeldUnderItsNameAndKey() {
        var h = secured()
        h.submit([.dummy("x")], from: "a")
        #expect(h.worker(of: "x") == "w0")
        h.finish("x", nbytes: 100)
        h.fromClient("o", .retireWorkers(["w0"]))
        h.fromWorker("w1", .addKeys([KeySize(key: "x", nbytes: 100)]), as: workerKey)
        #expect(h.state.workers["w0"] == nil, "w0 retired; x was copied to w1")
        let impostor = h.fromWorker("w0", .register(registration("w0", held: [KeySize(key: "x", nbytes: 100)])), as: Principal(.worker, "other"))
        #expect(impostor == [.toWorker(.worker("w0"), .registered), .toWorker(.worker("w0"), .freeKeys(["x"]))])
        #expect(h.state.tasks["x"]?.holders == ["w1"])
        h.fromWorker("w0", .unregister, as: Principal(.worker, "other"))
        // The impostor neither claimed nor cleared the record: the real w0, under its own key, reclaims x.
        let back = h.fromWorker("w0", .register(registration("w0", held: [KeySize(key: "x", nbytes: 100)])), as: workerKey)
        #expect(back == [.toWorker(.worker("w0"), .registered)])
        #expect(h.state.tasks["x"]?.holders.contains("w0") == true)
    }

    @Test func aWorkerThatLeftReclaimsItsResultsWhenItComesBack() {
        var h = secured(3)
        h.submit([.dummy("x")], from: "a")
        h.finish("x", nbytes: 100)
        h.fromClient("o", .retireWorkers(["w0"]))
        let copier = h.state.replicating["x"]!
        h.fromWorker(copier, .addKeys([KeySize(key: "x", nbytes: 100)]), as: workerKey)
        let back = h.fromWorker("w0", .register(registration("w0", held: [KeySize(key: "x", nbytes: 100)])), as: workerKey)
        #expect(back == [.toWorker(.worker("w0"), .registered)])
        #expect(h.state.tasks["x"]?.holders == [copier, "w0"])
        #expect(h.state.workers["w0"]?.bytesHeld == 100, "the size is the scheduler's, not the claim's")
    }

    @Test func unsolicitedAddKeysAreFreedNotRecorded() {
        var h = secured()
        h.submit([.dummy("x")], from: "a")
        h.finish("x", nbytes: 100)
        let holder = h.state.tasks["x"]!.holders[0]
        let other: WorkerID = holder == "w0" ? "w1" : "w0"
        let actions = h.fromWorker(other, .addKeys([KeySize(key: "x", nbytes: 100)]), as: workerKey)
        #expect(actions == [.toWorker(.worker(other), .freeKeys(["x"]))])
        #expect(h.state.tasks["x"]?.holders == [holder])
    }

    @Test func anOversizedResultFailsItsTask() {
        var h = secured()
        h.submit([.dummy("x")], from: "a")
        let run = h.runID(of: "x")!
        let worker = h.worker(of: "x")!
        let actions = h.fromWorker(worker, .taskFinished(key: "x", runID: run, nbytes: .max, duration: .milliseconds(1)), as: workerKey)
        #expect(actions.map(\.ignoringErrorText).contains(refused(worker: worker, .outOfRange)))
        #expect(h.state.tasks["x"]?.status == .erred)
        #expect(h.state.tasks["x"]?.error?.typeName == "InvalidReport")
    }
}

@Suite("Security decisions: numbers and limits")
struct LimitDecisionTests {
    @Test func registrationsWithNumbersOutOfRangeAreRefused() {
        var h = SchedulerHarness()
        let cases: [WorkerRegistration] = [
            .dummy(name: "huge", nthreads: 1 << 62),
            .dummy(name: "none", nthreads: 0),
            .dummy(name: "slow", heartbeat: .seconds(3600)),
            .dummy(name: "nowhere", address: PeerAddress("http://example")),
            .dummy(name: "badkey", address: PeerAddress("tcp://127.0.0.1:1|not-a-key")),
            .dummy(name: "greedy", held: [KeySize(key: "k", nbytes: .max)]),
        ]
        for registration in cases {
            let actions = h.fromWorker(registration.name, .register(registration))
            #expect(actions.map(\.ignoringErrorText) == [refused(worker: registration.name, .outOfRange)], "\(registration.name)")
        }
        var resources = WorkerRegistration.dummy(name: "inf")
        resources.resources = Resources(["GPU": .infinity])
        #expect(h.fromWorker("inf", .register(resources)).map(\.ignoringErrorText) == [refused(worker: "inf", .outOfRange)])
        #expect(h.state.workers.isEmpty)
    }

    @Test func workersAndClientsBeyondTheLimitsAreRefused() {
        var config = SchedulerConfig()
        config.maxWorkers = 1
        config.maxClients = 1
        var h = SchedulerHarness(config: config)
        h.registerWorker("w0")
        #expect(h.registerWorker("w1").map(\.ignoringErrorText) == [refused(worker: "w1", .limitReached)])
        h.registerClient("c1")
        #expect(h.registerClient("c2").map(\.ignoringErrorText) == [refused(client: "c2", .limitReached)])
        #expect(h.state.workers.count == 1 && h.state.clients.count == 1)
    }

    @Test func aScatterNeitherReplacesNorJoinsAResultInMemory() {
        var h = secured()
        h.submit([.dummy("x")], from: "a")
        h.finish("x", nbytes: 100)
        let holder = h.state.tasks["x"]!.holders[0]
        let other: WorkerID = holder == "w0" ? "w1" : "w0"
        let actions = h.fromClient("b", .scattered(worker: other, keys: [KeySize(key: "x", nbytes: 5)]))
        #expect(
            actions == [
                .toWorker(.worker(other), .freeKeys(["x"])),
                .toClient("b", .taskFinished(key: "x", nbytes: 100, holders: [keyed(holder)])),
            ])
        #expect(h.state.tasks["x"]?.holders == [holder])
        let huge = h.fromClient("b", .scattered(worker: other, keys: [KeySize(key: "y", nbytes: .max)]))
        #expect(huge.map(\.ignoringErrorText) == [refused(client: "b", .outOfRange)])
    }

    @Test func aPeerThatDoesNotReadIsCutOff() {
        var h = secured()
        h.submit([.dummy("x")], from: "a")
        h.handle(.unreachable(RoutingID("a"), now: h.now))
        #expect(h.state.clients["a"] == nil)
        let worker = h.state.workers.keys.sorted()[0]
        h.handle(.unreachable(.worker(worker), now: h.now))
        #expect(h.state.workers[worker] == nil)
    }
}

@Suite("Crash reports")
struct CrashReportDecisionTests {
    @Test func aCrashedTaskFailsAtOnceAndItsWorkerLeavesWithoutSuspicion() {
        var h = SchedulerHarness()
        h.registerWorker("w0", nthreads: 2)
        h.registerWorker("w1")
        h.registerClient("c1")
        h.submit([.dummy("bad"), .dummy("innocent")])
        let worker = h.worker(of: "bad")!
        let run = h.runID(of: "bad")!
        let actions = h.fromWorker(worker, .taskCrashed(key: "bad", runID: run, signal: 4))
        guard case .toClient("c1", .taskErred("bad", let error))? = actions.first else {
            Issue.record("expected the task to fail first, got \(actions)")
            return
        }
        #expect(error.typeName == "WorkerCrashed" && error.message.contains("SIGILL (4)") && error.worker == worker)
        #expect(h.state.workers[worker] == nil, "the worker is dying: removed at once")
        if let innocent = h.state.tasks["innocent"], innocent.processingOn != nil {
            #expect(innocent.processingOn != worker && innocent.suspects.isEmpty, "not a suspect of the crash")
        }
    }

    @Test func aCrashedTaskWithRetriesRunsAgain() {
        var h = SchedulerHarness()
        h.registerWorker("w0")
        h.registerWorker("w1")
        h.registerClient("c1")
        h.submit([TaskSpec(key: "bad", function: "inc", arguments: .emptyArguments, retries: 1)])
        let worker = h.worker(of: "bad")!
        h.fromWorker(worker, .taskCrashed(key: "bad", runID: h.runID(of: "bad")!, signal: 4))
        #expect(h.state.tasks["bad"]?.status == .processing)
        #expect(h.worker(of: "bad") != worker)
        #expect(h.state.tasks["bad"]?.spec.retries == 0)
    }

    @Test func aStaleCrashReportOnlyRemovesItsWorker() {
        var h = SchedulerHarness()
        h.registerWorker("w0")
        h.registerClient("c1")
        h.submit([.dummy("x")])
        h.fromWorker("w0", .taskCrashed(key: "x", runID: RunID(99), signal: 11))
        #expect(h.state.workers["w0"] == nil)
        #expect(h.state.tasks["x"]?.status != .erred, "not the run the scheduler knows: the task is not blamed")
    }
}

@Suite("Security decisions: review fixes")
struct SecurityReviewDecisionTests {
    @Test func aPeerAddressCarriesAKeyExactlyUnderSecurity() {
        var h = SchedulerHarness()
        let key = String(repeating: "a", count: 40)
        let keyed = WorkerRegistration.dummy(name: "keyed", address: PeerAddress("tcp://127.0.0.1:1|\(key)"))
        #expect(h.fromWorker("keyed", .register(keyed)).map(\.ignoringErrorText) == [refused(worker: "keyed", .outOfRange)])
        let bare = WorkerRegistration.dummy(name: "bare")
        #expect(
            h.fromWorker("bare", .register(bare), as: workerKey).map(\.ignoringErrorText) == [refused(worker: "bare", .outOfRange)])
        #expect(h.fromWorker("keyed", .register(keyed), as: workerKey) == [.toWorker(.worker("keyed"), .registered)])
    }

    @Test func aScatteredCopyOfAnExistingKeyIsDroppedOnItsWorker() {
        var h = secured()
        h.submit([.dummy("x")], from: "a")
        let runner = h.worker(of: "x")!
        let other: WorkerID = runner == "w0" ? "w1" : "w0"
        let actions = h.fromClient("b", .scattered(worker: other, keys: [KeySize(key: "x", nbytes: 5)]))
        #expect(actions == [.toWorker(.worker(other), .freeKeys(["x"]))])
        #expect(h.state.tasks["x"]?.processingOn == runner)
    }

    @Test func functionsAWorkerDeclaresAdminOnlyAreRefusedToClients() {
        var h = secured()
        var registration = registration("w9")
        registration.functions = ["deploy"]
        registration.adminFunctions = ["deploy"]
        h.fromWorker("w9", .register(registration), as: workerKey)
        let actions = h.submit([.dummy("d", function: "deploy")], from: "a")
        guard case .toClient("a", .taskErred("d", let error))? = actions.first else {
            Issue.record("expected a refusal, got \(actions)")
            return
        }
        #expect(error.typeName == "NotAllowed")
        h.submit([.dummy("d", function: "deploy")], from: "o")
        #expect(h.state.tasks["d"] != nil, "an admin may")
    }

    @Test func aClientCannotRunAnAdminsCommandAgainByItsKey() {
        var h = secured()
        h.submit([.dummy("ls", function: "shell")], from: "o")
        let actions = h.submit([.dummy("ls", function: "inc")], from: "a")
        guard case .toClient("a", .taskErred("ls", let error))? = actions.first else {
            Issue.record("expected a refusal, got \(actions)")
            return
        }
        #expect(error.typeName == "NotAllowed")
        #expect(!(h.state.tasks["ls"]?.wantedBy.contains("a") ?? false))
    }

    @Test func aReturningWorkerDoesNotReclaimAKeyComputedAgain() {
        var h = secured(3)
        h.submit([.dummy("x")], from: "a")
        h.finish("x", nbytes: 100)
        h.fromClient("o", .retireWorkers(["w0"]))
        let copier = h.state.replicating["x"]!
        h.fromWorker(copier, .addKeys([KeySize(key: "x", nbytes: 100)]))
        // x is released and submitted anew under the same key: another computation.
        h.fromClient("a", .release(["x"]))
        h.submit([.dummy("x")], from: "a")
        h.finish("x", nbytes: 100)
        let back = h.fromWorker("w0", .register(registration("w0", held: [KeySize(key: "x", nbytes: 100)])), as: workerKey)
        #expect(back.last == .toWorker(.worker("w0"), .freeKeys(["x"])), "its copy is of the old computation")
        #expect(h.state.tasks["x"]?.holders.contains("w0") == false)
    }
}

@Suite("Security decisions: admin work by other paths")
struct AdminWorkDecisionTests {
    @Test func aWorkerDeclaresAdminOnlyOnlyFunctionsItOffers() {
        var h = secured()
        var registration = WorkerRegistration.dummy(name: "w9", address: PeerAddress("tcp://w9:9000|" + String(repeating: "a", count: 40)))
        registration.functions = ["inc"]
        registration.adminFunctions = ["add"]
        h.fromWorker("w9", .register(registration), as: Principal(.worker, "worker"))
        #expect(h.state.declaredAdminFunctions.isEmpty)
    }
}

@Suite("Security decisions: admin functions declared late")
struct LateAdminFunctionDecisionTests {
    @Test func aTaskParkedBeforeItsFunctionWasDeclaredAdminOnlyIsRefusedToAClient() {
        var h = SchedulerHarness()
        h.registerClient("a", as: Principal(.client, "alice"))
        h.registerClient("o", as: Principal(.admin, "ops"))
        h.submit([.dummy("mine", function: "deploy")], from: "a")
        h.submit([.dummy("theirs", function: "deploy")], from: "o")
        #expect(h.state.tasks["mine"]?.status == .noWorker)
        var registration = WorkerRegistration.dummy(name: "w0", address: PeerAddress("tcp://w0:9000|" + String(repeating: "a", count: 40)))
        registration.functions = ["deploy"]
        registration.adminFunctions = ["deploy"]
        let actions = h.fromWorker("w0", .register(registration), as: Principal(.worker, "worker"))
        #expect(actions.contains { if case .toClient("a", .taskErred("mine", let error)) = $0 { return error.typeName == "NotAllowed" } else { return false } })
        #expect(h.state.tasks["mine"]?.status == .erred)
        #expect(h.state.tasks["theirs"]?.status == .processing, "the admin's task runs")
    }
}
