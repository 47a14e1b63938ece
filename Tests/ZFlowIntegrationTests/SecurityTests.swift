import Foundation
import Testing
import ZFlow
import ZFlowCore
import ZFlowWire
import ZFlowZMQ

#if canImport(Glibc)
    import Glibc
#endif

/// Security on real processes: CURVE keys and roles, refused strangers, hostile input that must not crash or grow
/// anything, and the defaults that keep a cluster closed (loopback, no shell, no files).
///
/// Every wait has a deadline; every process is started by the test and terminated by PID in teardown.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct SecurityTests {
    // MARK: - 1. A secured cluster works

    /// Under CURVE, submit/map/gather, futures as arguments, scatter (client to worker) and a 1,024-leaf tree
    /// reduction (worker to worker) all work, and results really moved between the workers.
    @Test func aSecuredClusterComputesAndMovesDataBetweenWorkers() async throws {
        let directory = try Self.makeSecurityDirectory()
        defer { Self.remove(directory) }
        let cluster = try await TestCluster(workers: 2, heartbeatMs: 100, security: directory)
        defer { cluster.shutdown() }
        #expect(cluster.scheduler.waitForLine(containing: "CURVE security", timeout: 1) != nil, "the scheduler says it is secured")
        #expect(cluster.workers.values.allSatisfy { $0.waitForLine(containing: "|", timeout: 5) != nil },
            "every worker's peer address carries its CURVE key (tcp://HOST:PORT|KEY)")
        let client = try await cluster.client()

        let x = try await client.submit(StandardFunctions.inc, 1)
        let y = try await client.submit(StandardFunctions.inc, 2)
        let z = try await client.submit(StandardFunctions.add, x, y)
        #expect(try await z.result(timeout: .seconds(20)) == 5)
        let mapped = try await client.map(StandardFunctions.inc, Array(0..<200))
        #expect(try await client.gather(mapped, timeout: .seconds(20)) == Array(1...200))
        let scattered = try await client.scatter([10, 20])
        let summed = try await client.submit(StandardFunctions.add, scattered[0], scattered[1])
        #expect(try await summed.result(timeout: .seconds(20)) == 30, "scattered data reached the workers over CURVE")

        let leaves = 1024
        let root = try await cluster.treeSum(client, leaves: leaves)
        #expect(try await root.result(timeout: .seconds(40)) == leaves * (leaves + 1) / 2)
        let info = try await cluster.waitForInfo(client, "peer fetches reported") { info in
            info.workers.count == 2 && info.workers.reduce(0) { $0 + $1.metrics.fetchedKeys } > 0
        }
        #expect(info.workers.allSatisfy { $0.tasksCompleted > 0 }, "both workers ran tasks: \(info.workers.map(\.tasksCompleted))")
        #expect(info.workers.reduce(0) { $0 + $1.metrics.fetchedKeys } > 0, "workers fetched from each other over CURVE")
        #expect(info.counters.payloadBytesRelayed == 0)
    }

    // MARK: - 2. Clients without the right keys

    /// No keys, wrong keys (another cluster's directory) and a revoked key each fail fast with
    /// `ClientError.security` (not a timeout); `zflow status` without `--security` says to pass it, exit 3.
    @Test func clientsWithoutValidKeysFailFastWithASecurityError() async throws {
        let directory = try Self.makeSecurityDirectory()
        defer { Self.remove(directory) }
        let other = try Self.makeSecurityDirectory()
        defer { Self.remove(other) }
        let cluster = try await TestCluster(workers: 1, security: directory)
        defer { cluster.shutdown() }
        let valid = try await cluster.client()
        #expect(try await valid.schedulerInfo().workers.count == 1, "the directory's own client key works")

        let noKeys = await Self.connectFailure { try await Client.connect(cluster.address, timeout: .seconds(10)) }
        #expect(noKeys.security?.contains("--security") == true, "no keys: \(noKeys)")
        #expect(noKeys.elapsed < .seconds(5), "no keys: failed after \(noKeys.elapsed), not at the 10 s timeout")

        let wrongKeys = await Self.connectFailure {
            try await Client.connect(cluster.address, security: other, timeout: .seconds(10))
        }
        #expect(wrongKeys.security != nil, "wrong keys: \(wrongKeys)")
        #expect(wrongKeys.elapsed < .seconds(5), "wrong keys: failed after \(wrongKeys.elapsed), not at the 10 s timeout")

        let cli = try Self.zflow(["status", "--scheduler", cluster.address, "--timeout", "10"])
        #expect(cli.status == 3, "zflow status without --security: \(cli)")
        #expect(cli.err.split(separator: "\n").count == 1, "one line: \(cli.err)")
        #expect(cli.err.contains("--security"), "\(cli.err)")
        let secured = try Self.zflow(["status", "--scheduler", cluster.address, "--security", directory.path])
        #expect(secured.status == 0, "zflow status with --security: \(secured)")

        try FileManager.default.removeItem(atPath: directory.path + "/clients/client.public")
        let revoked = await Self.connectFailure {
            try await Client.connect(cluster.address, security: directory, timeout: .seconds(10))
        }
        #expect(revoked.security != nil, "revoked key: \(revoked)")
        #expect(revoked.elapsed < .seconds(5), "revoked key: failed after \(revoked.elapsed), not at the 10 s timeout")
        #expect(Self.isAlive(cluster.scheduler))
    }

    /// A client with keys against a scheduler without security fails fast with `.security`, saying the scheduler
    /// does not use security.
    @Test func aClientWithKeysAgainstAPlainSchedulerIsToldSo() async throws {
        let directory = try Self.makeSecurityDirectory()
        defer { Self.remove(directory) }
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        let failure = await Self.connectFailure {
            try await Client.connect(cluster.address, security: directory, timeout: .seconds(10))
        }
        #expect(failure.security?.contains("does not use security") == true, "\(failure)")
        #expect(failure.elapsed < .seconds(5), "failed after \(failure.elapsed), not at the 10 s timeout")
    }

    // MARK: - 3. A worker with an unlisted key

    /// A worker that knows the scheduler's public key but whose own key is not listed never registers, and
    /// exits 77 (EX_NOPERM) saying it was refused; under a nanny too (which gives up rather than restart it).
    @Test func aWorkerWithAnUnlistedKeyNeverRegisters() async throws {
        let directory = try Self.makeSecurityDirectory()
        defer { Self.remove(directory) }
        let other = try Self.makeSecurityDirectory()
        defer { Self.remove(other) }
        try FileManager.default.removeItem(atPath: other.path + "/scheduler.public")
        try FileManager.default.copyItem(atPath: directory.path + "/scheduler.public", toPath: other.path + "/scheduler.public")
        let cluster = try await TestCluster(workers: 1, heartbeatMs: 100, security: directory)
        defer { cluster.shutdown() }
        let client = try await cluster.client()

        let intruder = try CapturedProgram(
            TestCluster.executable("zflow-worker"),
            [cluster.address, "--name", "intruder", "--heartbeat-ms", "100", "--exit-with-stdin", "--security", other.path])
        defer { intruder.terminate() }
        #expect(intruder.waitForOutput(containing: "intruder", timeout: 10), "the intruder started: \(intruder.err)")
        let deadline = Date(timeIntervalSinceNow: 10)
        var seen: [String] = []
        while intruder.isRunning && Date() < deadline {
            seen = try await client.schedulerInfo().workers.map(\.name)
            if seen.contains("intruder") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let names = try await client.schedulerInfo().workers.map(\.name)
        #expect(!seen.contains("intruder") && names == ["w0"], "the unlisted worker never registered: \(seen), \(names)")
        let status = intruder.waitForExit(timeout: 1)
        #expect(status == 77, "the refused worker exits 77 (still running: \(status == nil)); stderr: \(intruder.err)")
        #expect(intruder.err.contains("zflow-worker: the scheduler refused this worker"), "it says it was refused: \(intruder.err)")

        let nannied = try CapturedProgram(
            TestCluster.executable("zflow-worker"),
            [cluster.address, "--name", "intruder", "--heartbeat-ms", "100", "--exit-with-stdin", "--nanny", "--security", other.path])
        defer { nannied.terminate() }
        let nannyStatus = nannied.waitForExit(timeout: 20)
        #expect(
            nannyStatus == 77,
            "the nanny gives up on a refused key (still running: \(nannyStatus == nil)); stdout: \(nannied.out); stderr: \(nannied.err)")
        #expect(nannied.err.lowercased().contains("refused"), "\(nannied.err)")
        #expect(try await client.schedulerInfo().workers.map(\.name) == ["w0"])
        #expect(try await client.submit(StandardFunctions.inc, 1).result(timeout: .seconds(10)) == 2)
        #expect(Self.isAlive(cluster.scheduler))
    }

    // MARK: - 4. Plaintext garbage on CURVE ports

    /// Raw TCP junk, a plaintext ZeroMQ peer and a CURVE peer with an unlisted key, on the scheduler's port and
    /// on a worker's peer port: the connections are dropped, nobody answers the strangers, nothing dies, and a
    /// secured client still gets right results.
    @Test func plaintextGarbageOnCurvePortsDisturbsNothing() async throws {
        let directory = try Self.makeSecurityDirectory()
        defer { Self.remove(directory) }
        let cluster = try await TestCluster(workers: 2, security: directory)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let peers = try await client.schedulerInfo().workers.map(\.address)
        let endpoints = [cluster.address] + peers
        var junk = Array("GET / HTTP/1.1\r\nHost: zflow\r\n\r\n".utf8)
        junk += (0..<4096).map { _ in UInt8.random(in: 0...255) }
        var greeting: [UInt8] = [0xFF] + Array(repeating: 0, count: 8) + [0x7F, 3, 0] + Array("NULL".utf8)
        greeting += Array(repeating: 0, count: 16) + [0] + Array(repeating: 0, count: 31) + Array(repeating: 0xEE, count: 512)
        for endpoint in endpoints {
            let port = try #require(Self.port(of: endpoint), "\(endpoint)")
            for bytes in [junk, greeting] {
                #expect(Self.rawTCPIsDropped(port: port, sending: bytes), "\(endpoint) drops a connection that sent junk")
            }
            let plain = try RawPeer(Self.plainEndpoint(endpoint), identity: "client:plain-garbage")
            let plainEvent = plain.awaitHandshakeFailure(timeout: 5)
            #expect(plainEvent != nil, "\(endpoint): a plaintext ZMQ peer's handshake fails")
            // Queued if a reconnection's pipe is up, dropped (EAGAIN) otherwise: either way nothing may answer.
            try? plain.send([Data("XX".utf8), Data([0xC1, 0xFF])])
            try? plain.send(OperationWriter.frames([ClientToScheduler.register(version: ProtocolVersion.current)]))
            #expect(plain.receiveAll(withinMilliseconds: 300).isEmpty, "\(endpoint): no answer to a plaintext peer")
            plain.close()

            let serverKey = endpoint == cluster.address
                ? try directory.schedulerPublicKey() : String(endpoint.split(separator: "|").last ?? "")
            let stranger = try RawPeer(
                Self.plainEndpoint(endpoint), identity: "client:stranger", curve: (serverKey, try CurveKeyPair.generate()))
            let strangerEvent = stranger.awaitHandshakeFailure(timeout: 5)
            #expect(strangerEvent == .refusedByServer, "\(endpoint): an unlisted CURVE key is refused: \(String(describing: strangerEvent))")
            try? stranger.send(OperationWriter.frames([ClientToScheduler.register(version: ProtocolVersion.current)]))
            #expect(stranger.receiveAll(withinMilliseconds: 300).isEmpty, "\(endpoint): no answer to an unlisted key")
            stranger.close()
        }
        Self.expectAlive(cluster)
        let mapped = try await client.map(StandardFunctions.inc, Array(0..<100))
        let root = try await client.submit(StandardFunctions.sum, mapped)
        #expect(try await root.result(timeout: .seconds(20)) == (1...100).reduce(0, +))
        let fresh = try await cluster.client()
        #expect(try await fresh.submit(StandardFunctions.inc, 41).result(timeout: .seconds(10)) == 42)
        Self.expectAlive(cluster)
    }

    // MARK: - 5. Cancelling someone else's task

    /// Client bob may not cancel alice's task (refused, 505) and alice's future stays pending; bob may cancel
    /// his own; the admin ops may cancel alice's.
    @Test func onlyTheOwnerOrAnAdminMayCancelATask() async throws {
        let directory = try Self.makeSecurityDirectory()
        defer { Self.remove(directory) }
        try directory.add(.client, name: "bob")
        try directory.add(.admin, name: "ops")
        let cluster = try await TestCluster(workers: 1, threads: 2, security: directory)
        defer { cluster.shutdown() }
        let alice = try await cluster.client()
        let bob = try await cluster.client(identity: "bob")
        let slow = try await alice.submit(StandardFunctions.sleep, 4.0)
        _ = try await cluster.waitForInfo(alice, "alice's task runs") { ($0.taskCounts["processing"] ?? 0) == 1 }

        do {
            try await bob.cancel(keys: [slow.key])
            Issue.record("bob cancelled alice's task")
        } catch ClientError.refused(let violation) {
            #expect(violation.code == .forbidden, "\(violation)")
            #expect(violation.message.contains("admin"), "\(violation)")
        }
        let after = try await alice.schedulerInfo()  // any cancel notice to alice would have come before this
        #expect(slow.status == .pending)
        #expect(after.taskCounts["processing"] == 1, "alice's task still runs: \(after.taskCounts)")

        let own = try await bob.submit(StandardFunctions.sleep, 4.0)
        try await bob.cancel(keys: [own.key])
        await #expect(throws: ClientError.cancelled(own.key)) { try await own.result(timeout: .seconds(10)) }

        let ops = try await cluster.client(identity: "ops")
        try await ops.cancel(keys: [slow.key])
        await #expect(throws: ClientError.cancelled(slow.key)) { try await slow.result(timeout: .seconds(10)) }
        #expect(slow.status == .cancelled)
    }

    // MARK: - 6. Retiring workers

    /// A client may not retire a worker (library: refused 505; CLI: non-zero, naming admin); an admin identity
    /// added while the cluster runs may, through the library and the CLI.
    @Test func onlyAnAdminMayRetireWorkers() async throws {
        let directory = try Self.makeSecurityDirectory()
        defer { Self.remove(directory) }
        let cluster = try await TestCluster(workers: 3, heartbeatMs: 100, security: directory)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        do {
            try await client.retireWorkers(["w0"], timeout: .seconds(5))
            Issue.record("a client retired w0")
        } catch ClientError.refused(let violation) {
            #expect(violation.code == .forbidden, "\(violation)")
        }
        let cli = try Self.zflow(
            ["retire", "w0", "--scheduler", cluster.address, "--security", directory.path, "--identity", "client", "--timeout", "5"])
        #expect(cli.status != nil && cli.status != 0, "zflow retire as a client: \(cli)")
        #expect(cli.err.contains("admin"), "\(cli.err)")
        let still = try await client.schedulerInfo()
        #expect(still.workers.map(\.name) == ["w0", "w1", "w2"])
        #expect(Self.isAlive(cluster.workers["w0"]!))

        try directory.add(.admin, name: "ops")  // picked up by the running scheduler: the folder changed
        let ops = try await cluster.client(identity: "ops")
        try await ops.retireWorkers(["w0"], timeout: .seconds(20))
        #expect(cluster.workers["w0"]!.waitForExit(timeout: 10) != nil, "retired w0 exits")
        let byCLI = try Self.zflow(
            ["retire", "w2", "--scheduler", cluster.address, "--security", directory.path, "--identity", "ops", "--timeout", "20"])
        #expect(byCLI.status == 0, "zflow retire as an admin: \(byCLI)")
        let left = try await cluster.waitForInfo(client, "only w1 left") { $0.workers.map(\.name) == ["w1"] }
        #expect(left.workers.map(\.name) == ["w1"])
        #expect(try await client.submit(StandardFunctions.inc, 1).result(timeout: .seconds(10)) == 2)
    }

    // MARK: - 7. Remote crashes (regressions)

    /// Registrations with absurd numbers get an error reply (506), never a crash.
    @Test func aFakeWorkerWithAbsurdNumbersGetsAnErrorAndNothingDies() async throws {
        let cluster = try await TestCluster(workers: 2)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let base = WorkerRegistration(
            name: "fake", nthreads: 1, functions: ["inc"], address: "tcp://127.0.0.1:1", heartbeatInterval: .milliseconds(200))
        var cases: [(String, WorkerRegistration)] = []
        var huge = base
        huge.nthreads = 1 << 62
        cases.append(("nthreads 2^62", huge))
        var zero = base
        zero.nthreads = 0
        cases.append(("nthreads 0", zero))
        var slow = base
        slow.heartbeatInterval = Interval(nanoseconds: UInt64.max)
        cases.append(("heartbeat 2^64 ns", slow))
        var nowhere = base
        nowhere.address = "not an address"
        cases.append(("address", nowhere))
        var held = base
        held.held = [KeySize(key: "x", nbytes: UInt64.max)]
        cases.append(("held nbytes 2^64-1", held))
        for (index, (what, registration)) in cases.enumerated() {
            let peer = try RawPeer(cluster.address, identity: "worker:fake-\(index)")
            try peer.send(OperationWriter.frames([WorkerToScheduler.register(registration)]))
            let replies = peer.receiveAll(withinMilliseconds: 5000, stopAfterFirst: true)
            let decoded = try replies.first.map { try OperationDecoder().decode(SchedulerToWorker.self, frames: $0) }
            guard case .success(.error(let violation))? = decoded?.first else {
                Issue.record("\(what): expected an error reply, got \(String(describing: decoded))")
                continue
            }
            #expect(violation.code == .outOfRange, "\(what): \(violation)")
            peer.close()
        }
        Self.expectAlive(cluster)
        let info = try await client.schedulerInfo()
        #expect(info.workers.map(\.name) == ["w0", "w1"], "no fake worker registered")
        #expect(try await client.submit(StandardFunctions.inc, 41).result(timeout: .seconds(10)) == 42)
    }

    /// A client's `scattered` claiming 2^64-1 bytes gets an error (506); scheduler and workers live.
    @Test func aScatteredClaimOfAbsurdSizeGetsAnError() async throws {
        let cluster = try await TestCluster(workers: 2)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let peer = try RawPeer(cluster.address, identity: "client:raw-scatter")
        defer { peer.close() }
        try peer.send(OperationWriter.frames([ClientToScheduler.register(version: ProtocolVersion.current)]))
        let registered = peer.receiveAll(withinMilliseconds: 5000, stopAfterFirst: true)
        guard case .success(.registered)? = try registered.first.map({ try OperationDecoder().decode(SchedulerToClient.self, frames: $0) })?.first else {
            Issue.record("the raw client did not register: \(registered)")
            return
        }
        try peer.send(
            OperationWriter.frames([ClientToScheduler.scattered(worker: "w0", keys: [KeySize(key: "huge", nbytes: UInt64.max)])]))
        let replies = peer.receiveAll(withinMilliseconds: 5000, stopAfterFirst: true)
        let decoded = try replies.first.map { try OperationDecoder().decode(SchedulerToClient.self, frames: $0) }
        guard case .success(.error(let violation))? = decoded?.first else {
            Issue.record("expected an error reply, got \(String(describing: decoded))")
            return
        }
        #expect(violation.code == .outOfRange, "\(violation)")
        Self.expectAlive(cluster)
        let info = try await client.schedulerInfo(whoHas: ["huge"])
        #expect(info.whoHas["huge"]?.isEmpty ?? true, "the claim was not recorded: \(info.whoHas)")
        #expect(try await client.submit(StandardFunctions.inc, 1).result(timeout: .seconds(10)) == 2)
    }

    /// `add(Int.max, 1)` fails with an overflow error and `bytes(1 TiB)` is refused; workers live.
    @Test func overflowAndHugeAllocationsFailTheTaskNotTheWorker() async throws {
        let cluster = try await TestCluster(workers: 2)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let overflow = try Self.zflow(["submit", "--scheduler", cluster.address, "add", "9223372036854775807", "1"])
        #expect(overflow.status == 1, "\(overflow)")
        #expect(overflow.err.lowercased().contains("overflow"), "\(overflow.err)")
        let huge = try Self.zflow(["submit", "--scheduler", cluster.address, "bytes", "1099511627776"])
        #expect(huge.status == 1, "\(huge)")
        #expect(huge.err.contains("memory limit"), "\(huge.err)")
        let inc = try Self.zflow(["submit", "--scheduler", cluster.address, "inc", "9223372036854775807"])
        #expect(inc.status == 1 && inc.err.lowercased().contains("overflow"), "\(inc)")
        Self.expectAlive(cluster)
        let info = try await client.schedulerInfo()
        #expect(info.workers.map(\.name) == ["w0", "w1"])
        #expect(try await client.submit(StandardFunctions.add, 40, 2).result(timeout: .seconds(10)) == 42)
    }

    /// One message of 4,096 unknown operations gets exactly one error reply (naming the count), not 4,096.
    @Test func aMessageOfManyBadOperationsGetsOneError() async throws {
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let peer = try RawPeer(cluster.address, identity: "client:raw-bad-ops")
        defer { peer.close() }
        try peer.send(OperationWriter.frames([ClientToScheduler.register(version: ProtocolVersion.current)]))
        #expect(peer.receiveAll(withinMilliseconds: 5000, stopAfterFirst: true).count == 1, "registered")
        let header = MessagePackWriter()
        header.writeArrayHeader(4096)
        for _ in 0..<4096 {
            header.writeMapHeader(1)
            header.write("op")
            header.write("frobnicate")
        }
        try peer.send([Data(ProtocolVersion.signature), header.data()])
        var messages = peer.receiveAll(withinMilliseconds: 5000, stopAfterFirst: true)
        messages += peer.receiveAll(withinMilliseconds: 500)
        #expect(messages.count == 1, "exactly one reply message, got \(messages.count)")
        let operations = try messages.flatMap { try OperationDecoder().decode(SchedulerToClient.self, frames: $0) }
        #expect(operations.count == 1, "exactly one operation in it, got \(operations.count)")
        if case .success(.error(let violation))? = operations.first {
            #expect(violation.code == .unknownOp, "\(violation)")
            #expect(violation.message.contains("4096"), "names how many: \(violation)")
        } else {
            Issue.record("expected an error, got \(String(describing: operations.first))")
        }
        Self.expectAlive(cluster)
        #expect(try await client.submit(StandardFunctions.inc, 1).result(timeout: .seconds(10)) == 2)
    }

    // MARK: - 8. Loopback by default, --insecure

    /// Beyond loopback without security the scheduler and worker refuse to start (64, one line naming
    /// --security); with --insecure they start with a warning; with --security without one; by default they
    /// listen on 127.0.0.1.
    @Test func serversListenOnLoopbackUnlessToldOtherwise() async throws {
        let scheduler = TestCluster.executable("zflow-scheduler")
        let worker = TestCluster.executable("zflow-worker")

        let refused = try CapturedProgram(scheduler, ["--port", "0", "--host", "0.0.0.0"])
        defer { refused.terminate() }
        #expect(refused.waitForExit(timeout: 10) == 64)
        #expect(refused.err.split(separator: "\n").count == 1 && refused.err.contains("--security"), "\(refused.err)")
        #expect(!refused.out.contains("listening"), "\(refused.out)")

        let insecure = try CapturedProgram(scheduler, ["--port", "0", "--host", "0.0.0.0", "--insecure", "--exit-with-stdin"])
        defer { insecure.terminate() }
        #expect(insecure.waitForOutput(containing: "listening on tcp://0.0.0.0:", timeout: 10), "\(insecure.out) \(insecure.err)")
        #expect(insecure.waitForError(containing: "WARNING", timeout: 5), "\(insecure.err)")
        #expect(insecure.isRunning)
        insecure.terminate()

        let directory = try Self.makeSecurityDirectory()
        defer { Self.remove(directory) }
        let secured = try CapturedProgram(
            scheduler, ["--port", "0", "--host", "0.0.0.0", "--security", directory.path, "--exit-with-stdin"])
        defer { secured.terminate() }
        #expect(secured.waitForOutput(containing: "listening on tcp://0.0.0.0:", timeout: 10), "\(secured.out) \(secured.err)")
        #expect(!secured.err.contains("WARNING"), "no warning with security: \(secured.err)")
        secured.terminate()

        let local = try CapturedProgram(scheduler, ["--port", "0", "--exit-with-stdin"])
        defer { local.terminate() }
        #expect(local.waitForOutput(containing: "listening on tcp://127.0.0.1:", timeout: 10), "\(local.out) \(local.err)")
        let address = try #require(local.out.split(separator: "\n").first { $0.contains("listening on") }?.split(separator: " ").last)

        let refusedWorker = try CapturedProgram(worker, [String(address), "--host", "0.0.0.0"])
        defer { refusedWorker.terminate() }
        #expect(refusedWorker.waitForExit(timeout: 10) == 64)
        #expect(refusedWorker.err.split(separator: "\n").count == 1 && refusedWorker.err.contains("--security"), "\(refusedWorker.err)")

        let localWorker = try CapturedProgram(worker, [String(address), "--name", "lo", "--exit-with-stdin"])
        defer { localWorker.terminate() }
        #expect(localWorker.waitForOutput(containing: "peer tcp://127.0.0.1:", timeout: 10), "\(localWorker.out) \(localWorker.err)")
        #expect(!localWorker.err.contains("WARNING"), "\(localWorker.err)")
    }

    // MARK: - 9. Shell and files off by default

    /// Without --allow-shell, `shell` and `zflow exec` fail with NotAllowed naming the flag; without
    /// --allow-files, `read-file` fails; with it, only files inside the directory (symbolic links and `..`
    /// resolved) can be read.
    @Test func shellAndFilesAreOffByDefault() async throws {
        let files = FileManager.default.temporaryDirectory.appendingPathComponent("zflow-files-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: files) }
        try "inside\n".write(toFile: files + "/inside.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: files + "/escape", withDestinationPath: "/etc/passwd")

        do {
            let cluster = try await TestCluster(workers: 1)
            defer { cluster.shutdown() }
            let client = try await cluster.client()
            let shell = await Self.taskFailure { try await client.submit(StandardFunctions.shell, "true").result(timeout: .seconds(10)) }
            #expect(shell?.typeName == "NotAllowed" && shell?.message.contains("--allow-shell") == true, "\(String(describing: shell))")
            let exec = try Self.zflow(["exec", "--scheduler", cluster.address, "--", "true"])
            #expect(exec.status != nil && exec.status != 0 && exec.err.contains("--allow-shell"), "\(exec)")
            let read = await Self.taskFailure {
                try await client.submit(StandardFunctions.readFile, files + "/inside.txt").result(timeout: .seconds(10))
            }
            #expect(read?.typeName == "NotAllowed" && read?.message.contains("--allow-files") == true, "\(String(describing: read))")
            Self.expectAlive(cluster)
        }

        let cluster = try await TestCluster(workers: 1, workerArguments: ["--allow-files", files])
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        #expect(try await client.submit(StandardFunctions.readFile, files + "/inside.txt").result(timeout: .seconds(10)) == "inside\n")
        let depth = files.split(separator: "/").count
        for outside in ["/etc/passwd", files + String(repeating: "/..", count: depth) + "/etc/passwd", files + "/escape"] {
            let failure = await Self.taskFailure {
                try await client.submit(StandardFunctions.readFile, outside).result(timeout: .seconds(10))
            }
            #expect(failure != nil && failure?.message.contains("--allow-files") == true, "\(outside): \(String(describing: failure))")
        }
        let shell = await Self.taskFailure { try await client.submit(StandardFunctions.shell, "true").result(timeout: .seconds(10)) }
        #expect(shell?.typeName == "NotAllowed", "--allow-files does not allow the shell: \(String(describing: shell))")
        Self.expectAlive(cluster)
    }

    // MARK: - 10. A client that never reads

    /// 20,000 `info` requests from a client that never reads its replies: the scheduler's memory grows by less
    /// than 64 MiB, and other clients are still answered.
    @Test func aClientThatNeverReadsCannotGrowTheSchedulerWithoutBound() async throws {
        try await Self.floodWithoutReading(requests: 20_000, handledWithin: 10, duration: .seconds(5))
    }

    /// The same with 80,000 requests (about 90 MiB of replies): the scheduler must cut the client off before
    /// holding 64 MiB for it.
    @Test func aClientThatNeverReadsIsCutOffBeforeItsRepliesFillTheScheduler() async throws {
        try await Self.floodWithoutReading(requests: 80_000, handledWithin: 45, duration: .seconds(55))
    }

    /// Registers a raw client that never reads (a one-message receive queue and a 4 KiB kernel buffer, so the
    /// replies stay in the scheduler), sends `requests` info requests in messages of 100 (stopping early if the
    /// send queue fills), then a marker task; waits until the scheduler handled them all (the marker exists) or
    /// cut the client off; expects the scheduler's RSS to have grown by less than 64 MiB, and everyone else
    /// served.
    static func floodWithoutReading(requests: Int, handledWithin seconds: Double, duration: Duration) async throws {
        let cluster = try await TestCluster(workers: 2)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let peer = try RawPeer(cluster.address, identity: "client:never-reads", receiveQueue: 1)
        defer { peer.close() }
        try peer.send(OperationWriter.frames([ClientToScheduler.register(version: ProtocolVersion.current)]))
        #expect(peer.receiveAll(withinMilliseconds: 5000, stopAfterFirst: true).count == 1, "registered")
        let clientsBefore = try await client.schedulerInfo().clients
        let before = residentKiB(cluster.scheduler.pid)
        let started = ContinuousClock.now
        let request = OperationWriter.frames(Array(repeating: ClientToScheduler.info(keys: []), count: 100))
        var sent = 0
        while sent < requests {
            do {
                try peer.send(request)
            } catch let error as ZMQError where error.wouldBlock {
                break
            }
            sent += 100
        }
        // The last operation, after every info request: a task another client sees once all were handled.
        let arguments = try MessagePackEncoder().encodeList([1]).bytes
        let marker = TaskSpec(key: TaskKey("never-reads-marker"), function: "inc", arguments: Payload(arguments))
        let markerFrames = OperationWriter.frames([ClientToScheduler.submit([marker])])
        let sendDeadline = Date(timeIntervalSinceNow: seconds)
        var markerSent = false
        while !markerSent && Date() < sendDeadline {
            do {
                try peer.send(markerFrames)
                markerSent = true
            } catch let error as ZMQError where error.wouldBlock {
                try await Task.sleep(for: .milliseconds(20))  // the send queue is full: wait for room, bounded
            }
        }
        var peak = before
        let deadline = Date(timeIntervalSinceNow: seconds)
        var info = try await client.schedulerInfo()
        // No other tasks exist: any task is the marker.
        while info.taskCounts.values.reduce(0, +) == 0 && info.clients >= clientsBefore && Date() < deadline {
            peak = max(peak, residentKiB(cluster.scheduler.pid))
            try await Task.sleep(for: .milliseconds(50))
            info = try await client.schedulerInfo()
        }
        peak = max(peak, residentKiB(cluster.scheduler.pid))
        let handled = info.taskCounts.values.reduce(0, +) > 0 || info.clients < clientsBefore
        let cutOff = info.clients < clientsBefore
        #expect(markerSent && handled, "the scheduler handled the flood within \(seconds) s (RSS \(before) → \(peak) KiB so far)")
        #expect(sent >= min(requests, 1000), "sent \(sent) requests")
        #expect(
            peak - before < 64 << 10,
            "scheduler RSS \(before) KiB → \(peak) KiB after \(sent) unread info requests (cut off: \(cutOff))")
        #expect(try await client.submit(StandardFunctions.inc, 1).result(timeout: .seconds(10)) == 2)
        #expect(try await cluster.client().schedulerInfo().workers.count == 2, "a new client is served")
        expectAlive(cluster)
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < duration, "took \(elapsed)")
        print("SecurityTests: a never-reading client sent \(sent) info requests; scheduler RSS \(before) → \(peak) KiB (+\(peak - before) KiB), cut off: \(cutOff), \(elapsed)")
    }

    // MARK: - Helpers

    /// Runs the built `zflow` with `arguments`, killing it after `timeout` seconds (status nil then).
    static func zflow(_ arguments: [String], timeout: Double = 30) throws -> (status: Int32?, out: String, err: String) {
        let program = try CapturedProgram(TestCluster.executable("zflow"), arguments, closeInput: true)
        defer { program.terminate() }
        let status = program.waitForExit(timeout: timeout)
        return (status, program.out, program.err)
    }

    /// A fresh security directory under the temporary directory.
    static func makeSecurityDirectory() throws -> SecurityDirectory {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zflow-security-\(UUID().uuidString)").path
        return try SecurityDirectory.create(at: path)
    }

    static func remove(_ directory: SecurityDirectory) { try? FileManager.default.removeItem(atPath: directory.path) }

    /// Whether a child process is alive (running and signalable by its PID).
    static func isAlive(_ child: ChildProcess) -> Bool { child.process.isRunning && kill(child.pid, 0) == 0 }

    /// Expects the scheduler and every worker of `cluster` to be alive.
    static func expectAlive(_ cluster: TestCluster, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(isAlive(cluster.scheduler), "the scheduler is alive", sourceLocation: sourceLocation)
        for (name, worker) in cluster.workers.sorted(by: { $0.key < $1.key }) {
            #expect(isAlive(worker), "worker \(name) is alive", sourceLocation: sourceLocation)
        }
    }

    /// How a connect attempt failed, and how long it took.
    struct ConnectFailure: CustomStringConvertible {
        var error: Error?
        var elapsed: Duration
        /// The message of a `ClientError.security`, nil for any other outcome.
        var security: String? {
            if case ClientError.security(let why)? = error { return why }
            return nil
        }
        var description: String { "after \(elapsed): \(error.map { "\($0)" } ?? "connected")" }
    }

    static func connectFailure(_ connect: () async throws -> Client) async -> ConnectFailure {
        let started = ContinuousClock.now
        do {
            let client = try await connect()
            client.close()
            return ConnectFailure(error: nil, elapsed: ContinuousClock.now - started)
        } catch {
            return ConnectFailure(error: error, elapsed: ContinuousClock.now - started)
        }
    }

    /// The `TaskError` a task failed with; nil when it succeeded (recorded as an issue) or failed otherwise.
    static func taskFailure<T>(_ run: () async throws -> T) async -> TaskError? {
        do {
            let value = try await run()
            Issue.record("expected the task to fail, got \(value)")
        } catch let error as TaskError {
            return error
        } catch {
            Issue.record("expected a TaskError, got \(error)")
        }
        return nil
    }

    /// The TCP port of `tcp://HOST:PORT` or `tcp://HOST:PORT|KEY`.
    static func port(of endpoint: String) -> UInt16? {
        UInt16(plainEndpoint(endpoint).split(separator: ":").last ?? "")
    }

    /// `tcp://HOST:PORT` without a `|KEY` suffix.
    static func plainEndpoint(_ endpoint: String) -> String { String(endpoint.split(separator: "|").first ?? "") }

    /// Connects a raw TCP socket to 127.0.0.1:`port`, writes `bytes`, and reports whether the server closes the
    /// connection within 3 s.
    static func rawTCPIsDropped(port: UInt16, sending bytes: [UInt8]) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        let deadline = Date(timeIntervalSinceNow: 3)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000)))
            if ready < 0 { return false }
            if ready == 0 { continue }
            if poller.revents & Int16(POLLHUP | POLLERR) != 0 { return true }
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { return true }  // closed (0) or reset (-1)
        }
        return false
    }

    /// A process's resident memory in KiB (VmRSS in /proc).
    static func residentKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}

