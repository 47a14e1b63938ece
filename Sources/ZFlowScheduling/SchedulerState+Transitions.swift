import ZFlowCore

extension SchedulerState {
    // MARK: - Creating and readying tasks

    /// Adds a new task from `spec`, wanted by `client`, and readies it when its inputs are there.
    mutating func addTask(_ spec: TaskSpec, wantedBy client: ClientID?, priority: TaskPriority) {
        var seen = Set<TaskKey>()
        let dependencies = spec.dependencies.count > 1 ? spec.dependencies.filter { seen.insert($0).inserted } : spec.dependencies
        let task = SchedulerTask(
            spec: spec, status: .waiting, dependencies: dependencies, order: nextOrder, priority: priority)
        nextOrder += 1
        if let client { task.wantedBy.insert(client) }
        tasks[spec.key] = task
        record(spec.key, from: nil, to: .waiting)

        var failure: RemoteError?
        for dependency in dependencies {
            guard let input = tasks[dependency] else {
                failure = RemoteError(
                    typeName: "MissingDependency",
                    message: "dependency '\(dependency)' is not known to the scheduler (released or never submitted)",
                    key: spec.key, function: spec.function)
                continue
            }
            input.dependents.insert(spec.key)
            switch input.status {
            case .memory: break
            case .erred:
                failure = failure ?? Self.causedBy(input.error!, dependency: dependency, task: task)
            default: task.waitingOn.insert(dependency)
            }
        }
        for dependency in dependencies where failure == nil { recompute(dependency) }
        if let failure {
            task.waitingOn = []
            err(spec.key, failure)
        } else if task.waitingOn.isEmpty {
            makeReady(spec.key)
        }
    }

    /// An error for `task` caused by the failure of its dependency.
    static func causedBy(_ error: RemoteError, dependency: TaskKey, task: SchedulerTask) -> RemoteError {
        RemoteError(
            typeName: error.typeName, message: error.message, key: task.key, function: task.spec.function,
            worker: error.worker, causeKey: error.causeKey ?? dependency)
    }

    /// Places a task whose inputs are all in memory, queues it (a root task while every worker is saturated),
    /// or parks it until a worker can run it.
    mutating func makeReady(_ key: TaskKey) {
        let task = tasks[key]!
        if workers.isEmpty {
            // Parked until a worker registers: nothing can be said yet about which functions exist.
            setStatus(key, .noWorker)
            noWorker.insert(key)
            return
        }
        if isQueueable(task) {
            // A worker with room has no queued task it could run (the queue is offered to every worker that
            // gains room), so a new task may go straight to it.
            if let worker = chooseWorker(for: task, needingRoom: true) {
                assign(key, to: worker)
                return
            }
            if workers.values.contains(where: { mayRun(task, on: $0) }) {
                enqueue(key)
                return
            }
        }
        guard let worker = chooseWorker(for: task) else {
            let restricted = !task.spec.workers.isEmpty || !task.spec.resources.isEmpty || !retiring.isEmpty
            if restricted, workers.values.contains(where: { $0.functions.contains(task.spec.function) }) {
                setStatus(key, .noWorker)
                noWorker.insert(key)
                return
            }
            let known = Set(workers.values.flatMap(\.functions)).sorted()
            err(
                key,
                RemoteError(
                    typeName: "UnknownFunction",
                    message: "no worker offers function '\(task.spec.function)' (offered: \(known.joined(separator: ", ")))",
                    key: key, function: task.spec.function))
            return
        }
        assign(key, to: worker)
    }

    /// Sends a ready task to `worker` under a new run id.
    mutating func assign(_ key: TaskKey, to worker: WorkerID) {
        nextRun += 1
        let run = RunID(nextRun)
        let task = tasks[key]!
        let record = workers[worker]!
        task.runID = run
        task.processingOn = worker
        task.expectedDuration = expectedSeconds(task.spec.function)
        setStatus(task, .processing)
        record.processing.insert(key)
        record.occupancy += task.expectedDuration
        let locations = task.dependencies.map { dependency in
            let input = tasks[dependency]!
            return DependencyLocation(
                key: dependency, nbytes: input.nbytes, holders: input.holders.compactMap { workers[$0]?.address })
        }
        let assignment = TaskAssignment(
            key: key, runID: run, function: task.spec.function, arguments: task.spec.arguments,
            dependencies: locations, priority: task.priority, resources: task.spec.resources,
            notify: task.spec.pushResult ? Array(task.wantedBy) : [])
        actions.append(.toWorker(record.routing, .computeTask(assignment)))
    }

    /// Takes a task back from the worker running it (its run is abandoned) and readies it again.
    mutating func reschedule(_ key: TaskKey, tellWorker: Bool) {
        guard let worker = tasks[key]?.processingOn else { return }
        if tellWorker, let routing = workers[worker]?.routing { actions.append(.toWorker(routing, .freeKeys([key]))) }
        unassign(key)
        setStatus(key, .waiting)
        readyWhenInputsArrive(key)
    }

    /// Readies a waiting task whose inputs are all in memory; otherwise it waits for the missing ones, and those
    /// that were released are recomputed.
    mutating func readyWhenInputsArrive(_ key: TaskKey) {
        let missing = tasks[key]!.dependencies.filter { tasks[$0]?.status != .memory }
        if missing.isEmpty {
            makeReady(key)
        } else {
            tasks[key]!.waitingOn = Set(missing)
            for dependency in missing { recompute(dependency) }
        }
    }

