import ZFlowCore

extension WorkerState {
    /// The documented invariants of the worker's state that do not hold, one line each (empty when all hold).
    ///
    /// Checks the invariants stated on `WorkerState`'s properties and `WorkerTaskStatus`: `ready` and
    /// `executing` list exactly the tasks in those states, `ready` is in priority order, at most `nthreads`
    /// run, only waiting tasks wait and they wait on keys not yet in memory that list them as dependents,
    /// every `flight` key is in a request in flight, and dependencies being fetched have a dependent.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        let readyKeys = Set(tasks.values.filter { $0.status == .ready }.map(\.key))
        let queued = Set(ready.unordered.map(\.key))
        if !readyKeys.isSubset(of: queued) {
            problems.append("tasks in status ready missing from the run queue: \(readyKeys.subtracting(queued).sorted())")
        }
        let fetchKeys = Set(tasks.values.filter { $0.status == .fetch }.map(\.key))
        if Set(toFetch) != fetchKeys {
            problems.append("toFetch \(toFetch.sorted()) vs tasks in status fetch \(fetchKeys.sorted())")
        }
        let executingKeys = Set(tasks.values.filter { $0.status == .executing }.map(\.key))
        if executing != executingKeys {
            problems.append("executing \(executing.sorted()) vs tasks in status executing \(executingKeys.sorted())")
        }
        if executing.count + abandoned.count > config.maximumExecutionSlots {
            problems.append(
                "\(executing.count) executing and \(abandoned.count) abandoned with \(config.maximumExecutionSlots) slots")
        }
        let inFlightKeys = Set(inFlight.values.flatMap(\.keys))
        for (key, task) in tasks.sorted(by: { $0.key < $1.key }) {
            switch task.status {
            case .waiting:
                if task.assignment == nil { problems.append("\(key): waiting without an assignment") }
                if task.waitingOn.isEmpty { problems.append("\(key): waiting on nothing") }
            case .ready, .executing:
                if task.assignment == nil { problems.append("\(key): \(task.status) without an assignment") }
            case .fetch, .flight, .missing:
                if task.assignment != nil { problems.append("\(key): \(task.status) but assigned here") }
                if task.dependents.isEmpty && !task.keptUntilFreed {
                    problems.append("\(key): \(task.status) with no dependent")
                }
            case .memory, .error:
                break
            }
            if task.status != .waiting && !task.waitingOn.isEmpty {
                problems.append("\(key): waitingOn \(task.waitingOn.sorted()) while \(task.status)")
            }
            for input in task.waitingOn.sorted() {
                guard let dependency = tasks[input] else {
                    problems.append("\(key): waits on \(input), which is unknown")
                    continue
                }
                if dependency.status == .memory { problems.append("\(key): waits on \(input), which is in memory") }
                if !dependency.dependents.contains(key) {
                    problems.append("\(key): waits on \(input), which does not list it as dependent")
                }
            }
            if task.status == .flight && !inFlightKeys.contains(key) {
                problems.append("\(key): in flight but in no request")
            }
        }
        return problems
    }
}

extension WorkerState {
    /// Stops the process with every broken invariant listed; tests call it after every step.
    public func checkInvariants() {
        let problems = invariantViolations()
        precondition(problems.isEmpty, "WorkerState invariants broken:\n" + problems.joined(separator: "\n"))
    }
}
