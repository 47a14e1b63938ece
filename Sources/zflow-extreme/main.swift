// Long runs of valid messages with extreme values (ZFlowTestKit's ExtremeMessages): against both state machines,
// their invariants checked after every step, and against a local cluster of real processes, which must keep
// serving. scripts/fuzz.sh runs it; the test suite runs the same in short.
//
//     zflow-extreme [--seeds N] [--steps N] [--processes]
//     zflow-extreme --fake-workers N ADDRESS    N workers that offer nothing, until standard input closes
import Foundation
import ZFlow
import ZFlowCore
import ZFlowTestKit
import ZFlowZMQ

var seeds: UInt64 = 20
var steps = 20_000
var processes = false
var arguments = CommandLine.arguments.dropFirst()
if arguments.first == "--fake-workers", arguments.count == 3, let count = Int(arguments[arguments.startIndex + 1]) {
    try FakeWorkers.run(count: count, scheduler: arguments[arguments.startIndex + 2])
    exit(0)
}
while let argument = arguments.popFirst() {
    switch argument {
    case "--seeds": seeds = arguments.popFirst().flatMap { UInt64($0) } ?? seeds
    case "--steps": steps = arguments.popFirst().flatMap { Int($0) } ?? steps
    case "--processes": processes = true
    default:
        FileHandle.standardError.write(
            Data("usage: zflow-extreme [--seeds N] [--steps N] [--processes] | --fake-workers N ADDRESS\n".utf8))
        exit(64)
    }
}

for seed in 1...seeds {
    let scheduler = ExtremeRun.scheduler(seed: seed, steps: steps)
    let worker = ExtremeRun.worker(seed: seed, steps: steps)
    print("seed \(seed): \(steps) scheduler events (\(scheduler) actions), \(steps) worker events (\(worker) actions)")
    fflush(nil)  // a trap in the next seed must not take these lines with it
}

if processes {
    let cluster = try LocalCluster(workers: 1, mode: .processes)
    defer { cluster.shutdown() }
    let client = try await Client.connect(cluster.address)
    let context = ZMQContext()
    for seed in 1...seeds {
        var sent = 0
        for (direction, identity) in [(ExtremeTraffic.Direction.worker, "worker:extreme"), (.client, "client:extreme")] {
            let socket = try ZMQSocket(context, .dealer)
            try socket.setIdentity("\(identity)-\(seed)")
            try socket.connect(cluster.address)
            sent += ExtremeTraffic.send(steps / 10, direction, on: socket, seed: seed)
            // Closed only once the scheduler has read what it queued: an info round trip of another client.
            _ = try await client.schedulerInfo()
            socket.close()
        }
        let values = try await client.gather(try await client.map(StandardFunctions.inc, Array(0..<100)), timeout: .seconds(30))
        guard values.reduce(0, +) == 5050 else { fatalError("wrong results after seed \(seed)") }
        print("seed \(seed): \(sent) messages to the scheduler; the cluster still serves")
    }
}
print("zflow-extreme: no trap, no broken invariant")
