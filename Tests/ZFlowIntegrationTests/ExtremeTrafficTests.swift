import Foundation
import Testing
import ZFlow
import ZFlowCore
import ZFlowTestKit
import ZFlowWire
import ZFlowZMQ

/// Valid messages with extreme values, sent by peers holding valid keys to a secured cluster of real processes,
/// and a client of a cluster with 1,500 registered workers.
@Suite("Extreme traffic on real processes", .serialized, .timeLimit(.minutes(1)))
struct ExtremeTrafficTests {
    /// A CURVE DEALER to `endpoint` with the identity `role` of `directory`, routing id `identity`.
    static func securedDealer(
        _ context: ZMQContext, _ endpoint: String, serverKey: String, _ directory: SecurityDirectory, as role: Role,
        identity: String
    ) throws -> ZMQSocket {
        let socket = try ZMQSocket(context, .dealer)
        let (_, keys) = try directory.identityKeys(for: role)
        try socket.makeCurveClient(serverKey: serverKey, keys: keys)
        try socket.setIdentity(identity)
        try socket.connect(endpoint)
        return socket
    }

    @Test func keyHoldersSendingExtremeValuesStopNoProcess() async throws {
        let directory = try SecurityTests.makeSecurityDirectory()
        defer { SecurityTests.remove(directory) }
        let cluster = try await TestCluster(workers: 1, heartbeatMs: 100, security: directory)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let info = try await client.schedulerInfo()
        let peer = try #require(PeerEndpoint(PeerAddress(info.workers[0].address)))
        let schedulerKey = try directory.schedulerPublicKey()
        let context = ZMQContext()
        let worker = try Self.securedDealer(context, cluster.address, serverKey: schedulerKey, directory, as: .worker, identity: "worker:extreme")
        let intruder = try Self.securedDealer(context, cluster.address, serverKey: schedulerKey, directory, as: .client, identity: "client:extreme")
        let asker = try Self.securedDealer(
            context, peer.endpoint, serverKey: try #require(peer.serverKey), directory, as: .client, identity: "client:asker")
        defer { for socket in [worker, intruder, asker] { socket.close() } }
        for seed in 1...3 as ClosedRange<UInt64> {
            #expect(ExtremeTraffic.send(150, .worker, on: worker, seed: seed) > 0)
            #expect(ExtremeTraffic.send(150, .client, on: intruder, seed: seed) > 0)
            #expect(ExtremeTraffic.send(100, .peer, on: asker, seed: seed) > 0)
        }
        // Evidence that they arrived (the sockets queue them until their handshakes finish): the scheduler refused
        // many, and the worker answers the last request sent to it.
        let refused = try await cluster.waitForInfo(client, "extreme messages refused") { $0.counters.messagesRejected >= 100 }
        #expect(refused.counters.messagesRejected >= 100)
        try asker.send(OperationWriter.frames([PeerRequest.getData(["nothing"])]), dontWait: true)
        var poller = ZMQPoller()
        poller.add(asker)
        var answered = false
        let deadline = Date(timeIntervalSinceNow: 10)
        while !answered && Date() < deadline {
            guard try !poller.poll(timeoutMilliseconds: 200).isEmpty, let frames = try asker.receive(dontWait: true) else { continue }
            if case .success(.data(_, let missing))? = try? OperationDecoder().decode(PeerReply.self, frames: frames).last {
                answered = missing.contains("nothing")
            }
        }
        #expect(answered, "the worker still answers the peer that sent it extreme requests")
        // Everyone else is still served, by every process.
        let total = try await client.gather(try await client.map(StandardFunctions.inc, Array(0..<100)), timeout: .seconds(20))
        #expect(total.reduce(0, +) == 5050)
        SecurityTests.expectAlive(cluster)
    }

    @Test func aClientOfAClusterWith1500WorkersStillWorks() async throws {
        let cluster = try await TestCluster(workers: 1, schedulerArguments: ["--max-workers", "2000"])
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        // 1,500 workers that offer no function and whose peer port answers nothing, from a process of their own
        // (their sockets would crowd this one's descriptors, and other tests start processes meanwhile).
        let fakes = try ChildProcess(
            executable: TestCluster.executable("zflow-extreme"), arguments: ["--fake-workers", "1500", cluster.address])
        defer { fakes.terminate() }
        #expect(fakes.waitForLine(containing: "registered 1500", timeout: 20) != nil)
        let info = try await cluster.waitForInfo(client, "1,501 workers", timeout: 30) { $0.workers.count == 1501 }
        #expect(info.workers.count == 1501)
        // A new client (the CLI: its own process) connects, runs tasks on the one real worker and gathers them.
        let result = try CLITests().zflow(["map", "--scheduler", cluster.address, "--timeout", "20", "--input", "-", "inc"], stdin: (1...50).map(String.init).joined(separator: "\n") + "\n")
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.split(separator: "\n").count == 50)
    }
}
