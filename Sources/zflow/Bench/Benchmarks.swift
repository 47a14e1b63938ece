import CZMQShim
import Foundation
import ZFlow
import ZFlowZMQ

/// The workloads of `zflow bench`, each on its own local cluster of real processes.
struct Benchmarks {
    let runs: Int
    /// A security directory: every cluster then runs with CURVE on every socket.
    var security: SecurityDirectory? = nil

    private func cluster(workers: Int) async throws -> (LocalCluster, Client) {
        let cluster = try LocalCluster(workers: workers, threads: 1, mode: .processes, security: security)
        let client = try await Client.connect(cluster.address, security: security)
        try await Self.waitForWorkers(client, count: workers)
        return (cluster, client)
    }

    /// Returns once `count` workers have registered (20 s at most).
    static func waitForWorkers(_ client: Client, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while try await client.schedulerInfo().workers.count < count {
            guard ContinuousClock.now < deadline else { throw ClientError.timedOut(seconds: 20) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
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

    /// One run of round-trip times in µs: the median with p90 and p99.
    static func latencyResult(name: String, detail: String, samples: [Double]) -> BenchResult {
        let sorted = samples.sorted()
        var result = BenchResult(
            name: name, detail: detail, unit: "us", samples: samples,
            extra: ["p90": sorted[sorted.count * 90 / 100], "p99": sorted[sorted.count * 99 / 100]])
        result.runs = 1
        return result
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
