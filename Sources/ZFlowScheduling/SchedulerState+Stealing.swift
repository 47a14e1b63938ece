import ZFlowCore

extension SchedulerState {
    /// Work stealing: each worker with an idle thread asks the busiest worker holding more tasks than threads to
    /// give up queued (not running) tasks that are worth moving, lowest priority first.
    ///
    /// The victim answers each `steal-request`: a task that has not started is dropped there and reassigned
    /// here; one that is running or done stays. Nothing runs twice and nothing is lost whichever message wins.
    mutating func balance() {
        guard config.workStealing, workers.count > 1 else { return }
        var incoming: [WorkerID: Int] = [:]
        var outgoing: [WorkerID: Int] = [:]
        for steal in steals.values {
            outgoing[steal.victim, default: 0] += 1
            if let thief = steal.thief { incoming[thief, default: 0] += 1 }
        }
        func surplus(_ worker: WorkerRecord) -> Int {
            worker.processing.count - (outgoing[worker.id] ?? 0) - max(worker.nthreads, 1)
        }
        let thieves = workers.values.filter { $0.processing.count + (incoming[$0.id] ?? 0) < max($0.nthreads, 1) }
            .sorted { $0.id < $1.id }
        guard !thieves.isEmpty else { return }
        let busy = workers.values.filter { surplus($0) > 0 }
        for thief in thieves {
            // Victims with nothing this thief may run are skipped for this thief only.
            var victims = busy
            var wanted = max(thief.nthreads, 1) - thief.processing.count - (incoming[thief.id] ?? 0)
            while wanted > 0 {
                guard let victim = victims.max(by: { (surplus($0), $1.id) < (surplus($1), $0.id) }), surplus(victim) > 0
                else { break }
                let chosen = stealCandidates(from: victim, for: thief, count: min(wanted, surplus(victim)))
                if chosen.isEmpty {
                    victims.removeAll { $0.id == victim.id }
                    continue
                }
                for key in chosen {
                    let run = tasks[key]!.runID!
                    steals[key] = PendingSteal(victim: victim.id, thief: thief.id, run: run)
                    outgoing[victim.id, default: 0] += 1
                    incoming[thief.id, default: 0] += 1
                    counters.stealRequests += 1
                    actions.append(.toWorker(victim.routing, .stealRequest(key: key, runID: run)))
                }
                wanted -= chosen.count
            }
        }
    }

    /// Up to `count` tasks processing on `victim` that `thief` may run and that are worth moving, lowest
    /// priority first (the last the victim would start): not already being stolen, expected to run at least
    /// `minimumStealDuration` by a measured average, and with missing inputs that move in at most `stealTransferRatio` of that time.
    func stealCandidates(from victim: WorkerRecord, for thief: WorkerRecord, count: Int) -> [TaskKey] {
        let bandwidth = measuredBandwidth
        let minimum = Double(config.minimumStealDuration.nanoseconds) / 1e9
        var chosen: [SchedulerTask] = []
        for key in victim.processing where steals[key] == nil {
            let task = tasks[key]!
            // An unmeasured function's duration is a guess: moving its tasks could cost more than it saves.
            guard task.expectedDuration >= minimum, averageDuration[task.spec.function] != nil, mayRun(task, on: thief)
            else { continue }
            if chosen.count == count, let best = chosen.last, !best.runsBefore(task) { continue }
            var missingBytes: UInt64 = 0
            for dependency in task.dependencies {
                guard let input = tasks[dependency], !input.holders.contains(thief.id) else { continue }
                missingBytes.addSaturating(input.nbytes)
            }
            guard Double(missingBytes) / bandwidth <= config.stealTransferRatio * task.expectedDuration else { continue }
            // Keep the `count` lowest-priority tasks, last-to-run first.
            let index = chosen.firstIndex { $0.runsBefore(task) } ?? chosen.count
            chosen.insert(task, at: index)
            if chosen.count > count { chosen.removeLast() }
        }
        return chosen.map(\.key)
    }

    /// The victim's answer to a `steal-request`: when it gave the task up, the task goes to the thief (or is
    /// readied anew when the thief left); otherwise it stays where it runs.
    mutating func onStealResponse(_ victim: WorkerID, _ key: TaskKey, _ run: RunID, _ stolen: Bool) {
        guard let steal = steals[key], steal.victim == victim, steal.run == run else { return }
        steals.removeValue(forKey: key)
        guard stolen, let task = tasks[key], task.status == .processing, task.runID == run, task.processingOn == victim
        else { return }
        counters.tasksStolen += 1
        unassign(key)
        setStatus(key, .waiting)
        if let thief = steal.thief, let record = workers[thief], mayRun(task, on: record),
            task.dependencies.allSatisfy({ tasks[$0]?.status == .memory })
        {
            assign(key, to: thief)
        } else {
            readyWhenInputsArrive(key)
        }
    }
}
