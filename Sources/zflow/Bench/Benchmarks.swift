import CZMQShim
import Foundation
import ZFlow
import ZFlowZMQ

/// The workloads of `zflow bench`, each on its own local cluster of real processes.
struct Benchmarks {
    let runs: Int

    private func cluster(workers: Int) async throws -> (LocalCluster, Client) {
        let cluster = try LocalCluster(workers: workers, threads: 1, mode: .processes)
        let client = try await Client.connect(cluster.address)
        let deadline = ContinuousClock.now + .seconds(20)
        while try await client.schedulerInfo().workers.count < workers {
            guard ContinuousClock.now < deadline else { throw ClientError.timedOut(seconds: 20) }
            try await Task.sleep(for: .milliseconds(10))
        }
        return (cluster, client)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return elapsed.seconds
    }

    /// `map` of no-op tasks, then `gather`; tasks per second from first submit to last result.
    func throughput(tasks: Int, workers: Int) async throws -> BenchResult {
        let (cluster, client) = try await cluster(workers: workers)
        defer { cluster.shutdown() }
        // Warm-up: one unmeasured run of the same size (tables and buffers reach their working size).
        _ = try await client.gather(try await client.map(StandardFunctions.inc, Array(0..<tasks)))
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            let futures = try await client.map(StandardFunctions.inc, Array(0..<tasks))
            let values = try await client.gather(futures)
            samples.append(Double(tasks) / Self.seconds(since: start))
            precondition(values.count == tasks && values[tasks - 1] == tasks, "wrong results")
        }
        let name = tasks == 20_000 && workers == 1 ? "throughput" : "throughput-\(workers)w-\(tasks)"
        return BenchResult(
            name: name, detail: "\(workers) worker(s) x 1 thread, \(tasks) no-op tasks, map + gather",
            unit: "tasks/s", samples: samples)
    }

    /// Sequential submit → result round trips of a no-op.
    func latency(count: Int = 1000, warmUp: Int = 50) async throws -> BenchResult {
        let (cluster, client) = try await cluster(workers: 1)
        defer { cluster.shutdown() }
        var samples: [Double] = []
        for index in 0..<(warmUp + count) {
            let start = ContinuousClock.now
            let value = try await client.submit(StandardFunctions.inc, index).result()
            precondition(value == index + 1, "wrong result")
            if index >= warmUp { samples.append(Self.seconds(since: start) * 1e6) }
        }
        return Self.latencyResult(
            name: "latency", detail: "\(count) sequential submit -> result after \(warmUp) warm-ups", samples: samples)
    }

    /// A result made on worker A consumed on worker B: the consumer's time alone.
    func transfer(megabytes: Int) async throws -> BenchResult {
        let (cluster, client) = try await cluster(workers: 2)
        defer { cluster.shutdown() }
        let size = megabytes << 20
        var samples: [Double] = []
        for run in 0...runs {
            let made = try await client.submit(StandardFunctions.bytes, size, workers: ["local-0"])
            _ = try await client.wait([made])
            let start = ContinuousClock.now
            let length = try await client.submit(StandardFunctions.length, made, workers: ["local-1"]).result()
            let elapsed = Self.seconds(since: start)
            precondition(length == size, "wrong length \(length)")
            if run > 0 { samples.append(Double(size) / elapsed / 1e9) }
        }
        return BenchResult(
            name: "transfer-\(megabytes)MiB", detail: "\(megabytes) MiB made on worker A, length taken on worker B",
            unit: "GB/s", samples: samples)
    }

    /// The floor: one PUSH → PULL message of the same size over loopback TCP, without ZFlow.
    func rawPush(megabytes: Int) throws -> BenchResult {
        let size = megabytes << 20
        let context = ZMQContext()
        let pull = try ZMQSocket(context, .pull)
        try pull.setOption64(ZMQ_MAXMSGSIZE, -1)
        let endpoint = try pull.bind("tcp://127.0.0.1:*")
        let go = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let payload = Data(repeating: 0xAB, count: size)
        let rounds = runs + 1
        let sender = Thread {
            defer { done.signal() }
            guard let push = try? ZMQSocket(context, .push), (try? push.connect(endpoint)) != nil else { return }
            for _ in 0..<rounds {
                go.wait()
                try? push.send([payload])
            }
            go.wait()
            push.close()
        }
        sender.start()
        defer {
            go.signal()
            done.wait()
            pull.close()
        }
        var poller = ZMQPoller()
        poller.add(pull)
        var samples: [Double] = []
        for round in 0..<rounds {
            let start = ContinuousClock.now
            go.signal()
            guard try !poller.poll(timeoutMilliseconds: 60_000).isEmpty, let frames = try pull.receive(dontWait: true) else {
                throw ClientError.timedOut(seconds: 60)
            }
            let elapsed = Self.seconds(since: start)
            precondition(frames.first?.count == size, "short message")
            if round > 0 { samples.append(Double(size) / elapsed / 1e9) }
        }
        return BenchResult(
            name: "zmq-push-\(megabytes)MiB", detail: "raw ZeroMQ PUSH -> PULL of one \(megabytes) MiB message",
            unit: "GB/s", samples: samples)
    }

    /// The ZeroMQ floor under `latency`: round trips client DEALER → broker ROUTER → echo DEALER → broker →
    /// client, each party on its own thread with its own context (so its own I/O thread, as separate
    /// processes have). A ZFlow round trip crosses three such hops (client → scheduler → worker → client).
    func rawBrokerRoundTrip(count: Int = 1000, warmUp: Int = 50) throws -> BenchResult {
        let endpoints = BrokerEndpoints()
        let ready = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let bye = Data("bye".utf8)
        let broker = Thread {
            defer { finished.signal() }
            let context = ZMQContext()
            guard let front = try? ZMQSocket(context, .router), let back = try? ZMQSocket(context, .router),
                let frontEndpoint = try? front.bind("tcp://127.0.0.1:*"), let backEndpoint = try? back.bind("tcp://127.0.0.1:*")
            else {
                ready.signal()
                return
            }
            endpoints.front = frontEndpoint
            endpoints.back = backEndpoint
            ready.signal()
            var echoIdentity = Data()
            var poller = ZMQPoller()
            poller.add(front)
            poller.add(back)
            // Bounded: the client's last message is `bye`; the 10 s poll timeout ends a stalled run.
            while let ready = try? poller.poll(timeoutMilliseconds: 10_000), !ready.isEmpty {
                if ready.contains(1), let frames = try? back.receive(dontWait: true), frames.count == 2 {
                    echoIdentity = frames[0]
                    if frames[1] != Data("hello".utf8) { try? front.send([Data("client".utf8), frames[1]]) }
                }
                if ready.contains(0), let frames = try? front.receive(dontWait: true), frames.count == 2 {
                    try? back.send([echoIdentity, frames[1]])
                    if frames[1] == bye { break }
                }
            }
            front.close()
            back.close()
        }
        broker.start()
        ready.wait()
        guard let front = endpoints.front, let back = endpoints.back else { throw ClientError.timedOut(seconds: 0) }
        let echo = Thread {
            defer { finished.signal() }
            let context = ZMQContext()
            guard let socket = try? ZMQSocket(context, .dealer), (try? socket.setOption(ZMQ_RCVTIMEO, 10_000)) != nil,
                (try? socket.connect(back)) != nil
            else { return }
            try? socket.send([Data("hello".utf8)])
            while let frames = try? socket.receive(), let body = frames.last, body != bye { try? socket.send([body]) }
            socket.close()
        }
        echo.start()
        let context = ZMQContext()
        let client = try ZMQSocket(context, .dealer)
        try client.setIdentity("client")
        try client.setOption(ZMQ_RCVTIMEO, 10_000)
        try client.connect(front)
        defer {
            try? client.send([bye])
            finished.wait()
            finished.wait()
            client.close()
        }
        Thread.sleep(forTimeInterval: 0.2)  // lets the echo's hello reach the broker; not measured
        return try Self.pingRoundTrips(
            client, count: count, warmUp: warmUp, name: "zmq-broker-rtt",
            detail: "raw ZeroMQ round trip through a ROUTER broker (4 hops)")
    }

    /// Times `count` round trips of a small message on `client` (after `warmUp` unmeasured ones).
    private static func pingRoundTrips(
        _ client: ZMQSocket, count: Int, warmUp: Int, name: String, detail: String
    ) throws -> BenchResult {
        var samples: [Double] = []
        for index in 0..<(warmUp + count) {
            let start = ContinuousClock.now
            try client.send([Data("ping".utf8)])
            guard try client.receive() != nil else { throw ClientError.timedOut(seconds: 10) }
            if index >= warmUp { samples.append(Self.seconds(since: start) * 1e6) }
        }
        return latencyResult(name: name, detail: detail, samples: samples)
    }

    /// One run of round-trip times in µs: the median with p90 and p99.
    private static func latencyResult(name: String, detail: String, samples: [Double]) -> BenchResult {
        let sorted = samples.sorted()
        var result = BenchResult(
            name: name, detail: detail, unit: "us", samples: samples,
            extra: ["p90": sorted[sorted.count * 90 / 100], "p99": sorted[sorted.count * 99 / 100]])
        result.runs = 1
        return result
    }

    /// The ZeroMQ floor of one hop each way: round trips client DEALER → echo ROUTER → client, on two threads
    /// with their own contexts (the "one loopback round trip").
    func rawRoundTrip(count: Int = 1000, warmUp: Int = 50) throws -> BenchResult {
        let endpoints = BrokerEndpoints()
        let bye = Data("bye".utf8)
        let ready = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let echoThread = Thread {
            defer { finished.signal() }
            let context = ZMQContext()
            guard let echo = try? ZMQSocket(context, .router), (try? echo.setOption(ZMQ_RCVTIMEO, 10_000)) != nil,
                let bound = try? echo.bind("tcp://127.0.0.1:*")
            else {
                ready.signal()
                return
            }
            endpoints.front = bound
            ready.signal()
            // Bounded: the client's last message is `bye`; the 10 s receive timeout ends a stalled run.
            while let frames = try? echo.receive(), frames.count == 2, frames[1] != bye { try? echo.send(frames) }
            echo.close()
        }
        echoThread.start()
        ready.wait()
        guard let endpoint = endpoints.front else { throw ClientError.timedOut(seconds: 0) }
        let clientContext = ZMQContext()
        let client = try ZMQSocket(clientContext, .dealer)
        try client.setOption(ZMQ_RCVTIMEO, 10_000)
        try client.connect(endpoint)
        defer {
            try? client.send([bye])
            finished.wait()
            client.close()
        }
        return try Self.pingRoundTrips(
            client, count: count, warmUp: warmUp, name: "zmq-rtt",
            detail: "raw ZeroMQ round trip DEALER -> ROUTER -> DEALER (2 hops)")
    }

    /// A binary tree sum of `leaves` leaves on two workers; wall seconds, result checked.
    func tree(leaves: Int) async throws -> BenchResult {
        let (cluster, client) = try await cluster(workers: 2)
        defer { cluster.shutdown() }
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            var level = try await client.map(StandardFunctions.inc, Array(0..<leaves))
            while level.count > 1 {
                var next: [Future<Int>] = []
                next.reserveCapacity(level.count / 2)
                for pair in stride(from: 0, to: level.count, by: 2) {
                    next.append(try await client.submit(StandardFunctions.add, level[pair], level[pair + 1]))
                }
                level = next
            }
            let total = try await level[0].result()
            samples.append(Self.seconds(since: start))
            precondition(total == leaves * (leaves + 1) / 2, "wrong tree sum \(total)")
        }
        return BenchResult(
            name: "tree", detail: "binary tree sum of \(leaves) leaves on 2 workers", unit: "s", samples: samples)
    }

    /// Many independent tasks submitted at once; wall seconds, tasks/s and the scheduler's memory per task.
    func graph(tasks: Int) async throws -> BenchResult {
        let (cluster, client) = try await cluster(workers: 2)
        defer { cluster.shutdown() }
        let pid = cluster.schedulerProcessID ?? 0
        let idle = Self.memoryKiB(pid: pid, field: "VmRSS")
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            let futures = try await client.map(StandardFunctions.inc, Array(0..<tasks))
            _ = try await client.wait(futures)
            samples.append(Self.seconds(since: start))
        }
        let peak = Self.memoryKiB(pid: pid, field: "VmHWM")
        let sorted = samples.sorted()
        return BenchResult(
            name: "graph", detail: "\(tasks) independent no-op tasks submitted at once, 2 workers", unit: "s",
            samples: samples,
            extra: [
                "tasks_per_s": Double(tasks) / sorted[sorted.count / 2], "scheduler_idle_kib": idle,
                "scheduler_peak_kib": peak, "scheduler_bytes_per_task": (peak - idle) * 1024 / Double(tasks),
            ])
    }

    /// A `/proc/PID/status` memory field in KiB (0 when unreadable).
    static func memoryKiB(pid: Int32, field: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") })
        else { return 0 }
        return Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}

/// The bound endpoints of a probe's serving thread, handed to the threads that connect.
private final class BrokerEndpoints: @unchecked Sendable {
    var front: String?
    var back: String?
}
