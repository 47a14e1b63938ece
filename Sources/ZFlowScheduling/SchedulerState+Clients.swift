import ZFlowCore

extension SchedulerState {
    mutating func onClientMessage(_ client: ClientID, _ message: ClientToScheduler, from principal: Principal) {
        guard principal.isClient else {
            refuse(client, .forbidden, "'\(message.op)' needs a client key; \(principal) is a worker")
            return
        }
        if case .register(let version) = message {
            onRegisterClient(client, version: version, principal)
            return
        }
        guard let record = clients[client] else {
            actions.append(
                .toClient(
                    client,
                    .error(
                        ProtocolViolation(
                            .unknownClient,
                            "'\(message.op)' from a client the scheduler does not know (never registered, silent for longer than the client timeout, or the scheduler restarted)"
                        ))))
            return
        }
        guard record.principal == principal else {
            refuse(client, .forbidden, "this client registered as \(record.principal), not \(principal)")
            return
        }
        clients[client]!.lastSeen = now
        switch message {
        case .register: break
        case .submit(let specs): onSubmit(client, principal, specs)
        case .release(let keys): onRelease(client, keys)
        case .cancel(let keys): onCancel(client, principal, keys)
        case .whoHas(let keys): actions.append(.toClient(client, .whoHas(whoHas(keys))))
        case .scattered(let worker, let keys): onScattered(client, principal, worker, keys)
        case .info(let keys): actions.append(.toClient(client, .info(info(whoHasKeys: keys))))
        case .retireWorkers(let names):
            guard principal.role == .admin else {
                refuse(client, .forbidden, "retiring workers needs an admin key; \(principal) is a client")
                return
            }
            onRetireWorkers(names)
        case .heartbeat: break
        case .unregister: removeClient(client)
        }
    }

    /// Answers a client's operation with an error and does nothing else.
    mutating func refuse(_ client: ClientID, _ code: ErrorCode, _ message: String) {
        counters.messagesRejected += 1
        actions.append(.toClient(client, .error(ProtocolViolation(code, message))))
    }

    mutating func onRegisterClient(_ client: ClientID, version: Int, _ principal: Principal) {
        guard version == ProtocolVersion.current else {
            refuse(
                client, .versionMismatch,
                "client speaks ZFLOW/\(version), scheduler speaks ZFLOW/\(ProtocolVersion.current)")
            return
        }
        guard clients[client] == nil else {
            refuse(client, .unexpected, "'register-client' from a registered client")
            return
        }
        guard clients.count < config.maxClients else {
            refuse(client, .limitReached, "the scheduler has its limit of \(config.maxClients) clients")
            return
        }
        clients[client] = ClientRecord(lastSeen: now, principal: principal)
        actions.append(.toClient(client, .registered))
    }

    mutating func onSubmit(_ client: ClientID, _ principal: Principal, _ specs: [TaskSpec]) {
        // A function that acts on workers' machines, named by the spec, by the existing task it would run again,
        // or by a released input it would have recomputed, needs an admin.
        if principal.role != .admin, let privileged = specs.first(where: runsAdminWork) {
            // All or nothing: a graph with one refused task would leave its dependents waiting on it.
            for spec in specs {
                failTask(
                    spec.key, for: client, as: "NotAllowed", function: spec.function,
                    "function '\(privileged.function)' needs an admin key; this client is \(principal)")
            }
            return
        }
        let generation = clients[client]!.submissions
        clients[client]!.submissions += 1
        let graphOrder = Self.graphOrder(specs)
        for (index, spec) in specs.enumerated() {
            guard let existing = tasks[spec.key] else {
                let position = graphOrder?[spec.key] ?? UInt64(index)
                addTask(
                    spec, wantedBy: client,
                    priority: TaskPriority(user: spec.priority, generation: generation, graphOrder: position))
                continue
            }
            tasks[spec.key]!.wantedBy.insert(client)
            switch existing.status {
            case .memory:
                let holders = existing.holders.compactMap { workers[$0]?.address }
                actions.append(.toClient(client, .taskFinished(key: spec.key, nbytes: existing.nbytes, holders: holders)))
            case .erred:
                actions.append(.toClient(client, .taskErred(key: spec.key, error: existing.error!)))
            case .released:
                recompute(spec.key)
            case .waiting, .processing, .noWorker, .queued:
                break
            }
        }
    }

    /// Tells `client` that its operation on `key` failed (`task-erred`), without touching the task.
    mutating func failTask(
        _ key: TaskKey, for client: ClientID, as typeName: String, function: String? = nil, _ message: String
    ) {
        actions.append(
            .toClient(
                client, .taskErred(key: key, error: RemoteError(typeName: typeName, message: message, key: key, function: function))))
    }

