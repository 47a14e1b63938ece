import ZFlowCore

extension SchedulerState {
    mutating func onWorkerMessage(_ routing: RoutingID, _ message: WorkerToScheduler, from principal: Principal) {
        guard principal.role == .worker else {
            refuse(routing, .forbidden, "'\(message.op)' needs a worker key; \(principal) is a \(principal.role)")
            return
        }
        if case .register(let registration) = message {
            onRegister(routing, registration, principal)
            return
        }
        guard let id = workerByRouting[routing] else {
            actions.append(
                .toWorker(routing, .error(ProtocolViolation(.unknownWorker, "unknown worker: register first"))))
            return
        }
        guard workers[id]!.principal == principal else {
            refuse(routing, .forbidden, "this connection registered as \(workers[id]!.principal), not \(principal)")
            return
        }
        workers[id]!.lastSeen = now
        switch message {
        case .register: break
        case .taskFinished(let key, let run, let nbytes, let duration):
            onTaskFinished(id, key, run, nbytes, duration)
        case .taskErred(let key, let run, let error):
            onTaskErred(id, key, run, error)
        case .taskCrashed(let key, let run, let signal):
            onTaskCrashed(id, key, run, signal)
        case .missingData(let key, let holder):
            onMissingData(id, key, holder)
        case .stealResponse(let key, let run, let stolen):
            onStealResponse(id, key, run, stolen)
        case .addKeys(let sizes):
            onAddKeys(id, sizes)
        case .heartbeat:
            break
        case .metrics(let metrics):
            workers[id]!.metrics = metrics
        case .unregister:
            removeWorker(id, died: false)
        }
    }

    /// Fails the tasks not yet running that call `functions`, just declared admin-only, unless an admin holds a
    /// future for them: they were submitted before any worker said so, and would otherwise run for a non-admin
    /// once their inputs arrive or this worker takes the parked ones.
    mutating func refuseNonAdminWork(of functions: Set<String>) {
        let refused = tasks.values.filter { task in
            functions.contains(task.spec.function)
                && [.waiting, .noWorker, .queued].contains(task.status)
                && !task.wantedBy.contains { clients[$0]?.principal.role == .admin }
        }.map { (key: $0.key, function: $0.spec.function) }.sorted { $0.key < $1.key }
        // Failing one task fails its dependents too: a key refused here may have ended before its turn.
        for (key, function) in refused where tasks[key].map({ [.waiting, .noWorker, .queued].contains($0.status) }) ?? false {
            err(
                key,
                RemoteError(
                    typeName: "NotAllowed",
                    message: "function '\(function)' became admin-only (a worker declared it) before this task ran",
                    key: key, function: function))
        }
    }

    /// Answers a worker's operation with an error and does nothing else.
    mutating func refuse(_ routing: RoutingID, _ code: ErrorCode, _ message: String) {
        counters.messagesRejected += 1
        actions.append(.toWorker(routing, .error(ProtocolViolation(code, message))))
    }

    /// Why a registration cannot be accepted as stated, or nil when every number and name is in range.
    ///
    /// Under security (a principal from a key, not `Principal.localWorker`) the peer address must carry the peer
    /// socket's key, and without security it must not: requesters could not reach it otherwise.
    func registrationProblem(_ registration: WorkerRegistration, _ principal: Principal) -> ProtocolViolation? {
        guard registration.version == ProtocolVersion.current else {
            return ProtocolViolation(
                .versionMismatch,
                "worker speaks ZFLOW/\(registration.version), scheduler speaks ZFLOW/\(ProtocolVersion.current)")
        }
        guard (1...config.maxThreadsPerWorker).contains(registration.nthreads) else {
            return ProtocolViolation(
                .outOfRange, "nthreads must be 1...\(config.maxThreadsPerWorker), got \(registration.nthreads)")
        }
        guard registration.heartbeatInterval <= config.maximumHeartbeatInterval else {
            return ProtocolViolation(
                .outOfRange,
                "heartbeat_ms must be at most \(config.maximumHeartbeatInterval.milliseconds), got \(registration.heartbeatInterval.milliseconds)"
            )
        }
        guard let endpoint = PeerEndpoint(registration.address),
            (endpoint.serverKey != nil) == (principal != .localWorker)
        else {
            return ProtocolViolation(.outOfRange, "address must be tcp://HOST:PORT (with |KEY under security, without it otherwise), got '\(registration.address.rawValue.prefix(80))'")
        }
        if let bad = registration.resources.amounts.first(where: { !$0.value.isFinite || $0.value <= 0 || $0.value > 1e18 }) {
            return ProtocolViolation(.outOfRange, "resource '\(bad.key.prefix(80))' must be a positive finite amount")
        }
        if let held = registration.held.first(where: { $0.nbytes > config.maxResultBytes }) {
            return ProtocolViolation(.outOfRange, "held key '\(held.key.rawValue.prefix(80))': nbytes over \(config.maxResultBytes)")
        }
        return nil
    }

