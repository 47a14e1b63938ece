import Foundation

/// Converts ROUTER routing ids to the text ids the state machine uses, and back, without losing bytes.
///
/// ZFlow's own peers set UTF-8 identities (`worker:…`, `client:…`). A peer that sets none gets a binary id from
/// libzmq (a zero byte and four more); such ids are carried as `anon:` plus hex so that replies still reach them.
/// An id that is itself text starting with `anon:` is carried in hex too, so that no peer can choose a text id
/// that reads as another peer's hex (and have that peer's replies routed to it): the mapping is one-to-one.
enum RoutingIdentity {
    /// The text form of a routing id.
    static func text(_ routing: Data) -> String {
        if routing.first != 0, let text = String(data: routing, encoding: .utf8), !text.hasPrefix(anonymousPrefix) {
            return text
        }
        return anonymousPrefix + routing.map { String(format: "%02x", $0) }.joined()
    }

    /// Marks a routing id carried in hex.
    static let anonymousPrefix = "anon:"

    /// The routing id bytes of a text form made by `text(_:)`.
    static func bytes(_ text: String) -> Data {
        guard text.hasPrefix(anonymousPrefix) else { return Data(text.utf8) }
        var bytes = Data()
        var digits = text.dropFirst(anonymousPrefix.count).makeIterator()
        while let high = digits.next(), let low = digits.next(), let byte = UInt8(String([high, low]), radix: 16) {
            bytes.append(byte)
        }
        return bytes
    }
}
