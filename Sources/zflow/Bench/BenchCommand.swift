import ArgumentParser
import Foundation
import ZFlow

/// `zflow bench`: ZFlow's microbenchmarks on real processes over loopback (use a release build).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput, latency, transfer, tree and graph workloads on local processes.",
        discussion: """
            Each workload starts its own zflow-scheduler and zflow-worker processes (found beside this program) on \
            127.0.0.1, warms up, measures, and prints one line (or one JSON object with --json). Build with \
            `swift build -c release` first. scripts/bench.sh runs this beside the Dask baseline.
            """)

    /// The workloads there are.
    enum Workload: String, CaseIterable, ExpressibleByArgument {
        case throughput, latency, transfer, zmq, tree, graph, core, wordcount
    }

    @Flag(help: "One JSON object per workload, one per line.")
    var json = false

    @Option(help: "Measured runs per workload (the figure is their median).")
    var runs: Int = 5

    @Option(help: "Tasks in the main throughput workload.")
    var tasks: Int = 20_000

    @Argument(help: "Workloads to run (default: all): \(Workload.allCases.map(\.rawValue).joined(separator: ", ")).")
    var workloads: [Workload] = Workload.allCases

    @Option(help: "wordcount: the size of the generated corpus, in MB (10^6 bytes).")
    var corpusMb: Int = 200

    @Option(help: "wordcount: count this directory's .txt files instead of a temporary generated corpus (generated and kept there when the directory does not exist).")
    var corpus: String?

    @Option(help: "wordcount: a Python with `distributed` installed (e.g. .dask-venv/bin/python), to time ../shared/bench/dask_wordcount.py on the same files in the same run.")
    var python: String?

    @Option(help: "wordcount: the baseline script for --python.")
    var baselineScript: String = "../shared/bench/dask_wordcount.py"

    @Flag(help: "Run throughput, latency and transfer twice, plaintext then with CURVE on every socket (keys made for the run), with each pair's ratio.")
    var security = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard tasks >= 1 else { throw ValidationError("--tasks must be at least 1") }
        guard corpusMb >= 1 && corpusMb <= 4_000 else { throw ValidationError("--corpus-mb must be from 1 to 4000") }
    }

    func run() async throws {
        if security {
            try await compareSecurity()
            return
        }
        let bench = Benchmarks(runs: runs)
        for workload in workloads {
            let results: [BenchResult]
            switch workload {
            case .throughput:
                results = [
                    try await bench.throughput(tasks: tasks, workers: 1),
                    try await bench.throughput(tasks: tasks, workers: 2),
                    try await bench.throughput(tasks: 100_000, workers: 1),
                ]
            case .latency: results = [try await bench.latency()]
            case .transfer: results = [try await bench.transfer(megabytes: 64), try await bench.transfer(megabytes: 512)]
            case .zmq:
                results = [
                    try bench.rawPush(megabytes: 64), try bench.rawPush(megabytes: 512), try bench.rawRoundTrip(),
                    try bench.rawBrokerRoundTrip(replyDirect: true), try bench.rawBrokerRoundTrip(replyDirect: false),
                ]
            case .tree: results = [try await bench.tree(leaves: 1 << 14)]
            case .graph: results = [try await bench.graph(tasks: 200_000)]
            case .core: results = [bench.schedulerCore(tasks: 100_000)]
            case .wordcount:
                results = try await WordCountBenchmark(
                    runs: runs, corpus: corpus, megabytes: corpusMb, python: python.map { ($0, baselineScript) }
                ).run()
            }
            for result in results {
                print(json ? result.jsonLine : result.humanLine)
                fflush(nil)
            }
        }
    }

    /// Each of throughput, latency and transfer plaintext and then with CURVE, in the same run, with the ratio.
    func compareSecurity() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zflow-bench-keys-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let plain = Benchmarks(runs: runs)
        var secured = Benchmarks(runs: runs)
        secured.security = try SecurityDirectory.create(at: directory)
        let workloads: [@Sendable (Benchmarks) async throws -> BenchResult] = [
            { try await $0.throughput(tasks: tasks, workers: 1) },
            { try await $0.latency() },
            { try await $0.transfer(megabytes: 64) },
            { try await $0.transfer(megabytes: 512) },
        ]
        // The limit CURVE itself sets on this machine, in the same run: raw ZeroMQ with and without it.
        for megabytes in [64, 512] {
            for result in [
                try plain.rawPush(megabytes: megabytes), try plain.rawPush(megabytes: megabytes, curve: true),
                try plain.rawPush(megabytes: megabytes, curve: true, frames: megabytes),
            ] {
                print(json ? result.jsonLine : result.humanLine)
                fflush(nil)
            }
        }
        for measure in workloads {
            let before = try await measure(plain)
            var curve = try await measure(secured)
            curve.name += "-curve"
            curve.detail += ", CURVE on every socket"
            curve.extra["ratio_to_plaintext"] = curve.median / before.median
            for result in [before, curve] {
                print(json ? result.jsonLine : result.humanLine)
                fflush(nil)
            }
        }
    }
}
