import CZMQShim
import Foundation

/// What a socket monitor reports about a connection's security handshake.
public enum HandshakeEvent: Hashable, Sendable {
    /// The handshake completed: the peer accepted this socket's keys.
    case succeeded
    /// The server's ZAP handler refused this socket's key.
    case refusedByServer
    /// The two ends do not speak the same security (one CURVE, one not; or a wrong server key).
    case protocolError(code: UInt32)
    /// The handshake failed without more detail.
    case failed

    /// One end speaks CURVE and the other does not.
    public var isMechanismMismatch: Bool {
        if case .protocolError(let code) = self { return code == UInt32(ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) }
        return false
    }

    /// The event a monitor message (frame 0: event number and value, ZeroMQ `zmq_socket_monitor`) reports;
    /// nil for events other than handshakes.
    public init?(monitorFrames frames: [Data]) {
        guard let first = frames.first, first.count >= 6 else { return nil }
        let bytes = [UInt8](first)
        let event = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        let value = UInt32(bytes[2]) | UInt32(bytes[3]) << 8 | UInt32(bytes[4]) << 16 | UInt32(bytes[5]) << 24
        switch Int32(event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: self = .succeeded
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: self = .refusedByServer
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: self = .protocolError(code: value)
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: self = .failed
        default: return nil
        }
    }
}

extension ZMQSocket {
    /// Starts reporting this socket's handshake events and returns the socket that receives them (poll it with
    /// the others; decode each message with `HandshakeEvent(monitorFrames:)`). Call before `connect`.
    public func monitorHandshakes() throws(ZMQError) -> ZMQSocket {
        let endpoint = "inproc://zflow-monitor-\(UInt(bitPattern: handle))"
        let events =
            ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
            | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
        try zmqCall("zmq_socket_monitor") { zmq_socket_monitor(handle, endpoint, events) }
        let monitor = try ZMQSocket(context, .pair)
        try monitor.connect(endpoint)
        return monitor
    }
}

/// Decides when failed security handshakes mean the peer refuses this side for good, rather than a connection
/// that broke: a refused key or a security mismatch at once; a failure without detail (which is also what a
/// wrong server key gives) after `limit` in a row without a success between.
public struct HandshakeFailures: Sendable, Equatable {
    /// Failures without detail in a row that count as a refusal.
    public let limit: Int
    private var inARow = 0

    /// A verdict that waits for `limit` failures without detail.
    public init(limit: Int = 3) { self.limit = limit }

    /// Records one event; returns true when the handshakes are refused for good.
    public mutating func record(_ event: HandshakeEvent) -> Bool {
        switch event {
        case .succeeded:
            inARow = 0
            return false
        case .refusedByServer:
            return true
        case .protocolError, .failed:
            if event.isMechanismMismatch { return true }
            inARow += 1
            return inARow >= limit
        }
    }
}
