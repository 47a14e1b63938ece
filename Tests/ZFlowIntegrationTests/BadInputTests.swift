import Foundation
import Testing
import ZFlow
import ZFlowCore
import ZFlowWire
import ZFlowZMQ

/// Garbage on the scheduler's port gets an error reply, and everyone else keeps being served.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct BadInputTests {
    /// Sends `frames` from a raw DEALER and returns the decoded reply, waiting at most 5 s.
    func exchange(_ address: String, identity: String?, _ frames: [Data]) throws -> [Result<SchedulerToClient, WireError>]? {
        let context = ZMQContext()
        let socket = try ZMQSocket(context, .dealer)
        if let identity { try socket.setIdentity(identity) }
        try socket.connect(address)
        try socket.send(frames)
        var poller = ZMQPoller()
        poller.add(socket)
        guard try !poller.poll(timeoutMilliseconds: 5000).isEmpty, let reply = try socket.receive(dontWait: true) else {
            return nil
        }
        return try OperationDecoder().decode(SchedulerToClient.self, frames: reply)
    }

    @Test func malformedMessagesGetPreciseErrorsAndTheClusterKeepsServing() async throws {
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let cases: [(String, [Data], ErrorCode)] = [
            ("bad signature", [Data("XX".utf8), Data([0x90])], .malformed),
            ("garbage header", [Data(ProtocolVersion.signature), Data([0xC1, 0xFF, 0x00])], .malformed),
            ("hostile length", [Data(ProtocolVersion.signature), Data([0xDD, 0xFF, 0xFF, 0xFF, 0xFF])], .malformed),
            ("other version", [Data([0x5A, 0x46, 0x09]), Data([0x90])], .versionMismatch),
            (
                "unknown op", OperationWriter.frames([PeerRequest.getData(["x"])]), .unknownOp
            ),
        ]
        for (index, (what, frames, code)) in cases.enumerated() {
            let reply = try exchange(cluster.address, identity: "client:raw-\(index)", frames)
            guard case .success(.error(let violation))? = reply?.first else {
                Issue.record("\(what): expected an error reply, got \(String(describing: reply))")
                continue
            }
            #expect(violation.code == code, "\(what): \(violation)")
        }
        let anonymous = try exchange(cluster.address, identity: nil, [Data("XX".utf8), Data([0x90])])
        guard case .success(.error(let violation))? = anonymous?.first else {
            Issue.record("a peer without an identity gets an answer too, got \(String(describing: anonymous))")
            return
        }
        #expect(violation.code == .malformed)
        let info = try await client.schedulerInfo()
        #expect(info.counters.messagesRejected == UInt64(cases.count + 1))
        #expect(try await client.submit(StandardFunctions.inc, 1).result(timeout: .seconds(10)) == 2)
    }
}