    /// Whether submitting `spec` would run an admin function: its own, that of the existing task under its key,
    /// or that of any released task it would have recomputed (its own, or its inputs', all the way back).
    func runsAdminWork(_ spec: TaskSpec) -> Bool {
        isAdminFunction(spec.function) || recomputesAdminWork(spec.key) || spec.dependencies.contains(where: recomputesAdminWork)
    }

    /// Whether the task under `key` runs an admin function, or being released would recompute released inputs
    /// that do.
    func recomputesAdminWork(_ key: TaskKey) -> Bool {
        guard let task = tasks[key] else { return false }
        if isAdminFunction(task.spec.function) { return true }
        var pending = task.status == .released ? [task] : []
        var seen: Set<TaskKey> = []
        while let next = pending.popLast() {
            for input in next.dependencies where seen.insert(input).inserted {
                guard let upstream = tasks[input], upstream.status == .released else { continue }
                if isAdminFunction(upstream.spec.function) { return true }
                pending.append(upstream)
            }
        }
        return false
    }

    /// Whether only admins may submit `function`: configured so, or declared so by a worker.
    func isAdminFunction(_ function: String?) -> Bool {
        guard let function else { return false }
        return config.adminFunctions.contains(function) || declaredAdminFunctions.contains(function)
    }

    /// Positions of a submitted graph in depth-first order: each task right after the inputs it needs from the
    /// same submission, one branch finished before the next starts (so a reduction frees memory early rather
    /// than computing every leaf first). Walks from the tasks nothing else in the submission needs, in
    /// submission order, through dependencies in argument order. Nil when no task depends on another in the
    /// submission: then submission order is the graph order.
    static func graphOrder(_ specs: [TaskSpec]) -> [TaskKey: UInt64]? {
        guard specs.count > 1, specs.contains(where: { !$0.dependencies.isEmpty }) else { return nil }
        var index: [TaskKey: Int] = [:]
        for (position, spec) in specs.enumerated() where index[spec.key] == nil { index[spec.key] = position }
        var needed = [Bool](repeating: false, count: specs.count)
        for spec in specs {
            for dependency in spec.dependencies { if let position = index[dependency] { needed[position] = true } }
        }
        var order: [TaskKey: UInt64] = [:]
        var visited = [Bool](repeating: false, count: specs.count)
        var next: UInt64 = 0
        for sink in specs.indices where !needed[sink] {
            // Iterative post-order walk: (task, next dependency to visit).
            var stack: [(Int, Int)] = [(sink, 0)]
            visited[sink] = true
            while let (current, cursor) = stack.last {
                let dependencies = specs[current].dependencies
                if cursor < dependencies.count {
                    stack[stack.count - 1].1 += 1
                    if let child = index[dependencies[cursor]], !visited[child] {
                        visited[child] = true
                        stack.append((child, 0))
                    }
                } else {
                    stack.removeLast()
                    order[specs[current].key] = next
                    next += 1
                }
            }
        }
        // Tasks on a cycle (only hostile input makes one) keep submission order after everything else.
        for spec in specs where order[spec.key] == nil {
            order[spec.key] = next
            next += 1
        }
        return order
    }

    mutating func onRelease(_ client: ClientID, _ keys: [TaskKey]) {
        for key in keys {
            guard let task = tasks[key] else { continue }
            task.wantedBy.remove(client)
            releaseIfUnneeded(task)
        }
    }

    /// Cancels tasks and everything that depends on them, for every client. A client may cancel only keys it
    /// holds a future for; an admin any key.
    mutating func onCancel(_ client: ClientID, _ principal: Principal, _ asked: [TaskKey]) {
        var keys = asked
        if principal.role != .admin {
            keys = asked.filter { tasks[$0].map { $0.wantedBy.contains(client) } ?? true }
            if keys.count < asked.count {
                refuse(
                    client, .forbidden,
                    "cancel: \(asked.count - keys.count) key(s) belong to other clients (only an admin may cancel them)")
            }
        }
        var order: [TaskKey] = []
        var seen = Set<TaskKey>()
        var pending = keys.reversed().map { $0 }
        while let key = pending.popLast() {
            guard tasks[key] != nil, seen.insert(key).inserted else { continue }
            order.append(key)
            pending.append(contentsOf: tasks[key]!.dependents.sorted().reversed())
        }
        for key in order {
            guard let task = tasks[key] else { continue }
            for client in task.wantedBy {
                actions.append(.toClient(client, .taskCancelled(key: key)))
            }
            tasks[key]!.wantedBy = []
        }
        for key in order.reversed() { forget(key) }
    }