    mutating func onRegister(_ routing: RoutingID, _ registration: WorkerRegistration, _ principal: Principal) {
        if let problem = registrationProblem(registration, principal) {
            refuse(routing, problem.code, problem.message)
            return
        }
        if let existing = workers[registration.name], existing.routing != routing {
            refuse(routing, .nameTaken, "worker name '\(registration.name)' is used by another live worker")
            return
        }
        guard workerByRouting[routing] == nil else {
            refuse(routing, .unexpected, "'register' from a registered worker")
            return
        }
        guard workers.count < config.maxWorkers else {
            refuse(routing, .limitReached, "the scheduler has its limit of \(config.maxWorkers) workers")
            return
        }
        if expiredRoutings.remove(routing) != nil { revivals[routing, default: 0] += 1 }
        workers[registration.name] = WorkerRecord(
            id: registration.name, routing: routing, principal: principal, address: registration.address,
            nthreads: registration.nthreads, functions: Set(registration.functions),
            heartbeatInterval: max(registration.heartbeatInterval, config.minimumHeartbeatInterval), lastSeen: now)
        // Only functions it offers: a worker key cannot make other workers' functions admin-only.
        var newlyAdmin: Set<String> = []
        for function in registration.adminFunctions
        where registration.functions.contains(function) && declaredAdminFunctions.count < config.maxWorkers {
            if declaredAdminFunctions.insert(function).inserted && !config.adminFunctions.contains(function) {
                newlyAdmin.insert(function)
            }
        }
        workers[registration.name]!.dataDirectory = registration.dataDirectory
        workers[registration.name]!.resources = registration.resources
        workerByRouting[routing] = registration.name
        actions.append(.toWorker(routing, .registered))
        if !newlyAdmin.isEmpty { refuseNonAdminWork(of: newlyAdmin) }
        // A worker may claim again only what it held under this name and key when it left; a worker of another
        // key under the same name neither claims nor clears that record.
        var claimable: [TaskKey: UInt64] = [:]
        if let former = formerHoldings[registration.name], former.principal == principal {
            claimable = former.tasks
            formerHoldings.removeValue(forKey: registration.name)
        }
        var unknown: [TaskKey] = []
        for held in registration.held {
            if let order = claimable[held.key], let task = tasks[held.key], task.order == order, task.status == .memory,
                !tasks[held.key]!.holders.contains(registration.name)
            {
                tasks[held.key]!.holders.append(registration.name)
                workers[registration.name]!.held.insert(held.key)
                workers[registration.name]!.bytesHeld.addSaturating(tasks[held.key]!.nbytes)
            } else {
                unknown.append(held.key)
            }
        }
        if !unknown.isEmpty { actions.append(.toWorker(routing, .freeKeys(unknown))) }
        let parked = noWorker.sorted { tasks[$0]!.runsBefore(tasks[$1]!) }
        noWorker.removeAll()
        for key in parked where tasks[key]?.status == .noWorker {
            setStatus(key, .waiting)
            // An input may have been lost while the task was parked.
            readyWhenInputsArrive(key)
        }
        // A new worker gets queued tasks at once, then a share of what busy workers hold.
        if queuedCount > 0 { fillFromQueue(registration.name) }
        balance()
    }

    mutating func onTaskFinished(_ worker: WorkerID, _ key: TaskKey, _ run: RunID, _ nbytes: UInt64, _ duration: Interval) {
        guard let task = tasks[key], task.status == .processing, task.runID == run, task.processingOn == worker else {
            dropStaleRun(key, on: worker)
            return
        }
        guard nbytes <= config.maxResultBytes else {
            refuse(workers[worker]!.routing, .outOfRange, "task-finished '\(key)': nbytes \(nbytes) over \(config.maxResultBytes)")
            onTaskErred(
                worker, key, run,
                RemoteError(
                    typeName: "InvalidReport", message: "worker '\(worker)' reported a result of \(nbytes) bytes",
                    key: key, function: task.spec.function, worker: worker))
            return
        }
        learnDuration(task.spec.function, duration)
        finish(key, on: worker, nbytes: nbytes)
    }

    mutating func onTaskErred(_ worker: WorkerID, _ key: TaskKey, _ run: RunID, _ error: RemoteError) {
        guard let task = tasks[key], task.status == .processing, task.runID == run, task.processingOn == worker else {
            dropStaleRun(key, on: worker)
            return
        }
        guard task.spec.retries > 0 else {
            err(key, error)
            // The worker keeps a failed run until told: the error now lives here.
            actions.append(.toWorker(workers[worker]!.routing, .freeKeys([key])))
            return
        }
        tasks[key]!.spec.retries -= 1
        reschedule(key, tellWorker: true)
    }

