import ArgumentParser
import Foundation
import ZFlow

/// `zflow submit`: run one registered function and print its result.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Run one registered function and print its result as JSON.",
        discussion: "Arguments are JSON values (`3`, `\"text\"`, `[1,2]`); anything that is not JSON is a string.")

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "The task's key (default: made from the function's name).")
    var key: String?

    @Option(help: "Larger runs earlier.")
    var priority: Int = 0

    @Option(help: "Only these workers (names or peer addresses, comma-separated) may run it.")
    var workers: String?

    @Option(help: "Resources it holds while it runs, e.g. GPU=1 (only workers started with them run it).")
    var resources: String?

    @Argument(help: "The registered function's name.")
    var function: String

    @Argument(help: "Its arguments, as JSON values.")
    var arguments: [String] = []

    func validate() throws {
        if let resources {
            do {
                _ = try Resources(parsing: resources)
            } catch {
                throw ValidationError("--resources: \(error)")
            }
        }
    }

    func run() async throws {
        let client = try await cluster.connect()
        defer { client.close() }
        let needed = try resources.map { try Resources(parsing: $0).amounts } ?? [:]
        let future = try await client.submit(
            function: function, arguments: arguments.map { .value(parseArgument($0)) }, key: key, priority: priority,
            workers: workers.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? [],
            resources: needed)
        do {
            let value = try await future.result()
            print(cluster.json ? jsonLine(["key": AnyValue.string(future.key.rawValue), "result": value]) : jsonLine(value))
        } catch {
            fail("zflow: \(error)", status: .taskFailed)
        }
    }
}

/// `zflow map`: run a function once per input line, with progress.
struct MapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map", abstract: "Run a function once per line of a file (one JSON argument per line).",
        discussion: "Prints the results as JSON lines in input order; progress goes to standard error.")

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "File with one JSON value per line (- for standard input).")
    var input: String

    @Argument(help: "The registered function's name.")
    var function: String

    func run() async throws {
        let text: String
        do {
            text = input == "-"
                ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                : try String(contentsOfFile: input, encoding: .utf8)
        } catch {
            fail("zflow: cannot read \(input): \(error.localizedDescription)", status: .badInput)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        var items: [AnyValue] = []
        for (number, line) in lines.enumerated() {
            guard let value = try? JSONDecoder().decode(AnyValue.self, from: Data(line.utf8)) else {
                fail("zflow: \(input):\(number + 1): not a JSON value: \(line.prefix(60))", status: .badInput)
            }
            items.append(value)
        }
        let client = try await cluster.connect()
        defer { client.close() }
        var futures: [Future<AnyValue>] = []
        for item in items { futures.append(try await client.submit(function: function, arguments: [.value(item)])) }
        let progress = ProgressBar(total: futures.count)
        var failed = 0
        for await future in client.asCompleted(futures) {
            if future.status != .finished { failed += 1 }
            progress.advance()
        }
        progress.finish()
        for future in futures {
            do {
                print(jsonLine(try await future.result()))
            } catch {
                print(jsonLine(["error": AnyValue.string("\(error)")]))
            }
        }
        if failed > 0 { fail("zflow: \(failed) of \(futures.count) tasks failed", status: .taskFailed) }
    }
}

/// A one-line progress bar on standard error, drawn only when it is a terminal.
final class ProgressBar {
    private let total: Int
    private var done = 0
    private let visible = isatty(2) != 0
    private var lastDrawn = Date.distantPast

    init(total: Int) { self.total = total }

    func advance() {
        done += 1
        guard visible, done == total || Date().timeIntervalSince(lastDrawn) > 0.1 else { return }
        lastDrawn = Date()
        let width = 30
        let filled = total == 0 ? width : done * width / total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total)".utf8))
    }

    func finish() {
        if visible { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
