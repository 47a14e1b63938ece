import ArgumentParser
import Foundation
import ZFlow

/// `zflow run GRAPH.yaml`: run a task graph from a file.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a task graph from a YAML file and print the requested outputs.",
        discussion: "The format is described in docs/graph-files.md; examples/graphs/ has examples.")

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "The graph file.")
    var file: String

    func run() async throws {
        let graph: GraphFile
        do {
            graph = try GraphFile(path: file)
        } catch let error as GraphFile.ParseError {
            fail("zflow: \(error)", status: .badInput)
        }
        let client = try await cluster.connect()
        defer { client.close() }
        let started = ContinuousClock.now
        var futures: [String: Future<AnyValue>] = [:]
        var names: [TaskKey: String] = [:]
        let prefix = "run-\(UUID().uuidString.prefix(8).lowercased())"
        try await client.submitGraph { submission in
            for task in graph.tasks {
                let future = try submission.add(
                    function: task.function, arguments: task.arguments.map { $0.argument(futures) },
                    key: "\(prefix)-\(task.name)", priority: task.priority, workers: task.workers,
                    resources: task.resources, retries: task.retries)
                futures[task.name] = future
                names[future.key] = task.name
            }
        }
        var failures: [(name: String, error: Error)] = []
        var skipped: [String] = []
        let all = graph.tasks.map { futures[$0.name]! }
        for await future in client.asCompleted(all) {
            let name = names[future.key]!
            let elapsed = ContinuousClock.now - started
            do {
                // A finished task's value stays on its worker (only outputs are fetched, below); a failed or
                // cancelled one throws its error here without any transfer.
                if future.status != .finished { _ = try await future.result() }
                if !cluster.json { report("done   \(name) (\(Self.format(elapsed)))") }
            } catch let error as TaskError where error.causeKey != nil && error.causeKey != future.key {
                skipped.append(name)
                if !cluster.json { report("skip   \(name): its input '\(names[error.causeKey!] ?? "?")' failed") }
            } catch {
                failures.append((name, error))
                if !cluster.json { report("FAILED \(name): \(Self.describe(error))") }
            }
        }
        var outputs: [String: AnyValue] = [:]
        for name in graph.outputs {
            if let value = try? await futures[name]!.result() { outputs[name] = value }
        }
        if cluster.json {
            var summary: [String: AnyValue] = ["outputs": .object(outputs)]
            summary["failed"] = .object(Dictionary(uniqueKeysWithValues: failures.map { ($0.name, AnyValue.string(Self.describe($0.error))) }))
            summary["skipped"] = .array(skipped.map { .string($0) })
            print(jsonLine(summary))
        } else {
            for name in graph.outputs where outputs[name] != nil {
                let value = outputs[name]!
                if case .string(let text) = value {
                    print("\(name): \(text.hasSuffix("\n") ? String(text.dropLast()) : text)")
                } else {
                    print("\(name): \(jsonLine(value))")
                }
            }
        }
        if let first = failures.first {
            let notRun = skipped.isEmpty ? "" : "; did not run: \(skipped.joined(separator: ", "))"
            fail("zflow: task '\(first.name)' failed: \(Self.describe(first.error))\(notRun)", status: .taskFailed)
        }
    }

    private func report(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func describe(_ error: Error) -> String {
        if let task = error as? TaskError { return "\(task.typeName): \(task.message)" }
        return "\(error)"
    }

    static func format(_ duration: Duration) -> String {
        String(format: "%.2f s", duration.seconds)
    }
}