/// A raw DEALER socket to a ZFlow endpoint, for crafted messages; optionally a CURVE client. It watches its own
/// handshakes.
final class RawPeer {
    let context = ZMQContext()
    let socket: ZMQSocket
    let monitor: ZMQSocket

    /// - Parameter receiveQueue: ZMQ_RCVHWM, and a small kernel receive buffer, when given (a peer that
    ///   reads nothing should not soak up what the other end sends).
    init(_ endpoint: String, identity: String?, curve: (serverKey: String, keys: CurveKeyPair)? = nil, receiveQueue: Int32? = nil) throws {
        socket = try ZMQSocket(context, .dealer)
        if let identity { try socket.setIdentity(identity) }
        if let curve { try socket.makeCurveClient(serverKey: curve.serverKey, keys: curve.keys) }
        if let receiveQueue {
            try socket.setOption(24, receiveQueue)  // ZMQ_RCVHWM
            try socket.setOption(12, 4096)  // ZMQ_RCVBUF
        }
        monitor = try socket.monitorHandshakes()
        try socket.connect(endpoint)
    }

    /// Sends without waiting (a DEALER whose handshake failed has no pipe, and a blocking send would hang the
    /// test past its time limit): throws `ZMQError` EAGAIN instead.
    func send(_ frames: [Data]) throws { try socket.send(frames, dontWait: true) }

