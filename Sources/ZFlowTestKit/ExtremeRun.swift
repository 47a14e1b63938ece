import ZFlowCore
import ZFlowScheduling

/// Feeds the state machines long runs of `ExtremeMessages`, checking their invariants after every step: a trap
/// or a broken invariant stops the process, which is the finding.
public enum ExtremeRun {
    /// Who a scheduler's messages may come from: the local principals and keyed ones of every role.
    static let principals = [
        Principal.localWorker, Principal.localAdmin, Principal(.worker, "worker"), Principal(.client, "alice"),
        Principal(.admin, "ops"),
    ]

    /// Runs `steps` events through a scheduler with two workers and two clients registered.
    ///
    /// - Returns: the actions it produced, counted (so a caller can see the run did something).
    @discardableResult
    public static func scheduler(seed: UInt64, steps: Int) -> Int {
        var messages = ExtremeMessages(seed: seed)
        var h = SchedulerHarness()
        h.registerWorker("w0", nthreads: 2, functions: ["inc", "add"])
        h.registerWorker("w1", functions: ["inc"])
        h.registerClient("c0")
        h.registerClient("c1", as: Principal(.client, "alice"))
        var produced = 0
        for _ in 0..<steps {
            switch messages.below(10) {
            case 0..<4:
                let message = messages.workerToScheduler()
                produced += h.fromWorker(messages.workerName(), message, as: messages.pick(principals)).count
            case 4..<8:
                let client = ClientID("c\(messages.below(3))")
                produced += h.fromClient(client, messages.clientToScheduler(), as: messages.pick(principals)).count
            case 8:
                h.now = h.now + messages.pick([Interval.milliseconds(0), .milliseconds(1), .seconds(1), .seconds(100)])
                produced += h.tick().count
            default:
                let routing = messages.pick([RoutingID.worker(messages.workerName()), RoutingID("c\(messages.below(3))")])
                produced += h.handle(.unreachable(routing, now: h.now)).count
            }
        }
        return produced
    }

    /// Runs `steps` events through a two-thread worker.
    ///
    /// - Returns: the actions it produced, counted.
    @discardableResult
    public static func worker(seed: UInt64, steps: Int) -> Int {
        var messages = ExtremeMessages(seed: seed)
        var h = WorkerHarness(nthreads: 2)
        var produced = 0
        for _ in 0..<steps {
            let event: WorkerEvent
            switch messages.below(12) {
            case 0..<3:
                switch messages.schedulerToWorker() {
                case .computeTask(let assignment): event = .computeTask(assignment, now: h.now)
                case .freeKeys(let keys): event = .freeKeys(keys, now: h.now)
                case .stealRequest(let key, let run): event = .stealRequest(key, run, now: h.now)
                case .acquireReplicas(let locations): event = .acquireReplicas(locations, now: h.now)
                default: event = .forgotten(now: h.now)
                }
            case 3, 4:
                let outcome: TaskOutcome =
                    messages.below(2) == 0
                    ? .success(nbytes: messages.uint(), duration: messages.interval()) : .failure(messages.remoteError())
                event = .executed(messages.key(), RunID(messages.uint() % 4 == 0 ? messages.uint() : UInt64(messages.below(8))), outcome, now: h.now)
            case 5, 6:
                event = .fetched(
                    from: messages.address(), found: messages.keySizes(), missing: messages.array { $0.key() }, now: h.now)
            case 7: event = .dataStored(messages.keySizes(), now: h.now)
            case 8: event = .inputsLost(messages.key(), RunID(UInt64(messages.below(8))), lost: messages.array { $0.key() }, now: h.now)
            case 9: event = .paused(messages.below(2) == 0, now: h.now)
            default:
                h.now = h.now + messages.pick([Interval.milliseconds(0), .milliseconds(1), .seconds(1), .seconds(1000)])
                event = .tick(now: h.now)
            }
            produced += h.handle(event).count
        }
        return produced
    }
}
