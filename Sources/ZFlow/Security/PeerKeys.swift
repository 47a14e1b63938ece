import Foundation
import ZFlowCore
import ZFlowZMQ

/// The keys a worker uses under security: its identity (towards the scheduler and other workers' peer
/// sockets), the scheduler's public key, and a key pair of its own peer socket, made anew at each start.
struct PeerKeys: Sendable {
    /// Who this worker is, as its identity key says.
    let principal: Principal
    /// The identity key pair this worker connects with.
    let identity: CurveKeyPair
    /// The scheduler's public key.
    let scheduler: String
    /// The peer socket's key pair; its public key travels with the peer address.
    let peerServer: CurveKeyPair

    /// Reads a worker identity and the scheduler's key from `directory`, and makes a peer key pair.
    init(directory: SecurityDirectory) throws {
        (principal, identity) = try directory.identityKeys(for: .worker)
        scheduler = try directory.schedulerPublicKey()
        peerServer = try CurveKeyPair.generate()
    }
}

/// The keys a client uses under security: its identity and the scheduler's public key.
struct ClientKeys: Sendable {
    /// Who this client is, as its key says.
    let principal: Principal
    /// The identity key pair it connects with, to the scheduler and to workers.
    let identity: CurveKeyPair
    /// The scheduler's public key.
    let scheduler: String
    /// The directory they came from, named in errors.
    let directory: SecurityDirectory

    /// Reads a client (or admin) identity and the scheduler's key from `directory`.
    init(directory: SecurityDirectory) throws {
        (principal, identity) = try directory.identityKeys(for: .client)
        scheduler = try directory.schedulerPublicKey()
        self.directory = directory
    }
}

/// A peer address reached with the wrong security: a CURVE address without keys here, or the reverse.
struct PeerSecurityMismatch: Error, CustomStringConvertible {
    let address: PeerAddress
    let secure: Bool
    var description: String {
        secure
            ? "peer \(address.rawValue) has no CURVE key in its address, but this side uses security"
            : "peer \(address.rawValue) uses CURVE security; connect with --security DIR"
    }
}

extension ZMQSocket {
    /// A DEALER connected to a worker's peer socket at `address`: a CURVE client of the key the address carries
    /// when `keys` are given, plaintext otherwise.
    ///
    /// - Throws: `PeerSecurityMismatch` when the address and `keys` disagree about security, `ZMQError` when
    ///   the address is malformed.
    static func connectedToPeer(
        _ address: PeerAddress, context: ZMQContext, keys: CurveKeyPair?, identity: String? = nil,
        maxMessageSize: Int64? = nil
    ) throws -> ZMQSocket {
        guard let peer = PeerEndpoint(address) else { throw ZMQError(function: "zmq_connect(\(address.rawValue.prefix(80)))", errno: EINVAL) }
        guard (peer.serverKey != nil) == (keys != nil) else { throw PeerSecurityMismatch(address: address, secure: keys != nil) }
        let socket = try ZMQSocket(context, .dealer)
        try socket.configureForZFlow(maxMessageSize: maxMessageSize)
        if let serverKey = peer.serverKey, let keys { try socket.makeCurveClient(serverKey: serverKey, keys: keys) }
        if let identity { try socket.setIdentity(identity) }
        try socket.connect(peer.endpoint)
        return socket
    }
}