    /// Messages received within `milliseconds` (or only the first, when `stopAfterFirst`).
    func receiveAll(withinMilliseconds milliseconds: Int, stopAfterFirst: Bool = false) -> [[Data]] {
        let deadline = Date(timeIntervalSinceNow: Double(milliseconds) / 1000)
        var messages: [[Data]] = []
        var poller = ZMQPoller()
        _ = poller.add(socket)
        while true {
            let left = Int(deadline.timeIntervalSinceNow * 1000)
            guard left > 0, let ready = try? poller.poll(timeoutMilliseconds: left) else { break }
            guard !ready.isEmpty else { continue }
            while let message = try? socket.receive(dontWait: true) {
                messages.append(message)
                if stopAfterFirst { return messages }
            }
        }
        return messages
    }

    /// The first failed handshake within `timeout` seconds (nil: none failed, or one succeeded).
    func awaitHandshakeFailure(timeout: Double) -> HandshakeEvent? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var poller = ZMQPoller()
        _ = poller.add(monitor)
        while true {
            let left = Int(deadline.timeIntervalSinceNow * 1000)
            guard left > 0, let ready = try? poller.poll(timeoutMilliseconds: left) else { return nil }
            guard !ready.isEmpty else { continue }
            while let frames = try? monitor.receive(dontWait: true) {
                guard let event = HandshakeEvent(monitorFrames: frames) else { continue }
                return event == .succeeded ? nil : event
            }
        }
    }

    func close() {
        monitor.close()
        socket.close()
    }

    deinit { close() }
}

