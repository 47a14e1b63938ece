import Foundation
import ZFlow
import ZFlowScheduling

/// The pure state machines alone, without sockets or codecs: the ceiling the shells can reach.
extension Benchmarks {
    /// Submits `tasks` independent tasks to a `SchedulerState` with one worker, finishes them, releases them.
    func schedulerCore(tasks count: Int) -> BenchResult {
        var samples: [Double] = []
        let now = Instant(nanoseconds: 1)
        for _ in 0..<runs {
            var state = SchedulerState()
            let routing = RoutingID("worker:w0:bench")
            _ = state.handle(
                .fromWorker(
                    routing,
                    .register(
                        WorkerRegistration(
                            name: "w0", nthreads: 1, functions: ["inc"], address: PeerAddress("tcp://127.0.0.1:1"),
                            heartbeatInterval: .seconds(60))), principal: .localWorker, now: now))
            _ = state.handle(.fromClient("client:bench", .register(version: ProtocolVersion.current), principal: .localAdmin, now: now))
            let specs = (0..<count).map {
                TaskSpec(key: TaskKey("inc-bench-\($0)"), function: "inc", arguments: Payload([0x91, 0x01]))
            }
            let start = ContinuousClock.now
            // Queuing hands out root tasks as earlier ones finish: each finish may assign more.
            var runs: [(TaskKey, RunID)] = []
            runs.reserveCapacity(count)
            func collect(_ actions: [SchedulerAction]) {
                for case .toWorker(_, .computeTask(let assignment)) in actions { runs.append((assignment.key, assignment.runID)) }
            }
            collect(state.handle(.fromClient("client:bench", .submit(specs), principal: .localAdmin, now: now)))
            var next = 0
            while next < runs.count {
                let (key, run) = runs[next]
                next += 1
                collect(
                    state.handle(
                        .fromWorker(
                            routing, .taskFinished(key: key, runID: run, nbytes: 1, duration: Interval(nanoseconds: 1000)),
                            principal: .localWorker, now: now)))
            }
            _ = state.handle(.fromClient("client:bench", .release(specs.map(\.key)), principal: .localAdmin, now: now))
            let elapsed = ContinuousClock.now - start
            samples.append(Double(count) / elapsed.seconds)
            precondition(runs.count == count && state.tasks.isEmpty, "the core did not run every task")
        }
        return BenchResult(
            name: "scheduler-core", detail: "SchedulerState alone: submit, finish and release \(count) tasks",
            unit: "tasks/s", samples: samples)
    }
}