    /// Brings a result back from its lineage: a released task waits for its inputs again, and inputs that
    /// are released too are recomputed first.
    mutating func recompute(_ key: TaskKey) {
        guard let task = tasks[key], task.status == .released else { return }
        setStatus(key, .waiting)
        let missing = task.dependencies.filter { tasks[$0]?.status != .memory }
        if missing.contains(where: { tasks[$0] == nil }) {
            err(
                key,
                RemoteError(
                    typeName: "LostDependency",
                    message: "an input needed to recompute this result was forgotten", key: key,
                    function: task.spec.function))
            return
        }
        tasks[key]!.waitingOn = Set(missing)
        if missing.isEmpty { makeReady(key) } else { for dependency in missing { recompute(dependency) } }
    }

    // MARK: - Outcomes

    /// Records a result held by `worker` and wakes everything that waited for it.
    mutating func finish(_ key: TaskKey, on worker: WorkerID, nbytes: UInt64) {
        let task = tasks[key]!
        let record = workers[worker]!
        unassign(task)
        task.nbytes = nbytes
        task.holders = [worker]
        record.held.insert(key)
        record.bytesHeld.addSaturating(nbytes)
        record.tasksCompleted += 1
        setStatus(task, .memory)
        counters.tasksCompleted += 1
        let address = record.address
        for client in task.wantedBy {
            actions.append(.toClient(client, .taskFinished(key: key, nbytes: nbytes, holders: [address])))
        }
        let dependents =
            task.dependents.count > 1
            ? task.dependents.sorted(by: { tasks[$0]!.runsBefore(tasks[$1]!) }) : Array(task.dependents)
        for dependent in dependents {
            guard let waiting = tasks[dependent], waiting.status == .waiting else { continue }
            waiting.waitingOn.remove(key)
            if waiting.waitingOn.isEmpty { makeReady(dependent) }
        }
        for dependency in task.dependencies { releaseIfUnneeded(dependency) }
        releaseIfUnneeded(key)
    }

    /// Marks a task and, transitively, its waiting dependents as failed, and tells the clients that want them.
    mutating func err(_ key: TaskKey, _ error: RemoteError) {
        var pending: [(TaskKey, RemoteError)] = [(key, error)]
        var failed: [TaskKey] = []
        while let (current, failure) = pending.popLast() {
            guard let task = tasks[current], task.status != .erred, task.status != .memory, task.status != .released
            else { continue }
            unassign(current)
            if task.status == .noWorker { noWorker.remove(current) }
            tasks[current]!.error = failure
            tasks[current]!.waitingOn = []
            setStatus(current, .erred)
            counters.tasksErred += 1
            failed.append(current)
            for client in task.wantedBy {
                actions.append(.toClient(client, .taskErred(key: current, error: failure)))
            }
            for dependent in task.dependents.sorted() {
                pending.append((dependent, Self.causedBy(failure, dependency: current, task: tasks[dependent]!)))
            }
        }
        for current in failed {
            for dependency in tasks[current]?.dependencies ?? [] { releaseIfUnneeded(dependency) }
            releaseIfUnneeded(current)
        }
    }

    // MARK: - Forgetting

    /// True while a client wants the task or a dependent still needs its result.
    func isNeeded(_ task: SchedulerTask) -> Bool {
        if !task.wantedBy.isEmpty { return true }
        return task.dependents.contains { dependent in
            guard let status = tasks[dependent]?.status else { return false }
            return status == .waiting || status == .processing || status == .noWorker || status == .queued
        }
    }

    /// Frees the result of a task nobody needs any more on every holder; forgets the task itself once no
    /// task computed from it is left (until then it stays `released`, as lineage for recomputation).
    mutating func releaseIfUnneeded(_ key: TaskKey) {
        guard let task = tasks[key] else { return }
        releaseIfUnneeded(task)
    }

    /// `releaseIfUnneeded(_:)` for a task already looked up.
    mutating func releaseIfUnneeded(_ task: SchedulerTask) {
        guard !isNeeded(task) else { return }
        let key = task.key
        guard task.dependents.contains(where: { tasks[$0] != nil }) else {
            forget(task)
            return
        }
        switch task.status {
        case .released, .erred:
            return
        case .memory:
            freeHolders(task)
            task.holders = []
        case .processing:
            if let worker = task.processingOn, let routing = workers[worker]?.routing {
                actions.append(.toWorker(routing, .freeKeys([key])))
            }
            unassign(task)
        case .noWorker:
            noWorker.remove(key)
        case .waiting, .queued:
            task.waitingOn = []
        }
        setStatus(task, .released)
    }

    /// Tells every holder of `task` to drop its result.
    mutating func freeHolders(_ task: SchedulerTask) {
        for holder in task.holders {
            guard let record = workers[holder] else { continue }
            record.held.remove(task.key)
            record.bytesHeld -= min(task.nbytes, record.bytesHeld)
            actions.append(.toWorker(record.routing, .freeKeys([task.key])))
        }
    }

    /// Removes a task, telling the workers that run or hold it, then releases its now unneeded inputs.
    mutating func forget(_ key: TaskKey) {
        guard let task = tasks[key] else { return }
        forget(task)
    }

    /// `forget(_:)` for a task already looked up.
    mutating func forget(_ task: SchedulerTask) {
        let key = task.key
        if let worker = task.processingOn, let routing = workers[worker]?.routing {
            actions.append(.toWorker(routing, .freeKeys([key])))
        }
        unassign(task)
        if task.status == .queued { queuedCount -= 1 }
        tasks.removeValue(forKey: key)
        record(key, from: task.status, to: nil)
        freeHolders(task)
        if task.status == .noWorker { noWorker.remove(key) }
        for dependent in task.dependents { tasks[dependent]?.waitingOn.remove(key) }
        for dependency in task.dependencies {
            guard let input = tasks[dependency] else { continue }
            input.dependents.remove(key)
            releaseIfUnneeded(input)
        }
    }
}
