import ArgumentParser
import Foundation
import ZFlow

/// `zflow status`: the cluster at a glance.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the workers, task counts by state and the scheduler's counters.")

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let client = try await cluster.connect()
        defer { client.close() }
        let info = try await client.schedulerInfo()
        if cluster.json {
            print(jsonLine(info))
            return
        }
        print("scheduler \(cluster.address): \(info.workers.count) workers, \(info.clients) clients")
        let counts = info.taskCounts.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        print("tasks: " + (counts.isEmpty ? "none" : counts.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        print(
            "completed \(info.counters.tasksCompleted), erred \(info.counters.tasksErred), "
                + "messages rejected \(info.counters.messagesRejected), payload bytes relayed \(info.counters.payloadBytesRelayed)")
        if !info.workers.isEmpty {
            print("")
            printWorkerTable(info.workers)
        }
    }
}

/// `zflow workers`: one line per worker.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers", abstract: "List the workers: address, threads, tasks, memory held, last heartbeat.")

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let client = try await cluster.connect()
        defer { client.close() }
        let workers = try await client.schedulerInfo().workers
        if cluster.json {
            print(jsonLine(workers))
        } else {
            printWorkerTable(workers)
        }
    }
}

/// Prints workers as an aligned table.
func printWorkerTable(_ workers: [WorkerInfo]) {
    let header = [
        "NAME", "ADDRESS", "THREADS", "ASSIGNED", "RUNNING", "QUEUED", "KEYS", "MEMORY", "LIMIT", "SPILLED", "DONE",
        "LAST SEEN",
    ]
    let rows = workers.map { worker in
        [
            worker.name, worker.address, "\(worker.nthreads)", "\(worker.processing)", "\(worker.metrics.running)",
            "\(worker.metrics.queued)", "\(worker.keysHeld)",
            formatBytes(worker.metrics.storedBytes) + (worker.metrics.paused ? " (paused)" : ""),
            worker.metrics.memoryLimit == 0 ? "-" : formatBytes(worker.metrics.memoryLimit),
            formatBytes(worker.metrics.spilledBytes), "\(worker.tasksCompleted)", "\(worker.lastSeenMilliseconds) ms",
        ]
    }
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    for row in [header] + rows {
        print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}

/// Bytes in the largest unit that keeps the number at least 1.
func formatBytes(_ bytes: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
