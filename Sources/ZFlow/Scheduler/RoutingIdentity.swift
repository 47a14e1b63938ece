import Foundation

/// Converts ROUTER routing ids to the text ids the state machine uses, and back, without losing bytes.
///
/// ZFlow's own peers set UTF-8 identities (`worker:…`, `client:…`). A peer that sets none gets a binary id from
/// libzmq (a zero byte and four more); such ids are carried as `anon:` plus hex so that replies still reach them.
enum RoutingIdentity {
    /// The text form of a routing id.
    static func text(_ routing: Data) -> String {
        if routing.first != 0, let text = String(data: routing, encoding: .utf8) { return text }
        return "anon:" + routing.map { String(format: "%02x", $0) }.joined()
    }

    /// The routing id bytes of a text form made by `text(_:)`.
    static func bytes(_ text: String) -> Data {
        guard text.hasPrefix("anon:") else { return Data(text.utf8) }
        var bytes = Data()
        var digits = text.dropFirst(5).makeIterator()
        while let high = digits.next(), let low = digits.next(), let byte = UInt8(String([high, low]), radix: 16) {
            bytes.append(byte)
        }
        return bytes
    }
}
