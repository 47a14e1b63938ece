import Collections
import ZFlowCore

extension SchedulerState {
    /// The worker where `task` would start soonest, among those that may run it (`mayRun`); nil when none may.
    /// With `needingRoom`, only workers below their queuing capacity count.
    ///
    /// Estimated start = the worker's occupancy per thread (the expected seconds of the tasks it holds) plus
    /// the time to move the inputs it lacks (their bytes over the measured bandwidth). Ties go to the name
    /// that sorts first, so placement is deterministic.
    func chooseWorker(for task: SchedulerTask, needingRoom: Bool = false) -> WorkerID? {
        let loose = task.spec.allowOtherWorkers && !workers.values.contains { mayRun(task, on: $0, strictly: true) }
        let bandwidth = measuredBandwidth
        var best: (id: WorkerID, cost: Double)?
        for (id, worker) in workers where mayRun(task, on: worker, strictly: !loose) {
            if needingRoom && !hasRoom(worker, for: task.spec.function) { continue }
            var missingBytes: UInt64 = 0
            for dependency in task.dependencies {
                guard let input = tasks[dependency], !input.holders.contains(id) else { continue }
                missingBytes.addSaturating(input.nbytes)
            }
            let cost = worker.occupancy / Double(max(worker.nthreads, 1)) + Double(missingBytes) / bandwidth
            if let current = best, current.cost < cost || (current.cost == cost && current.id < id) { continue }
            best = (id, cost)
        }
        return best?.id
    }

    /// Whether `worker` offers the task's function, has the resources it needs, and (when `strictly`) is named
    /// by its `workers` restriction (by name or peer address).
    func mayRun(_ task: SchedulerTask, on worker: WorkerRecord, strictly: Bool = true) -> Bool {
        guard worker.functions.contains(task.spec.function), worker.resources.covers(task.spec.resources),
            retiring.isEmpty || !retiring.contains(worker.id)
        else {
            return false
        }
        guard strictly, !task.spec.workers.isEmpty else { return true }
        return task.spec.workers.contains(worker.id) || task.spec.workers.contains(WorkerID(worker.address.rawValue))
    }

    /// Whether a task is held in the scheduler's queue rather than placed at once: it has no dependencies (so
    /// no data pulls it anywhere) and no restrictions, and queuing is on.
    func isQueueable(_ task: SchedulerTask) -> Bool {
        config.saturation.isFinite && task.dependencies.isEmpty && task.spec.workers.isEmpty
            && task.spec.resources.isEmpty
    }

    /// How many tasks `worker` may hold before queued tasks of `function` wait for it: `saturation × nthreads`
    /// (rounded up), or as many as it runs in `queueTime` when the function is measured short.
    func capacity(of worker: WorkerRecord, for function: String) -> Int {
        let threads = max(worker.nthreads, 1)
        let saturated = Int(min((config.saturation * Double(threads)).rounded(.up), Double(Int32.max)))
        guard let average = averageDuration[function] else { return max(saturated, 1) }
        let perThread = min(
            Double(config.queueTime.nanoseconds) / Double(max(average.nanoseconds, 1)), Double(config.maximumQueuedPerThread))
        return max(saturated, threads * Int(perThread), 1)
    }

    /// Whether `worker` holds fewer tasks than its capacity for `function`.
    func hasRoom(_ worker: WorkerRecord, for function: String) -> Bool {
        worker.processing.count < capacity(of: worker, for: function)
    }

    /// Bytes per second between workers: the mean of what workers measured, or the configured figure.
    var measuredBandwidth: Double {
        var sum = 0.0
        var count = 0
        for worker in workers.values where worker.metrics.bandwidth > 0 {
            sum += worker.metrics.bandwidth
            count += 1
        }
        return count == 0 ? config.bandwidth : sum / Double(count)
    }

    /// The seconds `function` is expected to take.
    func expectedSeconds(_ function: String) -> Double {
        Double((averageDuration[function] ?? config.defaultTaskDuration).nanoseconds) / 1e9
    }

    // MARK: - The queue

    /// Holds a ready root task in the queue.
    mutating func enqueue(_ key: TaskKey) {
        let task = tasks[key]!
        setStatus(key, .queued)
        queue.insert(QueueEntry(priority: task.priority, order: task.order, key: key))
        if queue.count > 2 * queuedCount + 1024 {
            // Entries of tasks that left the queue otherwise (released, cancelled) are dropped in one pass.
            queue = Heap(queue.unordered.filter { tasks[$0.key]?.status == .queued && tasks[$0.key]?.order == $0.order })
        }
    }

    /// Hands queued tasks to `worker`, best first, while it has room for the next one. Tasks it cannot run
    /// (another function) are looked past, up to `queueLookahead` of them, and stay queued for other workers.
    mutating func fillFromQueue(_ worker: WorkerID) {
        var skipped: [QueueEntry] = []
        defer { for entry in skipped { queue.insert(entry) } }
        while let head = queue.min {
            guard let task = tasks[head.key], task.status == .queued, task.order == head.order else {
                queue.removeMin()
                continue
            }
            guard let record = workers[worker] else { return }
            guard mayRun(task, on: record) else {
                guard skipped.count < Self.queueLookahead else { return }
                skipped.append(queue.removeMin())
                continue
            }
            guard hasRoom(record, for: task.spec.function) else { return }
            queue.removeMin()
            assign(head.key, to: worker)
        }
    }

    /// How many queued tasks of other functions `fillFromQueue` looks past for one worker.
    static let queueLookahead = 256

    /// Takes a processing task off its worker (the run ends there), keeping occupancy in step; the worker is
    /// then offered queued tasks at the end of the event.
    mutating func unassign(_ key: TaskKey) {
        guard let task = tasks[key] else { return }
        unassign(task)
    }

    /// `unassign(_:)` for a task already looked up.
    mutating func unassign(_ task: SchedulerTask) {
        guard let worker = task.processingOn else { return }
        if let record = workers[worker] {
            record.processing.remove(task.key)
            record.occupancy = record.processing.isEmpty ? 0 : max(0, record.occupancy - task.expectedDuration)
            workersWithRoom.append(worker)
        }
        task.processingOn = nil
        task.runID = nil
    }

    /// Folds a measured run into the function's average duration (exponential moving average).
    mutating func learnDuration(_ function: String, _ duration: Interval) {
        guard let old = averageDuration[function] else {
            averageDuration[function] = duration
            return
        }
        averageDuration[function] = Interval(nanoseconds: old.nanoseconds / 4 * 3 + duration.nanoseconds / 4)
    }
}

extension UInt64 {
    /// Adds, stopping at the maximum: sizes and durations come from peers and must not trap the scheduler.
    mutating func addSaturating(_ other: UInt64) {
        let (sum, overflow) = addingReportingOverflow(other)
        self = overflow ? .max : sum
    }
}
