import Foundation
import Testing
import ZFlow

/// The built `zflow` binary against a real cluster.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct CLITests {
    /// Runs `zflow` with `arguments`; returns exit status, standard output and standard error.
    func zflow(_ arguments: [String], stdin: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = TestCluster.executable("zflow")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test func statusSubmitMapExecAndCancel() async throws {
        let cluster = try await TestCluster(workerArguments: ["--allow-shell"])
        defer { cluster.shutdown() }
        _ = try await cluster.client()
        let scheduler = ["--scheduler", cluster.address]

        let status = try zflow(["status"] + scheduler)
        #expect(status.status == 0)
        #expect(status.out.contains("2 workers"))
        #expect(status.out.contains("w0") && status.out.contains("w1"))

        let json = try zflow(["status", "--json"] + scheduler)
        let info = try JSONDecoder().decode(SchedulerInfo.self, from: Data(json.out.utf8))
        #expect(info.workers.map(\.name) == ["w0", "w1"])

        let workers = try zflow(["workers", "--json"] + scheduler)
        #expect(try JSONDecoder().decode([WorkerInfo].self, from: Data(workers.out.utf8)).count == 2)

        let submitted = try zflow(["submit"] + scheduler + ["add", "2", "40"])
        #expect(submitted.status == 0)
        #expect(submitted.out.trimmingCharacters(in: .whitespacesAndNewlines) == "42")

        let pinned = try zflow(["submit", "--json", "--workers", "w1"] + scheduler + ["timed-sleep", "0"])
        #expect(pinned.status == 0)
        #expect(pinned.out.contains("\"pid\""), "ran and returned its span: \(pinned.out)")
        let badResources = try zflow(["submit", "--resources", "GPU"] + scheduler + ["inc", "1"])
        #expect(badResources.status == 64)
        #expect(badResources.err.contains("NAME=AMOUNT"))

        let failing = try zflow(["submit"] + scheduler + ["fail", "boom"])
        #expect(failing.status == 1)
        #expect(failing.err.contains("boom"))

        let mapped = try zflow(["map"] + scheduler + ["--input", "-", "inc"], stdin: "1\n2\n3\n")
        #expect(mapped.status == 0)
        #expect(mapped.out.split(separator: "\n") == ["2", "3", "4"])

        let exec = try zflow(["exec"] + scheduler + ["--", "sh", "-c", "echo out; echo err >&2; exit 7"])
        #expect(exec.status == 7)
        #expect(exec.out == "out\n")
        #expect(exec.err.contains("err"))

        let onAll = try zflow(["exec", "--on-all"] + scheduler + ["--", "echo", "hi"])
        #expect(onAll.status == 0)
        #expect(onAll.out.contains("[w0] hi") && onAll.out.contains("[w1] hi"))

        let cancelled = try zflow(["cancel"] + scheduler + ["no-such-key"])
        #expect(cancelled.status == 0)
    }

    @Test func noSchedulerIsOneLineAndExitCode3() throws {
        let result = try zflow(["status", "--scheduler", "tcp://127.0.0.1:1", "--timeout", "0.5"])
        #expect(result.status == 3)
        #expect(result.err.split(separator: "\n").count == 1)
        #expect(result.err.contains("tcp://127.0.0.1:1"))
    }

    @Test func badInputFileNamesTheLine() async throws {
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        let result = try zflow(["map", "--scheduler", cluster.address, "--input", "-", "inc"], stdin: "1\n{oops\n")
        #expect(result.status == 4)
        #expect(result.err.contains(":2:"))
    }
}

