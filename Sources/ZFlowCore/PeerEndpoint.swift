/// A worker's peer address taken apart: where to connect, and the CURVE public key of the socket there.
///
/// Under security a worker's peer ROUTER is a CURVE server with a key pair of its own; its public key travels
/// with its address wherever the address names where data lives, as `tcp://HOST:PORT|KEY` (`|` is neither in
/// an endpoint nor in the Z85 alphabet). Without security the address is the endpoint alone.
public struct PeerEndpoint: Hashable, Sendable {
    /// The ZeroMQ endpoint, e.g. `tcp://127.0.0.1:40123`.
    public var endpoint: String
    /// The Z85 public key of the CURVE server there; nil without security.
    public var serverKey: String?

    /// The longest address accepted.
    public static let maximumLength = 512

    /// Parses an address; nil unless it is `tcp://…` or `ipc://…`, at most `maximumLength` bytes, with a
    /// well-formed key after `|` if any.
    public init?(_ address: PeerAddress) {
        let text = address.rawValue
        guard text.utf8.count <= Self.maximumLength else { return nil }
        let parts = text.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
        let endpoint = String(parts[0])
        guard endpoint.hasPrefix("tcp://") || endpoint.hasPrefix("ipc://"), endpoint.utf8.count > 6 else { return nil }
        if parts.count == 2 {
            guard Self.isCurveKey(String(parts[1])) else { return nil }
            serverKey = String(parts[1])
        }
        self.endpoint = endpoint
    }

    /// Names an endpoint and its server key.
    public init(endpoint: String, serverKey: String?) {
        self.endpoint = endpoint
        self.serverKey = serverKey
    }

    /// The address as it travels: `endpoint`, then `|KEY` under security.
    public var address: PeerAddress { PeerAddress(serverKey.map { "\(endpoint)|\($0)" } ?? endpoint) }

    /// Whether `text` is a Z85-encoded 32-byte key: 40 characters of the Z85 alphabet (ZeroMQ RFC 32).
    public static func isCurveKey(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { z85Alphabet.contains($0) }
    }

    private static let z85Alphabet = Set(
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)
}