    mutating func onScattered(_ client: ClientID, _ principal: Principal, _ workerID: WorkerID, _ keys: [KeySize]) {
        if let oversized = keys.first(where: { $0.nbytes > config.maxResultBytes }) {
            refuse(client, .outOfRange, "scattered '\(oversized.key)': nbytes over \(config.maxResultBytes)")
            return
        }
        guard let holder = workers[workerID] else {
            for item in keys {
                failTask(item.key, for: client, as: "UnknownWorker", "scattered to worker '\(workerID)', which is not connected")
            }
            return
        }
        for item in keys {
            if let existing = tasks[item.key] {
                // The key exists: this client now holds a future for it, and the first value stays. Only a lost
                // scattered value may be revived from the copy just stored; a computed one is recomputed. The
                // new copy never joins the holders of a result in memory, so no client can replace what others
                // fetch.
                if principal.role != .admin && recomputesAdminWork(item.key) {
                    failTask(
                        item.key, for: client, as: "NotAllowed",
                        "key '\(item.key)' stands for an admin's task; this client is \(principal)")
                    continue
                }
                existing.wantedBy.insert(client)
                // The copy just stored on that worker is not counted: it is dropped there, unless the worker
                // holds or runs the key itself.
                let orphan = existing.processingOn != workerID && !existing.holders.contains(workerID)
                if orphan && !(existing.status == .released && existing.spec.function == "scatter") {
                    actions.append(.toWorker(holder.routing, .freeKeys([item.key])))
                }
                switch existing.status {
                case .released where existing.spec.function == "scatter":
                    existing.nbytes = item.nbytes
                    existing.holders = [workerID]
                    setStatus(existing, .memory)
                    holder.held.insert(item.key)
                    holder.bytesHeld.addSaturating(item.nbytes)
                    actions.append(.toClient(client, .taskFinished(key: item.key, nbytes: item.nbytes, holders: [holder.address])))
                case .released:
                    recompute(item.key)
                case .memory:
                    let holders = existing.holders.compactMap { workers[$0]?.address }
                    actions.append(.toClient(client, .taskFinished(key: item.key, nbytes: existing.nbytes, holders: holders)))
                case .erred:
                    actions.append(.toClient(client, .taskErred(key: item.key, error: existing.error!)))
                case .waiting, .processing, .noWorker, .queued:
                    break
                }
                continue
            }
            let task = SchedulerTask(
                spec: TaskSpec(key: item.key, function: "scatter", arguments: Payload([])),
                status: .memory, dependencies: [], order: nextOrder, priority: TaskPriority())
            nextOrder += 1
            task.holders = [workerID]
            task.nbytes = item.nbytes
            task.wantedBy = [client]
            tasks[item.key] = task
            record(item.key, from: nil, to: .memory)
            holder.held.insert(item.key)
            holder.bytesHeld.addSaturating(item.nbytes)
            actions.append(.toClient(client, .taskFinished(key: item.key, nbytes: item.nbytes, holders: [holder.address])))
        }
    }

    /// Releases everything a departed client wanted.
    ///
    /// The tasks are found by a scan rather than kept in a per-client set: clients leave rarely, and the set
    /// cost a hash insert and remove per task and about 30 bytes per task of scheduler memory.
    mutating func removeClient(_ client: ClientID) {
        guard clients.removeValue(forKey: client) != nil else { return }
        let wanted = tasks.compactMap { $0.value.wantedBy.contains(client) ? $0.key : nil }.sorted()
        for key in wanted {
            guard let task = tasks[key] else { continue }
            task.wantedBy.remove(client)
            releaseIfUnneeded(task)
        }
    }

    /// The peer addresses holding each key (empty for keys not in memory).
    func whoHas(_ keys: [TaskKey]) -> [TaskKey: [PeerAddress]] {
        var result: [TaskKey: [PeerAddress]] = [:]
        for key in keys { result[key] = tasks[key]?.holders.compactMap { workers[$0]?.address } ?? [] }
        return result
    }

    /// A snapshot of the cluster, with the holders of `whoHasKeys`.
    public func info(whoHasKeys: [TaskKey] = []) -> SchedulerInfo {
        let workerInfos = workers.values.sorted { $0.id < $1.id }.map { worker in
            WorkerInfo(
                name: worker.id.rawValue, address: worker.address.rawValue, nthreads: worker.nthreads,
                processing: worker.processing.count, keysHeld: worker.held.count, bytesHeld: worker.bytesHeld,
                functions: worker.functions.sorted(), lastSeenMilliseconds: (now - worker.lastSeen).milliseconds,
                tasksCompleted: worker.tasksCompleted, metrics: worker.metrics, dataDirectory: worker.dataDirectory)
        }
        var counts: [String: Int] = [:]
        for status in TaskStatus.allCases { counts[status.rawValue] = 0 }
        for task in tasks.values { counts[task.status.rawValue, default: 0] += 1 }
        var holders: [String: [String]] = [:]
        for key in whoHasKeys { holders[key.rawValue] = tasks[key]?.holders.map(\.rawValue) ?? [] }
        return SchedulerInfo(
            workers: workerInfos, taskCounts: counts, clients: clients.count, counters: counters, whoHas: holders)
    }
}