/// `zflow run` on graph files.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct GraphRunTests {
    let cli = CLITests()

    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zflow-graph-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theExampleGraphRuns() async throws {
        let cluster = try await TestCluster(workerArguments: ["--allow-shell"])
        defer { cluster.shutdown() }
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/graphs/pipeline.yaml").path
        let result = try cli.zflow(["run", "--scheduler", cluster.address, example])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("total: 10"))
        #expect(result.out.contains("doubled: 20"))
        #expect(result.out.contains("system: Linux"))
        #expect(result.err.contains("done   doubled"))
    }

    @Test func aFailingTaskNamesItselfItsErrorAndWhatDidNotRun() async throws {
        let cluster = try await TestCluster(workerArguments: ["--allow-shell"])
        defer { cluster.shutdown() }
        let path = try write(
            """
            tasks:
              ok:
                function: inc
                args: [1]
              broken:
                shell: "echo oh no >&2; exit 3"
              after:
                function: identity
                args: [$broken]
              later:
                function: add
                args: [$after, $ok]
            """)
        let result = try cli.zflow(["run", "--scheduler", cluster.address, path])
        #expect(result.status == 1)
        let last = result.err.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.contains("task 'broken' failed"))
        #expect(last.contains("exit code 3: oh no"))
        #expect(last.contains("after") && last.contains("later"))
    }

    @Test func malformedFilesNameTheLineAndTheProblem() async throws {
        let cases: [(String, String)] = [
            ("tasks:\n  a:\n    function: inc\n    args: [1\n", "not valid YAML"),
            ("tasks:\n  a:\n    function: inc\n  b:\n    function: add\n    args: [$a, $zz]\n", ":4: task 'b' refers to '$zz'"),
            ("tasks:\n  a:\n    functoin: inc\n", ":3: task 'a': unknown key 'functoin'"),
            ("tasks:\n  a:\n    function: identity\n    args: [$b]\n  b:\n    function: identity\n    args: [$a]\n", "cycle"),
            ("jobs: {}\n", ":1: unknown top-level key 'jobs'"),
            (
                "tasks:\n  a:\n    function: inc\n    resources: {GPU: -1}\n",
                ":4: task 'a': 'resources' must be a map of name to positive amount"
            ),
        ]
        for (text, expected) in cases {
            let path = try write(text)
            let result = try cli.zflow(["run", "--scheduler", "tcp://127.0.0.1:1", "--timeout", "0.5", path])
            #expect(result.status == 4, "\(expected): \(result.err)")
            #expect(result.err.contains(expected), "expected '\(expected)' in: \(result.err)")
            #expect(result.err.split(separator: "\n").count == 1)
        }
    }
}

/// `zflow wordcount` against a plain count, and data locality by `--data-dir`.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct WordCountTests {
    let cli = CLITests()
    let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/wordcount/corpus")

    @Test func countsEqualAPlainSingleProcessCount() async throws {
        let cluster = try await TestCluster(workerArguments: ["--allow-files", corpus.path])
        defer { cluster.shutdown() }
        let result = try cli.zflow(["wordcount", "--json", "--top", "1000", "--scheduler", cluster.address, corpus.path])
        #expect(result.status == 0, "\(result.err)")
        struct Report: Decodable {
            struct Entry: Decodable { let word: String; let count: Int }
            let files: Int
            let words: Int
            let distinct: Int
            let top: [Entry]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(result.out.utf8))
        var expected: [String: Int] = [:]
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".txt") }
        for file in files {
            let text = try String(contentsOf: corpus.appendingPathComponent(file), encoding: .utf8)
            var word = ""
            for character in text.lowercased() + " " {
                if character.isLetter || character.isNumber || character == "'" {
                    word.append(character)
                } else if !word.isEmpty {
                    expected[word, default: 0] += 1
                    word = ""
                }
            }
        }
        #expect(report.files == files.count)
        #expect(report.words == expected.values.reduce(0, +))
        #expect(report.distinct == expected.count)
        #expect(Dictionary(uniqueKeysWithValues: report.top.map { ($0.word, $0.count) }) == expected)
    }

    @Test func aFileInAWorkersDataDirectoryIsCountedOnThatWorker() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zflow-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "only here only here".write(to: directory.appendingPathComponent("local.txt"), atomically: true, encoding: .utf8)
        let cluster = try await TestCluster(workers: 0)
        defer { cluster.shutdown() }
        try cluster.startWorker(name: "w0")
        try cluster.startWorker(name: "w1", extra: ["--data-dir", directory.path])
        let client = try await cluster.client()
        for _ in 0..<3 {
            let result = try cli.zflow(["wordcount", "--scheduler", cluster.address, directory.appendingPathComponent("local.txt").path])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("only 2") && result.out.contains("here 2"))
        }
        let info = try await cluster.waitForInfo(client, "w1 reports its three runs") { info in
            info.workers.first { $0.name == "w1" }?.metrics.executed == 3
        }
        #expect(info.workers.first { $0.name == "w1" }?.dataDirectory == directory.standardizedFileURL.path)
        #expect(info.workers.first { $0.name == "w0" }?.tasksCompleted == 0, "w0 has no such directory")
    }
}

