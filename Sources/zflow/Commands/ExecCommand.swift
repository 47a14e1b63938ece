import ArgumentParser
import Foundation
import ZFlow

/// `zflow exec -- COMMAND…`: a shell command as a task.
struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run a shell command on a worker (or on every worker) and exit with its code.",
        discussion: "zflow exec -- uname -a    prints the command's stdout and stderr and exits with its exit code.")

    @OptionGroup var cluster: ClusterOptions

    @Flag(help: "Run it once on every worker (output prefixed with the worker's name).")
    var onAll = false

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        guard !command.filter({ $0 != "--" }).isEmpty else { throw ValidationError("give a command after --") }
    }

    func run() async throws {
        let words = command.first == "--" ? Array(command.dropFirst()) : command
        let line = words.map(Self.quote).joined(separator: " ")
        let client = try await cluster.connect(asAdmin: true)
        defer { client.close() }
        let targets: [String?] = onAll ? try await client.schedulerInfo().workers.map(\.name) : [nil]
        var futures: [(String?, Future<ShellResult>)] = []
        for target in targets {
            futures.append((target, try await client.submit(StandardFunctions.shell, line, workers: target.map { [$0] } ?? [])))
        }
        var worst: Int32 = 0
        for (target, future) in futures {
            let result: ShellResult
            do {
                result = try await future.result()
            } catch {
                fail("zflow: \(error)", status: .taskFailed)
            }
            if cluster.json {
                print(jsonLine(["worker": target ?? "", "stdout": result.stdout, "stderr": result.stderr, "exit": "\(result.exitCode)"]))
            } else {
                let prefix = target.map { "[\($0)] " } ?? ""
                emit(result.stdout, prefix: prefix, to: .standardOutput)
                emit(result.stderr, prefix: prefix, to: .standardError)
            }
            if result.exitCode != 0 && worst == 0 { worst = result.exitCode }
        }
        if worst != 0 { throw ExitCode(worst) }
    }

    private func emit(_ text: String, prefix: String, to handle: FileHandle) {
        guard !text.isEmpty else { return }
        let body = prefix.isEmpty ? text : text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : prefix + $0 }.joined(separator: "\n")
        handle.write(Data(body.utf8))
    }

    /// Single-quotes a word for /bin/sh unless it is plainly safe.
    static func quote(_ word: String) -> String {
        let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// `zflow cancel KEY…`.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel tasks by key, with everything that depends on them.")

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "Task keys.")
    var keys: [String]

    func run() async throws {
        let client = try await cluster.connect(asAdmin: true)
        defer { client.close() }
        do {
            try await client.cancel(keys: keys.map { TaskKey($0) })
        } catch {
            fail("zflow: \(error)", status: .taskFailed)
        }
        if !cluster.json { print("cancelled \(keys.count) key(s)") }
    }
}

/// `zflow retire`: retire workers gracefully.
struct RetireCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retire",
        abstract: "Retire workers: move the results only they hold to other workers, then stop them.")

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "Worker names or peer addresses.")
    var workers: [String]

    func run() async throws {
        let client = try await cluster.connect(asAdmin: true)
        defer { client.close() }
        do {
            try await client.retireWorkers(workers, timeout: .seconds(cluster.timeout))
        } catch {
            fail("zflow: \(error)", status: .taskFailed)
        }
        if !cluster.json { print("retired \(workers.joined(separator: ", "))") }
    }
}

/// `zflow local`: a scheduler and workers on this machine until Ctrl-C.
struct LocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local", abstract: "Start a scheduler and N workers as local processes; stop them on Ctrl-C.")

    @Option(help: "Worker processes.")
    var workers: Int = 2

    @Option(help: "Threads per worker.")
    var threads: Int = 1

    @Option(help: "Scheduler port (0 picks a free one).")
    var port: Int = 8786

    @Flag(help: "Also stop when standard input closes (for supervisors and tests: the cluster dies with its parent).")
    var exitWithStdin = false

    @OptionGroup var securityOptions: SecurityOptions

    @Flag(help: "Let tasks run shell commands on the workers (zflow exec).")
    var allowShell = false

    @Option(help: "A directory whose files tasks may read (zflow wordcount); repeat for several.")
    var allowFiles: [String] = []

    func validate() throws {
        guard workers >= 0 else { throw ValidationError("--workers must be >= 0") }
        guard threads >= 1 else { throw ValidationError("--threads must be >= 1") }
    }

    func run() async throws {
        let cluster: LocalCluster
        do {
            cluster = try LocalCluster(
                workers: workers, threads: threads, mode: .processes, port: port,
                permissions: WorkerPermissions(allowShell: allowShell, fileRoots: allowFiles),
                security: securityOptions.directory)
        } catch {
            fail("zflow: cannot start the local cluster: \(error)", status: .unreachable)
        }
        print("scheduler \(cluster.address) with \(workers) workers x \(threads) threads; Ctrl-C stops them")
        fflush(nil)
        let stopped = DispatchSemaphore(value: 0)
        ProcessSignals.onTermination { _ in stopped.signal() }
        if exitWithStdin { ProcessSignals.onStandardInputClosed { stopped.signal() } }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                stopped.wait()
                continuation.resume()
            }
        }
        cluster.shutdown()
        print("stopped")
    }
}
