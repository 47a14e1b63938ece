import Testing
import ZFlowCore
import ZFlowScheduling
import ZFlowTestKit

/// Valid messages with extreme values (0, -1, Int.min, Int.max, 2^64-1, NaN, infinities, huge and empty strings,
/// huge arrays, unknown keys) for every operation, fed to the pure state machines with their invariants checked
/// after every step: none may trap. `scripts/fuzz.sh` runs the same for far longer (`zflow-extreme`).
@Suite("Extreme values against the state machines")
struct ExtremeMessageTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func theSchedulerSurvivesExtremeMessages(seed: UInt64) {
        #expect(ExtremeRun.scheduler(seed: seed, steps: 1500) > 0)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func theWorkerSurvivesExtremeMessages(seed: UInt64) {
        #expect(ExtremeRun.worker(seed: seed, steps: 1500) > 0)
    }

    @Test func theGeneratorIsRepeatable() {
        var first = ExtremeMessages(seed: 7)
        var second = ExtremeMessages(seed: 7)
        for _ in 0..<100 { #expect(first.clientToScheduler() == second.clientToScheduler()) }
    }
}
