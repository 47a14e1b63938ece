import CZMQShim
import Foundation

/// One connection attempt that a CURVE server socket asks its ZAP handler about (ZeroMQ RFC 27).
public struct ZAPRequest: Hashable, Sendable {
    /// The domain the server socket set (`makeCurveServer(domain:)`), telling which socket is asked about.
    public var domain: String
    /// The peer's IP address.
    public var address: String
    /// The security mechanism (`CURVE`; `NULL` or `PLAIN` are refused by the servers ZFlow makes).
    public var mechanism: String
    /// The client's public key in Z85, for CURVE.
    public var clientKey: String?

    /// Describes a request.
    public init(domain: String, address: String, mechanism: String, clientKey: String?) {
        self.domain = domain
        self.address = address
        self.mechanism = mechanism
        self.clientKey = clientKey
    }
}

/// What a ZAP handler answers.
public enum ZAPDecision: Hashable, Sendable {
    /// Let the peer in; every message it sends carries `userID` (`ZMQSocket.lastUserID`).
    case allow(userID: String)
    /// Refuse the peer, with a reason (the peer sees its handshake fail).
    case deny(reason: String)
}

/// Answers ZAP requests for every CURVE server socket of one context, on a thread of its own.
///
/// libzmq asks the handler bound to `inproc://zeromq.zap.01` in the server socket's context; without one, any
/// client that knows the server's public key gets in. Start it before binding a CURVE server, stop it after
/// closing that server.
public final class ZAPHandler: @unchecked Sendable {
    private let stopSignal = Mailbox<Void>()
    private let finished = DispatchSemaphore(value: 0)

    /// Binds the handler in `context` and starts answering with `decide`.
    ///
    /// - Throws: `ZMQError` when a handler is already bound in this context.
    public init(context: ZMQContext, decide: @escaping @Sendable (ZAPRequest) -> ZAPDecision) throws {
        let socket = try ZMQSocket(context, .rep)
        _ = try socket.bind("inproc://zeromq.zap.01")
        let box = UncheckedSocket(socket)
        let stopSignal = stopSignal
        let finished = finished
        let thread = Thread {
            defer { finished.signal() }
            Self.serve(box.socket, stop: stopSignal, decide: decide)
            box.socket.close()
        }
        thread.name = "zflow-zap"
        thread.start()
    }

    /// Stops answering and waits for the thread to end.
    public func stop() {
        stopSignal.post(())
        finished.wait()
        finished.signal()
    }

    private static func serve(_ socket: ZMQSocket, stop: Mailbox<Void>, decide: (ZAPRequest) -> ZAPDecision) {
        var poller = ZMQPoller()
        let socketIndex = poller.add(socket)
        let stopIndex = poller.add(fileDescriptor: stop.fileDescriptor)
        while true {
            guard let ready = try? poller.poll(timeoutMilliseconds: -1), !ready.contains(stopIndex) else { return }
            guard ready.contains(socketIndex), let frames = try? socket.receive(dontWait: true) else { continue }
            let reply = answer(frames, decide: decide)
            do {
                try socket.send(reply)
            } catch {
                return
            }
        }
    }

    /// The reply frames to one request: `1.0`, the request id, a status, its text, the user id, no metadata.
    static func answer(_ frames: [Data], decide: (ZAPRequest) -> ZAPDecision) -> [Data] {
        let text = { (index: Int) in index < frames.count ? String(decoding: frames[index], as: UTF8.self) : "" }
        let requestID = frames.count > 1 ? frames[1] : Data()
        guard frames.count >= 6, text(0) == "1.0" else {
            return [Data("1.0".utf8), requestID, Data("400".utf8), Data("malformed ZAP request".utf8), Data(), Data()]
        }
        let mechanism = text(5)
        let key = frames.count > 6 ? CurveKeyPair.z85(Array(frames[6])) : nil
        let decision = decide(ZAPRequest(domain: text(2), address: text(3), mechanism: mechanism, clientKey: key))
        switch decision {
        case .allow(let userID):
            return [Data("1.0".utf8), requestID, Data("200".utf8), Data("OK".utf8), Data(userID.utf8), Data()]
        case .deny(let reason):
            return [Data("1.0".utf8), requestID, Data("400".utf8), Data(reason.utf8), Data(), Data()]
        }
    }
}

/// Hands a socket made on one thread to the thread that will own it from then on.
private final class UncheckedSocket: @unchecked Sendable {
    let socket: ZMQSocket
    init(_ socket: ZMQSocket) { self.socket = socket }
}
