import Foundation
import Testing
import ZFlowZMQ

/// CURVE and ZAP on real sockets over loopback TCP: who gets in, what the server learns of them, and what a
/// refused client is told.
@Suite struct CurveTests {
    /// A CURVE server ROUTER on loopback whose ZAP handler lets in only `allowed` (user id `role:name`).
    final class Server {
        let context = ZMQContext()
        let keys: CurveKeyPair
        let zap: ZAPHandler
        let router: ZMQSocket
        let endpoint: String

        init(allowed: [String: String]) throws {
            keys = try CurveKeyPair.generate()
            zap = try ZAPHandler(context: context) { request in
                guard request.mechanism == "CURVE", let key = request.clientKey, let user = allowed[key] else {
                    return .deny(reason: "unknown key")
                }
                return .allow(userID: user)
            }
            router = try ZMQSocket(context, .router)
            try router.makeCurveServer(secretKey: keys.secretKey, domain: "test")
            endpoint = try router.bind("tcp://127.0.0.1:*")
        }

        deinit {
            router.close()
            zap.stop()
        }
    }

    /// Waits up to 2 s for one message.
    func receive(_ socket: ZMQSocket) throws -> [Data]? {
        var poller = ZMQPoller()
        poller.add(socket)
        guard try poller.poll(timeoutMilliseconds: 2000) == [0] else { return nil }
        return try socket.receive(dontWait: true)
    }

    /// Waits up to 2 s for a handshake event on `monitor`.
    func handshake(_ monitor: ZMQSocket) throws -> HandshakeEvent? {
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline {
            guard let frames = try receive(monitor) else { return nil }
            if let event = HandshakeEvent(monitorFrames: frames) { return event }
        }
        return nil
    }

    @Test func keyPairsAreZ85AndDeriveTheirPublicKey() throws {
        let pair = try CurveKeyPair.generate()
        #expect(CurveKeyPair.isKey(pair.publicKey) && CurveKeyPair.isKey(pair.secretKey))
        #expect(try CurveKeyPair(secretKey: pair.secretKey) == pair)
        #expect(!CurveKeyPair.isKey("short") && !CurveKeyPair.isKey(String(repeating: "~", count: 40)))
        #expect(throws: ZMQError.self) { try CurveKeyPair(secretKey: "not a key") }
    }

    @Test func anAllowedKeyGetsInAndCarriesItsUserID() throws {
        let clientKeys = try CurveKeyPair.generate()
        let server = try Server(allowed: [clientKeys.publicKey: "client:alice"])
        let dealer = try ZMQSocket(server.context, .dealer)
        try dealer.makeCurveClient(serverKey: server.keys.publicKey, keys: clientKeys)
        let monitor = try dealer.monitorHandshakes()
        try dealer.connect(server.endpoint)
        try dealer.send([Data("hello".utf8)])
        let frames = try #require(try receive(server.router))
        #expect(frames.last == Data("hello".utf8))
        #expect(server.router.lastUserID == "client:alice")
        #expect(try handshake(monitor) == .succeeded)
    }

    @Test func anUnlistedKeyIsRefusedAndTheClientLearnsWhy() throws {
        let server = try Server(allowed: [:])
        let dealer = try ZMQSocket(server.context, .dealer)
        try dealer.makeCurveClient(serverKey: server.keys.publicKey, keys: try CurveKeyPair.generate())
        let monitor = try dealer.monitorHandshakes()
        try dealer.connect(server.endpoint)
        try dealer.send([Data("let me in".utf8)], dontWait: true)
        #expect(try handshake(monitor) == .refusedByServer)
        var poller = ZMQPoller()
        poller.add(server.router)
        #expect(try poller.poll(timeoutMilliseconds: 200).isEmpty)
    }

    @Test func aPlaintextClientOfACurveServerFailsItsHandshake() throws {
        let server = try Server(allowed: [:])
        let dealer = try ZMQSocket(ZMQContext(), .dealer)
        let monitor = try dealer.monitorHandshakes()
        try dealer.connect(server.endpoint)
        try dealer.send([Data("plaintext".utf8)], dontWait: true)
        let event = try handshake(monitor)
        #expect(event != nil && event != .succeeded, "a plaintext client never completes a CURVE handshake")
    }

    @Test func aClientWithTheWrongServerKeyFailsItsHandshake() throws {
        let clientKeys = try CurveKeyPair.generate()
        let server = try Server(allowed: [clientKeys.publicKey: "client:alice"])
        let dealer = try ZMQSocket(server.context, .dealer)
        try dealer.makeCurveClient(serverKey: try CurveKeyPair.generate().publicKey, keys: clientKeys)
        let monitor = try dealer.monitorHandshakes()
        try dealer.connect(server.endpoint)
        try dealer.send([Data("hello".utf8)], dontWait: true)
        let event = try handshake(monitor)
        #expect(event != nil && event != .succeeded)
    }
}

@Suite struct HandshakeFailuresTests {
    /// The verdicts after each event, in order.
    func verdicts(_ events: [HandshakeEvent], limit: Int = 3) -> [Bool] {
        var verdict = HandshakeFailures(limit: limit)
        return events.map { verdict.record($0) }
    }

    @Test func aRefusalOrAMismatchIsFinalAtOnce() {
        #expect(verdicts([.refusedByServer]) == [true])
        #expect(verdicts([.protocolError(code: 0x1100_0002)]) == [true])
    }

    @Test func failuresWithoutDetailAreFinalOnlyInARow() {
        // A success in between means the connection merely broke.
        #expect(verdicts([.failed, .failed, .succeeded, .failed, .protocolError(code: 1), .failed]) == [false, false, false, false, false, true])
    }
}
