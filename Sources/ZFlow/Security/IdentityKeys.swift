import Foundation
import ZFlowCore
import ZFlowZMQ

/// The keys a client or worker connects with under security: its identity (towards the scheduler and workers'
/// peer sockets) and the scheduler's public key.
struct IdentityKeys: Sendable {
    /// Who it is, as its key says.
    let principal: Principal
    /// The identity key pair it connects with.
    let identity: CurveKeyPair
    /// The scheduler's public key.
    let scheduler: String
    /// The directory they came from, named in errors.
    let directory: SecurityDirectory

    /// Reads an identity of `role` (for a client, an admin one too) and the scheduler's key from `directory`.
    init(directory: SecurityDirectory, role: Role) throws {
        (principal, identity) = try directory.identityKeys(for: role)
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
