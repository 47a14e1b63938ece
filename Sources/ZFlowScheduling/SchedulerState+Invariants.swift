import ZFlowCore

extension SchedulerState {
    /// Checks every documented invariant; a broken one stops the process with the task's story.
    ///
    /// Tests call this after every step, as dask's `validate_state()`.
    public func checkInvariants() {
        func fail(_ key: TaskKey, _ what: String) -> Never {
            preconditionFailure("SchedulerState invariant broken for '\(key)': \(what)\n\(story(key).map(\.description).joined(separator: "\n"))")
        }
        for (key, task) in tasks {
            if (task.status == .processing) != (task.processingOn != nil) { fail(key, "processingOn vs status \(task.status)") }
            if let worker = task.processingOn, workers[worker]?.processing.contains(key) != true {
                fail(key, "processing on \(worker), which does not list it")
            }
            if (task.status == .memory) != !task.holders.isEmpty { fail(key, "holders \(task.holders) vs status \(task.status)") }
            for holder in task.holders where workers[holder]?.held.contains(key) != true {
                fail(key, "held by \(holder), which does not list it")
            }
            if (task.status == .erred) != (task.error != nil) { fail(key, "error vs status \(task.status)") }
            if task.status != .waiting && !task.waitingOn.isEmpty { fail(key, "waitingOn while \(task.status)") }
            for dependency in task.waitingOn where tasks[dependency]?.status == .memory {
                fail(key, "waits on \(dependency), which is in memory")
            }
            if (task.status == .noWorker) != noWorker.contains(key) { fail(key, "noWorker set vs status") }
            for dependency in task.dependencies where tasks[dependency] != nil {
                if tasks[dependency]!.dependents.contains(key) == false, task.status != .memory, task.status != .erred {
                    fail(key, "dependency \(dependency) does not list it as dependent")
                }
            }
            for client in task.wantedBy where clients[client] == nil {
                fail(key, "wanted by \(client), which is not connected")
            }
            if !isNeeded(task) {
                if task.status != .released && task.status != .erred { fail(key, "\(task.status) although nobody needs it") }
                if !task.dependents.contains(where: { tasks[$0] != nil }) { fail(key, "kept with no dependent left") }
            }
        }
        for (id, worker) in workers {
            for key in worker.processing where tasks[key]?.processingOn != id { fail(key, "listed as processing on \(id)") }
            for key in worker.held where tasks[key]?.holders.contains(id) != true { fail(key, "listed as held by \(id)") }
            precondition(workerByRouting[worker.routing] == id, "routing map broken for worker \(id)")
        }
    }
}
