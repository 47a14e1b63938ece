import Testing
import ZFlowCore
import ZFlowScheduling

@Suite("SortedSmallSet")
struct SortedSmallSetTests {
    @Test func keepsUniqueElementsInAscendingOrder() {
        var set: SortedSmallSet<ClientID> = []
        #expect(set.isEmpty)
        for client in ["c3", "c1", "c2", "c1", "c3"] as [ClientID] { set.insert(client) }
        #expect(Array(set) == ["c1", "c2", "c3"])
        #expect(set.count == 3 && set.contains("c2") && !set.contains("c4"))
        set.remove("c2")
        set.remove("c9")
        #expect(Array(set) == ["c1", "c3"])
        #expect(set == ["c3", "c1"])
    }
}
