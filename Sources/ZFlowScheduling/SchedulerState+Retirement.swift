import ZFlowCore

extension SchedulerState {
    /// Starts retiring workers named (or addressed) in `names`: they get no new tasks; once a worker has no
    /// task left, every result only it holds is copied to another worker (`acquire-replicas` / `add-keys`), and
    /// then it is told to `retire` and removed. Nothing is recomputed and nothing is lost. Unknown names are
    /// ignored; a worker with results of its own and no other worker to take them waits.
    mutating func onRetireWorkers(_ names: [WorkerID]) {
        let wanted = Set(names)
        for worker in workers.values where wanted.contains(worker.id) || wanted.contains(WorkerID(worker.address.rawValue)) {
            retiring.insert(worker.id)
        }
    }

    /// Moves each retiring worker one step on: copies of its own results are asked for once, and a worker
    /// with no task and no result of its own is retired.
    mutating func advanceRetirement() {
        for id in retiring.sorted() {
            guard let worker = workers[id] else {
                retiring.remove(id)
                continue
            }
            guard worker.processing.isEmpty else { continue }
            let ownResults = worker.held.filter { tasks[$0]?.holders == [id] }.sorted()
            if ownResults.isEmpty {
                actions.append(.toWorker(worker.routing, .retire))
                removeWorker(id, died: false)
                continue
            }
            // Each copy goes to the receiver holding the fewest bytes, counting the copies asked for just now.
            var load = Dictionary(uniqueKeysWithValues: workers.values.filter { !retiring.contains($0.id) }.map { ($0.id, $0.bytesHeld) })
            var byReceiver: [WorkerID: [DependencyLocation]] = [:]
            for key in ownResults where replicating[key] == nil {
                guard let receiver = load.min(by: { ($0.value, $0.key) < ($1.value, $1.key) })?.key else { break }
                let task = tasks[key]!
                load[receiver, default: 0].addSaturating(task.nbytes)
                replicating[key] = receiver
                byReceiver[receiver, default: []].append(
                    DependencyLocation(key: key, nbytes: task.nbytes, holders: [worker.address]))
            }
            for (receiver, locations) in byReceiver.sorted(by: { $0.key < $1.key }) {
                actions.append(.toWorker(workers[receiver]!.routing, .acquireReplicas(locations)))
            }
        }
    }

    /// A worker now holds copies of these results too.
    mutating func onAddKeys(_ worker: WorkerID, _ sizes: [KeySize]) {
        var unwanted: [TaskKey] = []
        for item in sizes {
            // Only a copy this worker was asked to make counts: a worker cannot make itself a holder of any key.
            guard replicating[item.key] == worker else {
                if tasks[item.key]?.holders.contains(worker) != true { unwanted.append(item.key) }
                continue
            }
            replicating.removeValue(forKey: item.key)
            guard let task = tasks[item.key], task.status == .memory else {
                unwanted.append(item.key)
                continue
            }
            guard !task.holders.contains(worker) else { continue }
            task.holders.append(worker)
            workers[worker]!.held.insert(item.key)
            workers[worker]!.bytesHeld.addSaturating(task.nbytes)
        }
        if !unwanted.isEmpty { actions.append(.toWorker(workers[worker]!.routing, .freeKeys(unwanted))) }
    }
}
