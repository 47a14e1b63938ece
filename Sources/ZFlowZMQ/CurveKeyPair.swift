import CZMQShim
import ZFlowCore

/// A CurveZMQ key pair in Z85 text: 40 printable characters each.
public struct CurveKeyPair: Hashable, Sendable {
    /// The public key, given to peers.
    public let publicKey: String
    /// The secret key, kept private (files holding it are mode 0600).
    public let secretKey: String

    /// Length of a Z85-encoded 32-byte key.
    public static let keyLength = 40

    /// A new random key pair.
    ///
    /// - Throws: `ZMQError` when libzmq was built without CURVE.
    public static func generate() throws(ZMQError) -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: keyLength + 1)
        var secretKey = [CChar](repeating: 0, count: keyLength + 1)
        try zmqCall("zmq_curve_keypair") { zmq_curve_keypair(&publicKey, &secretKey) }
        return CurveKeyPair(publicKey: String(cString: publicKey), secretKey: String(cString: secretKey))
    }

    /// The pair of a secret key, its public key derived from it.
    ///
    /// - Throws: `ZMQError` (`EINVAL`) when `secretKey` is not a Z85 key.
    public init(secretKey: String) throws(ZMQError) {
        guard Self.isKey(secretKey) else { throw ZMQError(function: "zmq_curve_public", errno: EINVAL) }
        var publicKey = [CChar](repeating: 0, count: Self.keyLength + 1)
        try zmqCall("zmq_curve_public") { zmq_curve_public(&publicKey, secretKey) }
        self.init(publicKey: String(cString: publicKey), secretKey: secretKey)
    }

    private init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Whether `text` is a Z85-encoded 32-byte key (40 characters of the Z85 alphabet).
    public static func isKey(_ text: String) -> Bool { PeerEndpoint.isCurveKey(text) }

    /// The Z85 text of a 32-byte binary key (as a ZAP request carries it).
    static func z85(_ binary: [UInt8]) -> String? {
        guard binary.count == 32 else { return nil }
        var text = [CChar](repeating: 0, count: keyLength + 1)
        guard zmq_z85_encode(&text, binary, binary.count) != nil else { return nil }
        return String(cString: text)
    }
}

extension ZMQSocket {
    /// Makes this socket a CURVE server with `secretKey`; connections are checked by the ZAP handler of its
    /// context (`ZAPHandler`) under `domain`. Call before `bind`.
    public func makeCurveServer(secretKey: String, domain: String) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVER, 1)
        try setTextOption(ZMQ_CURVE_SECRETKEY, secretKey)
        try setTextOption(ZMQ_ZAP_DOMAIN, domain)
        readsUserID = true
    }

    /// Makes this socket a CURVE client of the server whose public key is `serverKey`, presenting `keys`.
    /// Call before `connect`.
    public func makeCurveClient(serverKey: String, keys: CurveKeyPair) throws(ZMQError) {
        try setTextOption(ZMQ_CURVE_SERVERKEY, serverKey)
        try setTextOption(ZMQ_CURVE_PUBLICKEY, keys.publicKey)
        try setTextOption(ZMQ_CURVE_SECRETKEY, keys.secretKey)
    }

    /// Sets an option whose value is text (keys, domains).
    func setTextOption(_ option: Int32, _ text: String) throws(ZMQError) {
        let bytes = Array(text.utf8)
        try zmqCall("zmq_setsockopt") { zmq_setsockopt(handle, option, bytes, bytes.count) }
    }
}