/// A program run by a test with both output streams captured, and standard input held open (for
/// `--exit-with-stdin`) until it is terminated.
final class CapturedProgram: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let condition = NSCondition()
    private var outText = ""
    private var errText = ""
    private var ended = 0

    /// Starts `executable`; with `closeInput`, its standard input is closed at once (end of file).
    init(_ executable: URL, _ arguments: [String], closeInput: Bool = false) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in self?.append(handle, error: false) }
        errors.fileHandleForReading.readabilityHandler = { [weak self] handle in self?.append(handle, error: true) }
        try process.run()
        if closeInput { try? input.fileHandleForWriting.close() }
    }

    deinit { terminate() }

    private func append(_ handle: FileHandle, error: Bool) {
        let data = handle.availableData
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        if data.isEmpty {
            handle.readabilityHandler = nil
            ended += 1
            return
        }
        if error { errText += String(decoding: data, as: UTF8.self) } else { outText += String(decoding: data, as: UTF8.self) }
    }

    var out: String {
        condition.lock()
        defer { condition.unlock() }
        return outText
    }

    var err: String {
        condition.lock()
        defer { condition.unlock() }
        return errText
    }

    var isRunning: Bool { process.isRunning }

    func waitForOutput(containing marker: String, timeout: Double) -> Bool { wait(timeout) { $0.outText.contains(marker) } }

    func waitForError(containing marker: String, timeout: Double) -> Bool { wait(timeout) { $0.errText.contains(marker) } }

    private func wait(_ timeout: Double, _ holds: (CapturedProgram) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !holds(self) {
            // Woken by output; wakes at least every 50 ms to notice an exit.
            if Date() >= deadline { return false }
            _ = condition.wait(until: min(deadline, Date(timeIntervalSinceNow: 0.05)))
        }
        return true
    }

    /// Waits up to `timeout` seconds for the exit and for both streams to be read to their end; returns the
    /// status, or nil when still running.
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        guard !process.isRunning else { return nil }
        // The pipes may still hold the last lines: wait (briefly) until both handlers saw their end.
        _ = wait(1) { $0.ended == 2 }
        return process.terminationStatus
    }

    /// SIGTERM (by PID), then SIGKILL after 3 s; waits for the exit.
    func terminate() {
        try? input.fileHandleForWriting.close()
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date(timeIntervalSinceNow: 3)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
