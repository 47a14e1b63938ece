import Collections
import Foundation
import ZFlowCore

/// One finished run, posted from an executor thread to the worker's loop.
struct ExecutionResult: Sendable {
    let key: TaskKey
    let run: RunID
    let outcome: Result<Payload, RemoteError>
    let duration: Interval
}

/// A fixed pool of threads that run task bodies (which may block) off the loop thread.
final class ExecutorPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: Deque<(run: RunID, body: @Sendable () -> Void)> = []
    private var stopping = false
    private var threads: [Thread] = []

    /// Starts `count` threads.
    init(count: Int, name: String) {
        for index in 0..<max(count, 1) {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 8 << 20
            threads.append(thread)
            thread.start()
        }
    }

    /// Queues a job for run `run`; the next free thread runs it.
    func submit(run: RunID, _ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append((run, job))
        condition.signal()
        condition.unlock()
    }

    /// Removes a queued job that no thread has started; returns whether it was still queued.
    func withdraw(run: RunID) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let index = jobs.firstIndex(where: { $0.run == run }) else { return false }
        jobs.remove(at: index)
        return true
    }

    /// Lets running jobs finish and stops the threads; queued jobs are dropped.
    func shutdown() {
        condition.lock()
        stopping = true
        jobs.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if stopping {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.body()
        }
    }
}
