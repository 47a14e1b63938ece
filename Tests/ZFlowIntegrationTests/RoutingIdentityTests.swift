import Foundation
import Testing

@testable import ZFlow

/// Routing ids to the text ids of the state machines and back: every id round-trips, and no two ids share a text.
@Suite("Routing identity")
struct RoutingIdentityTests {
    @Test func textIdsStayTextAndBinaryIdsBecomeHex() {
        let client = Data("client:3f2a".utf8)
        #expect(RoutingIdentity.text(client) == "client:3f2a")
        #expect(RoutingIdentity.bytes(RoutingIdentity.text(client)) == client)
        let made = Data([0x00, 0x6b, 0x8b, 0x45, 0x67])  // what libzmq gives a peer that sets no identity
        #expect(RoutingIdentity.text(made) == "anon:006b8b4567")
        #expect(RoutingIdentity.bytes(RoutingIdentity.text(made)) == made)
    }

    /// A peer that names itself like another peer's hex form gets a text of its own, so replies meant for the
    /// other peer never reach it.
    @Test func aTextIdThatLooksLikeHexIsNotConfusedWithTheBinaryPeer() {
        let made = Data([0x00, 0x6b, 0x8b, 0x45, 0x67])
        let impostor = Data("anon:006b8b4567".utf8)
        #expect(RoutingIdentity.text(impostor) != RoutingIdentity.text(made))
        #expect(RoutingIdentity.bytes(RoutingIdentity.text(impostor)) == impostor)
        #expect(RoutingIdentity.bytes(RoutingIdentity.text(made)) == made)
    }
}