/// Every subcommand answers `--help` with its purpose (a snapshot of the command tree).
@Suite struct CLIHelpTests {
    @Test func everySubcommandHasHelp() throws {
        let cli = CLITests()
        let root = try cli.zflow(["--help"])
        #expect(root.status == 0)
        let expected: [(String, String)] = [
            ("local", "Start a scheduler and N workers"), ("status", "Show the workers"), ("workers", "List the workers"),
            ("submit", "Run one registered function"), ("map", "Run a function once per line"),
            ("exec", "Run a shell command"), ("run", "Run a task graph"), ("cancel", "Cancel tasks by key"),
            ("retire", "Retire workers"), ("wordcount", "Count the words of files"), ("bench", "Measure throughput"),
        ]
        for (command, abstract) in expected {
            #expect(root.out.contains(command), "root help lists \(command)")
            let help = try cli.zflow([command, "--help"])
            #expect(help.status == 0)
            #expect(help.out.contains(abstract), "\(command) --help: \(help.out.prefix(200))")
        }
        let usage = try cli.zflow(["submit"])
        #expect(usage.status == 64, "a missing argument is a usage error")
    }
}

/// `zflow bench --json` prints one JSON object per workload with the fields the issue names (the scheduler-core
/// workload: no processes, a few seconds in a debug build).
@Suite struct BenchOutputTests {
    @Test func benchJSONHasOneObjectPerWorkloadWithItsFigures() throws {
        let result = try CLITests().zflow(["bench", "core", "--runs", "2", "--json"])
        #expect(result.status == 0, "\(result.err)")
        let lines = result.out.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["name"] as? String == "scheduler-core")
        #expect(object["unit"] as? String == "tasks/s")
        #expect(object["runs"] as? Int == 2)
        let median = try #require(object["median"] as? Double)
        let low = try #require(object["min"] as? Double)
        let high = try #require(object["max"] as? Double)
        #expect(low > 0 && low <= median && median <= high)
        #expect(object["figure"] as? Double == median)
    }
}

/// `zflow workers` shows what each worker is running, from the worker's own report.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct WorkersViewTests {
    @Test func runningAndQueuedTasksAreShown() async throws {
        let cluster = try await TestCluster(workers: 1)
        defer { cluster.shutdown() }
        let client = try await cluster.client()
        // Long enough that neither ends while the view is read, even on a loaded machine; cancelled at the end.
        let sleeps = [try await client.submit(StandardFunctions.sleep, 8), try await client.submit(StandardFunctions.sleep, 8)]
        _ = try await cluster.waitForInfo(client, "the worker reports one running and one queued") { info in
            info.workers.first?.metrics.running == 1 && info.workers.first?.metrics.queued == 1
        }
        let result = try CLITests().zflow(["workers", "--scheduler", cluster.address])
        #expect(result.status == 0)
        let lines = result.out.split(separator: "\n")
        #expect(lines.first?.contains("RUNNING") == true && lines.first?.contains("QUEUED") == true)
        let columns = lines.dropFirst().first?.split(separator: " ", omittingEmptySubsequences: true).map(String.init) ?? []
        #expect(columns.count >= 6 && columns[0] == "w0" && columns[3] == "2" && columns[4] == "1" && columns[5] == "1", "\(columns)")
        await client.cancel(sleeps)
    }
}

/// `zflow local` starts a cluster of real processes, serves, and stops them all on Ctrl-C.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct LocalCommandTests {
    @Test func localStartsServesAndStopsOnInterrupt() async throws {
        let local = try ChildProcess(
            executable: TestCluster.executable("zflow"), arguments: ["local", "--port", "0", "--workers", "2", "--exit-with-stdin"],
            quiet: true)
        defer { local.terminate() }
        let line = try #require(local.waitForLine(containing: "scheduler tcp://", timeout: 20))
        let address = try #require(line.split(separator: " ").dropFirst().first.map(String.init))
        let client = try await Client.connect(address, timeout: .seconds(10))
        let deadline = ContinuousClock.now + .seconds(10)
        while try await client.schedulerInfo().workers.count < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await client.schedulerInfo().workers.map(\.name) == ["local-0", "local-1"])
        #expect(try await client.submit(StandardFunctions.add, 20, 22).result(timeout: .seconds(10)) == 42)
        client.close()
        local.signal(SIGINT)
        #expect(local.waitForExit(timeout: 15) == 0)
        #expect(local.waitForLine(containing: "stopped", timeout: 1) != nil)
    }
}
