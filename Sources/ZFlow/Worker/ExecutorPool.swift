import Collections
import Foundation
import ZFlowCore
import ZFlowZMQ

/// One finished run, posted from an executor thread to the worker's loop.
struct ExecutionResult: Sendable {
    let key: TaskKey
    let run: RunID
    /// The function it ran.
    let function: String
    let outcome: Result<Payload, RemoteError>
    let duration: Interval
}

/// A fixed pool of threads that run task bodies (which may block) off the loop thread.
///
/// Work crosses the boundary in batches both ways: the loop submits every run it starts in one call (one lock,
/// and a wake-up only for threads that sleep); when runs are known to be short, a thread takes its share of
/// the queue at once, and threads post results to the loop's mailbox in batches — at the end of a share, once
/// a millisecond has passed since the last post, and before any run that may be long (its function was never
/// measured, or typically takes longer), so such a run does not hold back the results of short ones before it.
/// While runs are not known to be short they are taken one at a time, so an idle thread is never left
/// waiting while another holds queued work.
final class ExecutorPool: @unchecked Sendable {
    /// A run to start: its id (for `withdraw`), whether it may take long (its function was never measured or
    /// typically runs longer than a short run: results finished before it are posted before it starts), and
    /// its body.
    typealias Job = (run: RunID, mayBeLong: Bool, body: @Sendable () -> ExecutionResult)

    /// How long a thread may hold finished results before posting them.
    static let postInterval = Interval.milliseconds(1)

    private let condition = NSCondition()
    private var jobs: Deque<Job> = []
    private var sleeping = 0
    /// Runs a thread takes at once (at most its even share of the queue); 1 unless runs are known to be short.
    private var batchLimit = 1
    private var stopping = false
    private var threads: [Thread] = []
    private let threadCount: Int
    private let results: Mailbox<ExecutionResult>

    /// Starts `count` threads that post what they run to `results`; runs on them see `context` as
    /// `TaskContext.current`, and a run that traps is reported through `crashes`.
    init(count: Int, name: String, results: Mailbox<ExecutionResult>, context: TaskContext, crashes: CrashReporter) {
        self.results = results
        threadCount = max(count, 1)
        for index in 0..<threadCount {
            let thread = Thread { [self] in
                let slot = crashes.registerThread()
                defer { crashes.unregisterThread(slot) }
                TaskContext.$current.withValue(context) { work(crashes: crashes, slot: slot) }
            }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 8 << 20
            threads.append(thread)
            thread.start()
        }
    }

    /// Queues runs in order; free threads take them, up to `takeAtOnce` at a time each.
    func submit(_ batch: [Job], takeAtOnce: Int) {
        guard !batch.isEmpty else { return }
        condition.lock()
        batchLimit = max(takeAtOnce, 1)
        jobs.append(contentsOf: batch)
        let wake = min(sleeping, batch.count)
        if wake == sleeping && wake > 1 {
            condition.broadcast()
        } else {
            for _ in 0..<wake { condition.signal() }
        }
        condition.unlock()
    }

    /// Removes a queued run that no thread has taken; returns whether it was still queued.
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

    private func work(crashes: CrashReporter, slot: Int32) {
        var share: [Job] = []
        var finished: [ExecutionResult] = []
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping {
                sleeping += 1
                condition.wait()
                sleeping -= 1
            }
            if stopping {
                condition.unlock()
                return
            }
            // At most an even split among all threads: a busy one comes back for more, a sleeping one was woken.
            let count = min((jobs.count + threadCount - 1) / threadCount, batchLimit)
            share.removeAll(keepingCapacity: true)
            for _ in 0..<count { share.append(jobs.removeFirst()) }
            condition.unlock()
            var lastPost = MonotonicClock.now()
            for job in share {
                if job.mayBeLong && !finished.isEmpty {
                    results.post(contentsOf: finished)
                    finished.removeAll(keepingCapacity: true)
                    lastPost = MonotonicClock.now()
                }
                crashes.setRun(slot, job.run)
                finished.append(job.body())
                crashes.setRun(slot, nil)
                let now = MonotonicClock.now()
                if now - lastPost >= Self.postInterval {
                    results.post(contentsOf: finished)
                    finished.removeAll(keepingCapacity: true)
                    lastPost = now
                }
            }
            results.post(contentsOf: finished)
            finished.removeAll(keepingCapacity: true)
        }
    }
}
