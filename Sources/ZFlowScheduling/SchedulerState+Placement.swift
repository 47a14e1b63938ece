import ZFlowCore

extension SchedulerState {
    /// The worker where `task` would start soonest, among those offering its function (and named in its
    /// `workers` restriction, when it has one); nil when none does.
    ///
    /// Estimated start = queued work (tasks assigned per thread × the function's average duration) plus the
    /// time to move the inputs the worker lacks (their bytes over `config.bandwidth`). Ties go to the name
    /// that sorts first, so placement is deterministic.
    func chooseWorker(for task: SchedulerTask) -> WorkerID? {
        let duration = Double((averageDuration[task.spec.function] ?? config.defaultTaskDuration).nanoseconds) / 1e9
        var best: (id: WorkerID, cost: Double)?
        let allowed = Set(task.spec.workers)
        for (id, worker) in workers where worker.functions.contains(task.spec.function) {
            if !allowed.isEmpty && !allowed.contains(id) { continue }
            let queued = Double(worker.processing.count) / Double(max(worker.nthreads, 1)) * duration
            var missingBytes: UInt64 = 0
            for dependency in task.dependencies {
                guard let input = tasks[dependency], !input.holders.contains(id) else { continue }
                missingBytes.addSaturating(input.nbytes)
            }
            let cost = queued + Double(missingBytes) / config.bandwidth
            if let current = best, current.cost < cost || (current.cost == cost && current.id < id) { continue }
            best = (id, cost)
        }
        return best?.id
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
