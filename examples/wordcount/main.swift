// Word count, the classic first example: count the words of many files in parallel on the workers, merge the
// partial counts as a tree of tasks, print the most frequent words.
//
//     wordcount [--top K] [--workers N] [--scheduler tcp://HOST:PORT] FILE_OR_DIRECTORY...
//
// Without --scheduler it starts an embedded local cluster (a scheduler and N workers) and stops it at the end.
// The job itself is `WordCountJob.run` (Sources/ZFlow/Jobs/WordCountJob.swift): `count-words-in-files` tasks of
// about equal size (large files cut, small ones batched), each reading its files on a worker, then
// `merge-word-counts` tasks until one count is left.
import Foundation
import ZFlow

struct Options {
    var top = 10
    var workers = 2
    var scheduler: String?
    var paths: [String] = []

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--top": top = try Self.number(rest.popFirst(), "--top")
            case "--workers": workers = try Self.number(rest.popFirst(), "--workers")
            case "--scheduler":
                guard let value = rest.popFirst() else { throw UsageError(text: "--scheduler needs an address") }
                scheduler = value
            case "-h", "--help": throw UsageError(text: "")
            default: paths.append(argument)
            }
        }
        if paths.isEmpty { throw UsageError(text: "give at least one file or directory") }
    }

    static func number(_ text: String?, _ flag: String) throws -> Int {
        guard let text, let value = Int(text), value > 0 else { throw UsageError(text: "\(flag) needs a positive number") }
        return value
    }
}

struct UsageError: Error { let text: String }

let options: Options
do {
    options = try Options(Array(CommandLine.arguments.dropFirst()))
} catch let error as UsageError {
    FileHandle.standardError.write(
        Data("\(error.text)\nusage: wordcount [--top K] [--workers N] [--scheduler tcp://HOST:PORT] FILE_OR_DIRECTORY...\n".utf8))
    exit(2)
}

let files = try WordCountJob.expand(options.paths)
// The embedded cluster's workers may read exactly the files and directories given, nothing else.
let roots = try options.paths.flatMap { path -> [String] in
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        ? [path] : try WordCountJob.expand([path])
}
let cluster =
    options.scheduler == nil
    ? try LocalCluster(workers: options.workers, permissions: WorkerPermissions(fileRoots: roots)) : nil
defer { cluster?.shutdown() }
let client = try await Client.connect(options.scheduler ?? cluster!.address)
let started = ContinuousClock.now
let result = try await WordCountJob.run(client, files: files)
let elapsed = ContinuousClock.now - started

let top = result.top(options.top)
let width = top.map(\.word.count).max() ?? 0
for (word, count) in top { print(word.padding(toLength: width, withPad: " ", startingAt: 0), count) }
let workers = try await client.schedulerInfo().workers.count
print("\(result.files) files, \(result.totalWords) words, \(result.distinctWords) distinct, in \(elapsed) on \(workers) workers")
client.close()
