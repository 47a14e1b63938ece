import ArgumentParser
import Foundation
import ZFlow

/// `zflow wordcount`: count words of files in parallel on the workers.
struct WordCountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wordcount", abstract: "Count the words of files on the workers and print the most frequent.",
        discussion: """
            Each file is read on a worker (a file inside a worker's --data-dir only on that worker); the partial counts \
            are merged as a tree of tasks. Directories stand for their .txt files; quoted globs are expanded here.
            """)

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "How many words to print.")
    var top: Int = 10

    @Argument(help: "Files, directories or glob patterns.")
    var paths: [String]

    func validate() throws {
        guard top >= 0 else { throw ValidationError("--top must be >= 0") }
    }

    func run() async throws {
        let files: [String]
        do {
            files = try WordCountJob.expand(paths)
        } catch {
            fail("zflow: \(error)", status: .badInput)
        }
        let client = try await cluster.connect()
        defer { client.close() }
        let result: WordCountJob.Result
        do {
            result = try await WordCountJob.run(client, files: files)
        } catch {
            fail("zflow: \(error)", status: .taskFailed)
        }
        let top = result.top(self.top)
        if cluster.json {
            print(jsonLine(WordCountReport(files: result.files, words: result.totalWords, distinct: result.distinctWords,
                top: top.map { WordCountReport.Entry(word: $0.word, count: $0.count) })))
            return
        }
        let width = top.map(\.word.count).max() ?? 0
        for (word, count) in top { print(word.padding(toLength: width, withPad: " ", startingAt: 0), count) }
        print("\(result.files) files, \(result.totalWords) words, \(result.distinctWords) distinct")
    }
}

/// The `--json` form of a word count.
struct WordCountReport: Encodable {
    struct Entry: Encodable {
        let word: String
        let count: Int
    }
    let files: Int
    let words: Int
    let distinct: Int
    let top: [Entry]
}
