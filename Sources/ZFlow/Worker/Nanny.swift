import Foundation
import ZFlowCore
import ZFlowScheduling

/// `zflow-worker --nanny`: runs the worker as a child process and restarts it when it dies, by `NannyPolicy`,
/// so a long-running cluster heals without an operator. SIGINT/SIGTERM (or, with `--exit-with-stdin`, the end
/// of standard input) stop the worker and then the nanny.
///
/// Each start is announced on standard output as `zflow-worker nanny: worker pid PID started (restart N)`.
struct Nanny {
    /// The worker executable (this program).
    let executable: URL
    /// The worker's arguments, without the nanny's own flags.
    let arguments: [String]
    /// The restart rules.
    var policy: NannyPolicy
    /// Whether the nanny itself stops when its standard input closes.
    let exitWithStdin: Bool
    /// The worker's process memory (resident set) above which the nanny restarts it; nil: no limit.
    let terminateBytes: UInt64?

    /// Supervises until the worker stops cleanly, the nanny is stopped, or the policy gives up; returns the
    /// nanny's exit status.
    mutating func run() -> Int32 {
        let control = NannyControl()
        ProcessSignals.onTermination { _ in control.stop() }
        if exitWithStdin { ProcessSignals.onStandardInputClosed { control.stop() } }
        var restart = 0
        while true {
            let child: ChildProcess
            do {
                child = try ChildProcess(executable: executable, arguments: arguments + ["--exit-with-stdin"])
            } catch {
                Self.say("cannot start the worker: \(error)")
                return 1
            }
            guard control.watch(child) else {
                child.terminate()
                return 0
            }
            Self.say("worker pid \(child.pid) started (restart \(restart))", toStandardOutput: true)
            let started = MonotonicClock.now()
            let overMemory = watchMemory(of: child, control: control)
            child.process.waitUntilExit()
            control.watch(nil)
            if control.isStopping { return 0 }
            let exit: WorkerExit =
                overMemory
                ? .overMemory
                : child.process.terminationReason == .uncaughtSignal
                    ? .signalled(child.process.terminationStatus) : .exited(child.process.terminationStatus)
            switch policy.decide(exit, uptime: MonotonicClock.now() - started) {
            case .giveUp(let status, let reason):
                Self.say("worker pid \(child.pid) ended (\(exit)): \(reason)")
                return status
            case .restart(let delay):
                restart += 1
                Self.say("worker pid \(child.pid) ended (\(exit)); restart \(restart) in \(delay.seconds) s")
                if control.sleep(delay.seconds) { return 0 }
            }
        }
    }

    /// Returns when the child has exited; kills it first (SIGTERM, then SIGKILL) if its resident memory
    /// passes `terminateBytes`, checked every 100 ms, and then returns true.
    private func watchMemory(of child: ChildProcess, control: NannyControl) -> Bool {
        guard let limit = terminateBytes else { return false }
        let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        while child.process.isRunning && !control.isStopping {
            if let statm = try? String(contentsOfFile: "/proc/\(child.pid)/statm", encoding: .utf8),
                let pages = statm.split(separator: " ").dropFirst().first.flatMap({ UInt64($0) }), pages * pageSize > limit
            {
                Self.say("worker pid \(child.pid) uses \(pages * pageSize) bytes, over \(limit): killing it")
                // SIGKILL, not SIGTERM: a clean stop would unregister, and the scheduler must see a death so
                // that a task that keeps blowing up memory ends as KilledWorker.
                child.signal(SIGKILL)
                return true
            }
            if control.sleep(0.1) { return false }
        }
        return false
    }

    private static func say(_ text: String, toStandardOutput: Bool = false) {
        let line = "zflow-worker nanny: \(text)\n"
        if toStandardOutput {
            print(line, terminator: "")
            fflush(nil)
        } else {
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// The worker's arguments from the nanny's: without `--nanny`, `--max-restarts N` and `--exit-with-stdin`.
    static func workerArguments(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var skipNext = false
        for argument in arguments {
            if skipNext {
                skipNext = false
                continue
            }
            if argument == "--max-restarts" {
                skipNext = true
                continue
            }
            if argument == "--nanny" || argument == "--exit-with-stdin" || argument.hasPrefix("--max-restarts=") { continue }
            result.append(argument)
        }
        return result
    }
}

/// What the signal handlers share with the nanny's loop: the running child and whether to stop.
private final class NannyControl: @unchecked Sendable {
    private let condition = NSCondition()
    private var child: ChildProcess?
    private var stopping = false

    var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    /// Records the running child; false when a stop came first.
    @discardableResult
    func watch(_ child: ChildProcess?) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        self.child = child
        return !stopping
    }

    /// Stops the child (SIGTERM: it unregisters) and wakes a sleeping nanny.
    func stop() {
        condition.lock()
        stopping = true
        let running = child
        condition.broadcast()
        condition.unlock()
        running?.signal(SIGTERM)
    }

    /// Sleeps `seconds` unless stopped first; returns whether it was stopped.
    func sleep(_ seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while !stopping && condition.wait(until: deadline) {}
        return stopping
    }
}
