// Word count, the classic first example: count the words of many files in parallel on the workers (each file
// is read on the worker, not shipped from here), merge the partial counts as a tree of tasks (partials move
// worker to worker), and print the most frequent words.
//
//     wordcount [--top K] [--workers N] [--scheduler tcp://HOST:PORT] FILE_OR_DIRECTORY...
//
// Without --scheduler it starts an embedded local cluster (a scheduler and N workers) and stops it at the end.
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

/// Text files named on the command line, with directories expanded, as absolute paths.
func textFiles(_ paths: [String]) throws -> [String] {
    var files: [String] = []
    let manager = FileManager.default
    for path in paths {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw UsageError(text: "no such file or directory: \(path)")
        }
        if isDirectory.boolValue {
            let children = try manager.subpathsOfDirectory(atPath: url.path).sorted()
            files += children.filter { $0.hasSuffix(".txt") }.map { url.appendingPathComponent($0).path }
        } else {
            files.append(url.path)
        }
    }
    return files
}

/// Merges partial counts pairwise until one is left: a tree of tasks, so merges run in parallel.
func mergeTree(_ client: Client, _ partials: [Future<[String: Int]>]) async throws -> Future<[String: Int]> {
    var level = partials
    while level.count > 1 {
        var next: [Future<[String: Int]>] = []
        for start in stride(from: 0, to: level.count, by: 2) {
            let pair = Array(level[start..<min(start + 2, level.count)])
            next.append(pair.count == 1 ? pair[0] : try await client.submit(StandardFunctions.mergeCounts, pair))
        }
        level = next
    }
    return level[0]
}

let options: Options
do {
    options = try Options(Array(CommandLine.arguments.dropFirst()))
} catch let error as UsageError {
    FileHandle.standardError.write(Data("\(error.text)\nusage: wordcount [--top K] [--workers N] [--scheduler tcp://HOST:PORT] FILE_OR_DIRECTORY...\n".utf8))
    exit(2)
}

let files = try textFiles(options.paths)
guard !files.isEmpty else {
    FileHandle.standardError.write(Data("no .txt files found in \(options.paths)\n".utf8))
    exit(1)
}
let cluster = options.scheduler == nil ? try LocalCluster(workers: options.workers) : nil
defer { cluster?.shutdown() }
let client = try await Client.connect(options.scheduler ?? cluster!.address)
let started = ContinuousClock.now
let partials = try await client.map(StandardFunctions.countFileWords, files)
let counts = try await mergeTree(client, partials).result()
let elapsed = ContinuousClock.now - started

let top = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(options.top)
let width = top.map(\.key.count).max() ?? 0
for (word, count) in top { print(word.padding(toLength: width, withPad: " ", startingAt: 0), count) }
let info = try await client.schedulerInfo()
print(
    "\(files.count) files, \(counts.values.reduce(0, +)) words, \(counts.count) distinct, in \(elapsed) on \(info.workers.count) workers")
client.close()