    /// A run trapped and its worker is dying: the task fails with `WorkerCrashed` at once (or runs again while it
    /// has retries), and the worker is removed now. Its other tasks go elsewhere without suspicion: the culprit is
    /// known, so they do not count towards `KilledWorker`.
    mutating func onTaskCrashed(_ worker: WorkerID, _ key: TaskKey, _ run: RunID, _ signal: Int32) {
        if let task = tasks[key], task.status == .processing, task.runID == run, task.processingOn == worker {
            if task.spec.retries > 0 {
                task.spec.retries -= 1
                reschedule(key, tellWorker: false)
            } else {
                err(
                    key,
                    RemoteError(
                        typeName: "WorkerCrashed",
                        message: "worker '\(worker)' crashed with \(Self.signalName(signal)) while running it",
                        key: key, function: task.spec.function, worker: worker))
            }
        }
        removeWorker(worker, died: false)
    }

    /// `SIGILL (4)` and the like, for messages.
    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 11: "SIGSEGV"]
        return "\(names[signal] ?? "signal") (\(signal))"
    }

    /// A run reported after its task was taken back, forgotten or submitted anew: the worker is told to drop
    /// the key, unless the key now stands for newer work on that same worker — a newer run processing there
    /// (reported under its own run) or a result it holds. `free-keys` names keys, not runs: sent then, it would
    /// drop the newer run too, which would never be reported.
    mutating func dropStaleRun(_ key: TaskKey, on worker: WorkerID) {
        if let task = tasks[key], task.processingOn == worker || task.holders.contains(worker) { return }
        actions.append(.toWorker(workers[worker]!.routing, .freeKeys([key])))
    }

    /// A worker could not get `key` from `holder`: correct the map, and take back the tasks that needed it.
    mutating func onMissingData(_ reporter: WorkerID, _ key: TaskKey, _ holder: PeerAddress) {
        // A copy asked for a retirement failed: the retiring holder keeps it (a slow transfer is no loss), and
        // it is asked for again on the next step.
        if replicating[key] == reporter {
            replicating.removeValue(forKey: key)
            return
        }
        // Only a worker that was told to fetch the key (a task of it processing there) may report it missing:
        // another cannot make the scheduler drop results.
        guard let task = tasks[key], task.dependents.contains(where: { tasks[$0]?.processingOn == reporter }) else {
            return
        }
        if let holderID = workers.values.first(where: { $0.address == holder })?.id,
            let index = tasks[key]!.holders.firstIndex(of: holderID)
        {
            tasks[key]!.holders.remove(at: index)
            workers[holderID]!.held.remove(key)
            workers[holderID]!.bytesHeld -= min(tasks[key]!.nbytes, workers[holderID]!.bytesHeld)
            // It may still be alive and merely slow: make it drop what the scheduler no longer counts on.
            actions.append(.toWorker(workers[holderID]!.routing, .freeKeys([key])))
            if tasks[key]!.holders.isEmpty { loseResult(key) }
        }
        let stranded = tasks[key]!.dependents.filter { tasks[$0]?.processingOn == reporter }.sorted()
        for dependent in stranded { reschedule(dependent, tellWorker: true) }
    }

    /// A result's last holder is gone: it becomes `released`, and is recomputed from its lineage when it is
    /// still needed.
    mutating func loseResult(_ key: TaskKey) { loseResults([key]) }

    /// Results whose last holder is gone: all become `released`, and every waiting task that needs one waits
    /// for it again, before any is recomputed — so that no task is readied (and assigned) while one of its
    /// inputs is lost, whichever order the recomputations run in.
    mutating func loseResults(_ keys: [TaskKey]) {
        let lost = keys.filter { tasks[$0].map { $0.status == .memory && $0.holders.isEmpty } ?? false }
        for key in lost { setStatus(key, .released) }
        for key in lost {
            for dependent in tasks[key]!.dependents {
                guard let waiting = tasks[dependent], waiting.status == .waiting else { continue }
                waiting.waitingOn.insert(key)
            }
        }
        for key in lost { afterLoss(key) }
    }

    /// What follows a loss: an unneeded result is forgotten, a needed one is recomputed (unless recomputing
    /// another lost result has started it already).
    private mutating func afterLoss(_ key: TaskKey) {
        guard let task = tasks[key], task.status == .released else { return }
        guard isNeeded(task) else {
            releaseIfUnneeded(key)
            return
        }
        // Tasks elsewhere that needed it are left alone: most have it already (a running task must not be
        // restarted); one still fetching it from a holder that is gone reports `missing-data` at its fetch
        // deadline (seconds for small keys) and is then taken back to wait for this recomputation.
        recompute(key)
    }

    /// Removes a worker that left or expired: reschedules its tasks and recomputes results only it held.
    ///
    /// When it `died` (expired rather than unregistered), each task it was processing counts it as a suspect;
    /// a task suspected by more than `config.allowedFailures` workers fails with `KilledWorker` instead of
    /// being rescheduled, so a task that kills its worker cannot take the cluster down one worker at a time.
    mutating func removeWorker(_ id: WorkerID, died: Bool) {
        guard let worker = workers[id] else { return }
        for (key, steal) in steals where steal.victim == id || steal.thief == id {
            // The victim's tasks are taken back below; a steal for a departed thief readies the task anew.
            if steal.victim == id { steals.removeValue(forKey: key) } else { steals[key]!.thief = nil }
        }
        workers.removeValue(forKey: id)
        workerByRouting.removeValue(forKey: worker.routing)
        if formerHoldings.count >= config.maxWorkers { formerHoldings.removeAll() }
        if !worker.held.isEmpty {
            formerHoldings[id] = (
                worker.principal, Dictionary(uniqueKeysWithValues: worker.held.compactMap { key in tasks[key].map { (key, $0.order) } })
            )
        }
        retiring.remove(id)
        for (key, receiver) in replicating where receiver == id { replicating.removeValue(forKey: key) }
        // The worker leaves every holder list before any result is lost: a recomputation readied while some
        // lists still named it would be assigned with that input's holders empty, and wait for ever.
        var lost: [TaskKey] = []
        for key in worker.held.sorted() {
            guard let task = tasks[key], let index = task.holders.firstIndex(of: id) else { continue }
            task.holders.remove(at: index)
            if task.holders.isEmpty {
                lost.append(key)
                continue
            }
            // Clients fetch from the holders `task-finished` named: name the ones left.
            let addresses = task.holders.compactMap { workers[$0]?.address }
            for client in task.wantedBy {
                actions.append(.toClient(client, .taskFinished(key: key, nbytes: task.nbytes, holders: addresses)))
            }
        }
        loseResults(lost)
        for key in worker.processing.sorted() where tasks[key]?.processingOn == id {
            guard died else {
                reschedule(key, tellWorker: false)
                continue
            }
            let task = tasks[key]!
            task.suspects.append((id, worker.routing, revivals[worker.routing] ?? 0))
            // An expiry counts unless the same connection registered again afterwards.
            let dead = task.suspects.filter { (revivals[$0.routing] ?? 0) == $0.revivals }
            guard dead.count > config.allowedFailures else {
                reschedule(key, tellWorker: false)
                continue
            }
            let names = dead.map(\.worker.rawValue).joined(separator: ", ")
            err(
                key,
                RemoteError(
                    typeName: "KilledWorker",
                    message: "the task was processing on \(dead.count) workers that died (\(names)); "
                        + "allowed failures: \(config.allowedFailures)",
                    key: key, function: task.spec.function, worker: id))
        }
    }

    /// Remembers an expired connection, to tell a revival from a restart. Bounded: past twice `config.maxWorkers`
    /// connections (or revivals) the memory starts afresh, so that workers coming and going without end cannot
    /// grow it; the `KilledWorker` count of a task whose workers were then in doubt may be off by those.
    mutating func noteExpired(_ routing: RoutingID) {
        if expiredRoutings.count >= 2 * config.maxWorkers || revivals.count >= 2 * config.maxWorkers {
            expiredRoutings.removeAll()
            revivals.removeAll()
        }
        expiredRoutings.insert(routing)
    }

    /// A peer that does not read what it is sent: a worker is treated as dead (its tasks go elsewhere), a client
    /// as gone (its futures are released).
    mutating func onUnreachable(_ routing: RoutingID) {
        if let worker = workerByRouting[routing] {
            noteExpired(routing)
            removeWorker(worker, died: true)
        } else {
            removeClient(ClientID(routing.rawValue))
        }
    }

    mutating func onTick() {
        let expired = workers.values.filter { worker in
            now - worker.lastSeen > worker.heartbeatInterval * config.heartbeatLiveness
        }
        for worker in expired.sorted(by: { $0.id < $1.id }) {
            noteExpired(worker.routing)
            removeWorker(worker.id, died: true)
        }
        let gone = clients.filter { now - $0.value.lastSeen > config.clientTimeout }.keys.sorted()
        for client in gone { removeClient(client) }
        if queuedCount > 0 { for worker in workers.keys.sorted() { fillFromQueue(worker) } }
        balance()
    }
}
