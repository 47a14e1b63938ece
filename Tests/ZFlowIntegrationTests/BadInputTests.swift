import Foundation
import Testing
import ZFlow
import ZFlowCore
import ZFlowWire
import ZFlowZMQ

/// Garbage on the scheduler's port gets an error reply, and everyone else keeps being served.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct BadInputTests {
    /// Sends `frames` from a raw DEALER and returns the decoded reply, waiting at most 5 s. A reply must carry the
    /// version of what was sent in frame 0 (an error to a peer of another version is written in its version, so
    /// that it can read it); it is decoded as if in ours.
    func exchange(_ address: String, identity: String?, _ frames: [Data]) throws -> [Result<SchedulerToClient, WireError>]? {
        let context = ZMQContext()
        let socket = try ZMQSocket(context, .dealer)
        if let identity { try socket.setIdentity(identity) }
        try socket.connect(address)
        try socket.send(frames)
        var poller = ZMQPoller()
        poller.add(socket)
        guard try !poller.poll(timeoutMilliseconds: 5000).isEmpty, var reply = try socket.receive(dontWait: true) else {
            return nil
        }
        if let sent = frames.first, sent.count == 3, sent.prefix(2) == Data([0x5A, 0x46]), !reply.isEmpty {
            #expect(reply[0] == sent, "the reply is written in the version the request was")
            reply[0] = Data(ProtocolVersion.signature)
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
            ("truncated: no header frame", [Data(ProtocolVersion.signature)], .malformed),
            ("truncated header", [Data(ProtocolVersion.signature), Data([0xDD, 0x00, 0x00, 0x00, 0x02, 0x81])], .malformed),
            ("valid MessagePack, wrong field type", [Data(ProtocolVersion.signature), Self.submitWithTasks("x")], .malformed),
            ("an op from a client never registered", OperationWriter.frames([ClientToScheduler.info(keys: [])]), .unknownClient),
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
        #expect(info.counters.messagesRejected == UInt64(cases.count))
        #expect(try await client.submit(StandardFunctions.inc, 1).result(timeout: .seconds(10)) == 2)
    }

    /// A header `[{op: "submit", tasks: <string>}]`: valid MessagePack, wrong type for `tasks`.
    static func submitWithTasks(_ text: String) -> Data {
        var bytes: [UInt8] = [0xDD, 0x00, 0x00, 0x00, 0x01, 0x82, 0xA2] + Array("op".utf8) + [0xA6] + Array("submit".utf8)
        bytes += [0xA5] + Array("tasks".utf8) + [0xA0 | UInt8(text.utf8.count)] + Array(text.utf8)
        return Data(bytes)
    }

    /// Garbage on a worker's peer port gets an error reply; the worker still serves results.
    @Test func garbageOnAWorkersPortIsAnsweredAndTheWorkerKeepsServing() async throws {
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let peer = try #require(try await client.schedulerInfo().workers.first?.address)
        let context = ZMQContext()
        let socket = try ZMQSocket(context, .dealer)
        defer { socket.close() }
        try socket.connect(peer)
        for frames in [[Data("XX".utf8), Data([0x90])], [Data(ProtocolVersion.signature), Data([0xC1])]] {
            try socket.send(frames)
            var poller = ZMQPoller()
            poller.add(socket)
            guard try !poller.poll(timeoutMilliseconds: 5000).isEmpty, let reply = try socket.receive(dontWait: true),
                case .success(.error(let violation))? = try OperationDecoder().decode(PeerReply.self, frames: reply).first
            else {
                Issue.record("no error reply from the worker to \(frames)")
                continue
            }
            #expect(violation.code == .malformed)
        }
        let value = try await client.submit(StandardFunctions.bytes, 10_000)
        #expect(try await value.result(timeout: .seconds(10)).count == 10_000, "fetched from the same worker")
    }

    /// 2,000 hostile messages (the corpus above, over and over, on one connection): every one is answered,
    /// the scheduler's memory stays flat, and it keeps serving.
    @Test func aFloodOfGarbageDoesNotGrowTheSchedulersMemory() async throws {
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        let corpus: [[Data]] = [
            [Data("XX".utf8), Data([0x90])], [Data(ProtocolVersion.signature), Data([0xDD, 0xFF, 0xFF, 0xFF, 0xFF])],
            [Data(ProtocolVersion.signature), Self.submitWithTasks(String(repeating: "y", count: 20))],
            OperationWriter.frames([ClientToScheduler.info(keys: [])]),
        ]
        let context = ZMQContext()
        let socket = try ZMQSocket(context, .dealer)
        defer { socket.close() }
        try socket.setIdentity("client:flood")
        try socket.connect(cluster.address)
        func flood(_ count: Int) throws -> Int {
            var answered = 0
            var poller = ZMQPoller()
            poller.add(socket)
            for index in 0..<count {
                try socket.send(corpus[index % corpus.count])
                guard try !poller.poll(timeoutMilliseconds: 5000).isEmpty, try socket.receive(dontWait: true) != nil else { break }
                answered += 1
            }
            return answered
        }
        #expect(try flood(500) == 500)
        let warm = Self.residentKiB(cluster.scheduler.pid)
        #expect(try flood(1500) == 1500)
        let after = Self.residentKiB(cluster.scheduler.pid)
        #expect(after < warm + 4096, "scheduler RSS \(warm) KiB → \(after) KiB after 1,500 more hostile messages")
        #expect(try await client.submit(StandardFunctions.inc, 1).result(timeout: .seconds(10)) == 2)
    }

    /// A process's resident memory in KiB (VmRSS in /proc).
    static func residentKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
