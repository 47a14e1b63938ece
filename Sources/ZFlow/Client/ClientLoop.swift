import Foundation
import Logging
import ZFlowCore
import ZFlowWire
import ZFlowZMQ

/// Where one key stands, as the scheduler last told this client.
enum KeyStatus: Sendable {
    case pending
    case finished(holders: [PeerAddress], nbytes: UInt64)
    case erred(RemoteError)
    case cancelled
}

/// Work handed from async callers to the client's loop thread.
enum ClientCommand: Sendable {
    /// Send an operation to the scheduler.
    case send(ClientToScheduler)
    /// Tell the scheduler the client no longer holds these keys.
    case release([TaskKey])
    /// Call back when every key is finished, or at the first failure, or at the deadline.
    case awaitKeys([TaskKey], deadline: Instant?, @Sendable (Result<Void, Error>) -> Void)
    /// Wait for the keys as `awaitKeys` does, then fetch them as `fetch` does: one hop for `gather`.
    case gather([TaskKey], deadline: Instant?, @Sendable (Result<[TaskKey: Payload], Error>) -> Void)
    /// Store values on a worker.
    case putData(PeerAddress, [KeyedPayload], @Sendable (Result<Void, Error>) -> Void)
    /// Send a request whose reply is `info-reply` or `who-has-reply`.
    case request(ClientToScheduler, @Sendable (Result<SchedulerToClient, Error>) -> Void)
    /// Call back once per key as each reaches a final state.
    case watch([TaskKey], @Sendable (TaskKey) -> Void)
    /// Open sockets to these workers now, so they can push small results before anything is fetched.
    case connectWorkers([PeerAddress])
    /// Unregister and stop the loop.
    case stop
}

/// Everything this client knows of one key, in one record shared by its futures and the loop: a status change,
/// a handle or a wait costs one lookup, in one dictionary.
final class KeyRecord: @unchecked Sendable {
    /// Live `Future` handles; guarded by the table's lock.
    fileprivate(set) var handles = 0
    /// Where the key stands. The loop writes it under the table's lock (`KeyTable.set`) and reads it without
    /// (only the loop writes it); other threads read it under the lock (`KeyTable.status`).
    fileprivate(set) var status: KeyStatus = .pending
    /// Ids of the loop's waits that end when it settles (loop thread only).
    var waiters: [Int] = []
    /// Called once when it settles (loop thread only).
    var watchers: [@Sendable (TaskKey) -> Void] = []
    /// A small result a worker pushed ahead of `task-finished`, kept until fetched or released (loop thread only).
    var pushed: Payload?
}

/// The records of every key a live `Future` holds, shared between the API (which adds and drops handles and
/// reads statuses) and the loop (which settles keys).
final class KeyTable: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [TaskKey: KeyRecord] = [:]

    /// The key's status, if a handle holds it.
    func status(_ key: TaskKey) -> KeyStatus? {
        lock.lock()
        defer { lock.unlock() }
        return records[key]?.status
    }

    /// The key's record, if a handle holds it.
    func record(_ key: TaskKey) -> KeyRecord? {
        lock.lock()
        defer { lock.unlock() }
        return records[key]
    }

    /// Every record with its key, for the loop to fail what it waits for at once.
    func all() -> [(key: TaskKey, record: KeyRecord)] {
        lock.lock()
        defer { lock.unlock() }
        return records.map { ($0.key, $0.value) }
    }

    /// Records a key's state (called by the loop).
    func set(_ record: KeyRecord, _ status: KeyStatus) {
        lock.lock()
        record.status = status
        lock.unlock()
    }

    /// Adds a handle; a key seen for the first time starts pending.
    func retain(_ key: TaskKey) {
        lock.lock()
        defer { lock.unlock() }
        if let record = records[key] {
            record.handles += 1
        } else {
            let record = KeyRecord()
            record.handles = 1
            records[key] = record
        }
    }

    /// Drops a handle; when it was the last one, calls `lastReleased` while still holding the lock, so that a
    /// new handle for the same key (and its `submit`) cannot be ordered before the release it sends.
    func release(_ key: TaskKey, lastReleased: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        guard let record = records[key] else { return }
        if record.handles > 1 {
            record.handles -= 1
            return
        }
        records.removeValue(forKey: key)
        lastReleased()
    }
}

/// The scheduler's refusals of operations that get no other answer (`cancel`, `retire-workers`), numbered, so
/// that a caller can ask, after a round trip, whether its operation was refused.
final class RefusalLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recent: [(number: Int, violation: ProtocolViolation)] = []
    private var received = 0
    /// Refusals kept for `since`.
    static let capacity = 16

    /// Refusals received so far.
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Records a refusal (called by the loop).
    func append(_ violation: ProtocolViolation) {
        lock.lock()
        defer { lock.unlock() }
        received += 1
        recent.append((received, violation))
        if recent.count > Self.capacity { recent.removeFirst() }
    }

    /// The refusals received after the first `count`, oldest first (at most `capacity`).
    func since(_ count: Int) -> [ProtocolViolation] {
        lock.lock()
        defer { lock.unlock() }
        return recent.filter { $0.number > count }.map(\.violation)
    }
}

/// The client's loop thread: owns the DEALER to the scheduler and DEALERs to workers.
final class ClientLoop: @unchecked Sendable {
    let mailbox = Mailbox<ClientCommand>()
    let refusals = RefusalLog()
    let table: KeyTable
    private let address: String
    private let identity: String
    private let keys: IdentityKeys?
    private let logger: Logger
    private let started = DispatchSemaphore(value: 0)
    private var startError: Error?

    init(address: String, identity: String, keys: IdentityKeys?, table: KeyTable, logger: Logger) {
        self.address = address
        self.identity = identity
        self.keys = keys
        self.table = table
        self.logger = logger
    }

    /// Creates the sockets on a new thread and starts the loop.
    func start() throws {
        let thread = Thread { [self] in run() }
        thread.name = "zflow-client-loop"
        thread.stackSize = 8 << 20
        thread.start()
        started.wait()
        if let startError { throw startError }
    }

    private func run() {
        let context = ZMQContext()
        let scheduler: ZMQSocket
        let monitor: ZMQSocket
        do {
            scheduler = try ZMQSocket(context, .dealer)
            try scheduler.configureForZFlow()
            try scheduler.setIdentity(identity)
            if let keys { try scheduler.makeCurveClient(serverKey: keys.scheduler, keys: keys.identity) }
            monitor = try scheduler.monitorHandshakes()
            try scheduler.connect(address)
        } catch {
            startError = error
            started.signal()
            return
        }
        started.signal()
        var state = ClientLoopState(
            context: context, scheduler: scheduler, monitor: monitor, address: address, identity: identity, keys: keys,
            table: table, refusals: refusals, logger: logger)
        state.run(mailbox: mailbox)
        monitor.close()
    }
}

/// The mutable state of the client loop; lives on the loop thread only.
private struct ClientLoopState {
    /// What to do when a wait ends.
    enum WaitOutcome {
        /// Report the end of the wait.
        case resume(@Sendable (Result<Void, Error>) -> Void)
        /// Fetch the keys in chunks as they finish, then report the values (`gather`).
        case gather(Gathering)
        /// Go on with fetch `id` for these keys (they were being recomputed).
        case refetch(id: Int, [TaskKey])
    }
    /// A `gather` under way. Its keys are fetched in chunks of `chunk` as they finish, so the workers serve
    /// and this client decodes the first results while later tasks still run, instead of all at the end.
    /// Touched by the loop thread only.
    final class Gathering: @unchecked Sendable {
        static let chunk = 1000
        let completion: @Sendable (Result<[TaskKey: Payload], Error>) -> Void
        var results: [TaskKey: Payload] = [:]
        /// Finished keys not asked for yet.
        var unfetched: [TaskKey] = []
        var fetchesInFlight = 0
        /// Every key has finished (nothing more joins `unfetched`).
        var settled = false
        /// Reported already (a failure, or every value).
        var done = false
        /// When the caller stops waiting, fetches included; nil: never.
        let deadline: Instant?
        /// Its fetches (ids in `fetches`), dropped with their waits if it times out.
        var fetchIDs: [Int] = []
        let started = MonotonicClock.now()

        init(deadline: Instant?, completion: @escaping @Sendable (Result<[TaskKey: Payload], Error>) -> Void) {
            self.deadline = deadline
            self.completion = completion
        }

        /// Reports the values once every key has finished and been fetched.
        func completeIfAllHere() {
            guard settled, !done, fetchesInFlight == 0, unfetched.isEmpty else { return }
            done = true
            completion(.success(results))
        }

        func fail(_ error: Error) {
            guard !done else { return }
            done = true
            completion(.failure(error))
        }
    }
    struct Waiter {
        /// Keys not settled yet (each counted once; their records list this waiter).
        var pending: Int
        let deadline: Instant?
        let started: Instant
        let then: WaitOutcome
    }
    struct Fetch {
        var remaining: Set<TaskKey>
        var results: [TaskKey: Payload] = [:]
        /// Keys of `remaining` lost with their holder and awaited while recomputed: no holder's deadline applies.
        var awaiting: Set<TaskKey> = []
        /// When to stop waiting for the holders asked: peer sockets have no heartbeats.
        var deadline: Instant
        /// Times the scheduler was asked where keys that a holder did not give are now.
        var retries = 0
        let completion: @Sendable (Result<[TaskKey: Payload], Error>) -> Void
    }
    /// The deadline of a fetch that only waits for recomputations: none.
    static let noDeadline = Instant(nanoseconds: .max)
    /// Times a fetch asks the scheduler again (`who-has`) for keys a holder did not give, before it fails.
    static let fetchRetries = 3
    /// How long a `get-data` may go unanswered: 5 s plus the bytes at 20 MB/s, at most 120 s (as workers do).
    static func fetchTimeout(bytes: UInt64) -> Interval {
        min(.seconds(120), .seconds(5) + .seconds(Double(bytes) / 20e6))
    }
    enum PendingReply {
        case fetch(Int)
        case put(@Sendable (Result<Void, Error>) -> Void)
    }

    let context: ZMQContext
    let scheduler: ZMQSocket
    /// Reports the security handshakes of `scheduler`.
    let monitor: ZMQSocket
    /// The scheduler's address, named in errors.
    let address: String
    /// This client's routing id, set on its sockets to workers too, so that they can push results to it.
    let identity: String
    /// This client's keys under security; nil without.
    let keys: IdentityKeys?
    let table: KeyTable
    let refusals: RefusalLog
    let logger: Logger
    let decoder = OperationDecoder()
    let outbox: Outbox
    var workers: [PeerAddress: ZMQSocket] = [:]
    /// When each worker socket was last used, to close idle ones beyond `maximumIdlePeers`.
    var peerLastUsed: [PeerAddress: Instant] = [:]
    /// Worker sockets opened at connection at most (so small results can be pushed before any fetch); the rest
    /// are opened when data is needed from them.
    static let maximumEagerPeers = 32
    /// Open worker sockets kept however idle; beyond, those idle for `peerIdleTimeout` are closed.
    static let maximumIdlePeers = 64
    /// How long a worker socket beyond `maximumIdlePeers` may stay unused.
    static let peerIdleTimeout = Interval.seconds(30)
    /// When idle worker sockets were last looked for.
    var lastIdleCheck = Instant.zero
    /// Whether failed handshakes with the scheduler amount to a refusal.
    var handshakeFailures = HandshakeFailures()
    /// Set once the scheduler refused this client's key or security mechanism: libzmq does not try that
    /// connection again, so every request and wait from then on fails with it (one sent before the event too).
    var securityFailure: ClientError?
    var pendingReplies: [PeerAddress: [PendingReply]] = [:]
    var waiters: [Int: Waiter] = [:]
    /// Gathers with a deadline, until done.
    var timedGatherings: [Gathering] = []
    var fetches: [Int: Fetch] = [:]
    /// Requests answered by `registered` or `info-reply`, in the order they were sent.
    var infoRequests: [@Sendable (Result<SchedulerToClient, Error>) -> Void] = []
    /// Fetches waiting for a `who-has-reply`, in the order the `who-has` ops were sent.
    var whoHasRequests: [Int] = []
    /// True from sending `register-client` until the scheduler answers it.
    var registering = false
    /// True once the scheduler answered 311: it released this client's futures.
    var forgotten = false
    /// Keys whose last future was dropped, not yet sent in a `release`.
    var releases: Set<TaskKey> = []
    /// When the oldest of `releases` was dropped.
    var releasesSince = Instant.zero
    /// What this loop last told the mailbox through `setLooksSoon`.
    var looksSoon = false
    /// How long releases are held before they leave, in one `release` (and the scheduler's `free-keys` in one
    /// message): dropping many futures, or one per round trip, costs one message per interval, not one per
    /// future, and it leaves apart from the next `submit`, off that task's path. Futures post releases lazily
    /// (`postLazily`), so meanwhile they do not wake this loop either. Only memory waits for a release; an
    /// operation that names a held key again (a `submit` reusing it) sends the releases first.
    static let releaseDelay = Interval.milliseconds(5)
    var nextID = 0
    var lastSent = Instant.zero

    init(
        context: ZMQContext, scheduler: ZMQSocket, monitor: ZMQSocket, address: String, identity: String,
        keys: IdentityKeys?, table: KeyTable, refusals: RefusalLog, logger: Logger
    ) {
        self.context = context
        self.refusals = refusals
        self.identity = identity
        self.scheduler = scheduler
        self.monitor = monitor
        self.address = address
        self.keys = keys
        outbox = Outbox(secure: keys != nil)
        self.table = table
        self.logger = logger
    }

    mutating func run(mailbox: Mailbox<ClientCommand>) {
        // The first heartbeat is due a second from now: one sent before `register-client` would be refused.
        lastSent = MonotonicClock.now()
        while true {
            var poller = ZMQPoller()
            let schedulerIndex = poller.add(scheduler)
            let monitorIndex = poller.add(monitor)
            let mailboxIndex = poller.add(fileDescriptor: mailbox.fileDescriptor)
            let peers = Array(workers.keys)
            for peer in peers { poller.add(workers[peer]!) }
            let timeout =
                releases.isEmpty
                ? 100 : Int((releasesSince + Self.releaseDelay - MonotonicClock.now()).milliseconds) + 1
            guard let ready = try? poller.poll(timeoutMilliseconds: timeout) else { break }
            // Lazily posted releases wait in the mailbox unsignalled while releases are held.
            if ready.contains(mailboxIndex) || !releases.isEmpty {
                var stopping = false
                for command in mailbox.drain() {
                    if case .stop = command { stopping = true } else { handle(command) }
                    // A large `map` posts several submits: each leaves at once, and the scheduler starts on
                    // the first while the next is encoded; small commands still leave together.
                    if outbox.isWorthFlushingEarly {
                        outbox.flush(on: scheduler, logger: logger)
                        lastSent = MonotonicClock.now()
                    }
                }
                if stopping {
                    flushReleases()
                    outbox.add(ClientToScheduler.unregister)
                    outbox.flush(on: scheduler, logger: logger)
                    failAll(ClientError.closed)
                    break
                }
            }
            if ready.contains(monitorIndex) { readHandshakes() }
            if ready.contains(schedulerIndex) { receiveFromScheduler() }
            for (offset, peer) in peers.enumerated() where ready.contains(mailboxIndex + 1 + offset) {
                receiveFromWorker(peer)
            }
            expireWaiters()
            let now = MonotonicClock.now()
            if now - lastIdleCheck >= .seconds(1) {
                lastIdleCheck = now
                closeIdlePeers(now: now)
            }
            if now >= releasesSince + Self.releaseDelay { flushReleases() }
            if looksSoon != !releases.isEmpty {
                looksSoon = !releases.isEmpty
                mailbox.setLooksSoon(looksSoon)
            }
            if outbox.isEmpty, now - lastSent >= .seconds(1) { outbox.add(ClientToScheduler.heartbeat) }
            if !outbox.isEmpty {
                outbox.flush(on: scheduler, logger: logger)
                lastSent = now
            }
        }
        for socket in workers.values { socket.close() }
        scheduler.close()
    }

    /// Whether `message` names again a key whose release is held while a new future holds it: that release
    /// ends the old task and must reach the scheduler first, or it would take the new future's claim. (A held
    /// release of a key no future holds any more stays behind: it ends the claim this message makes.)
    func namesAgain(_ message: ClientToScheduler) -> Bool {
        let reused = { (key: TaskKey) in releases.contains(key) && table.record(key) != nil }
        switch message {
        case .submit(let specs): return specs.contains { reused($0.key) }
        case .scattered(_, let keys): return keys.contains { reused($0.key) }
        default: return false
        }
    }

    /// Adds a `release` of the held keys, ahead of whatever is added next.
    mutating func flushReleases() {
        guard !releases.isEmpty else { return }
        outbox.add(ClientToScheduler.release(Array(releases)))
        releases.removeAll(keepingCapacity: true)
    }

    mutating func failAll(_ error: Error) {
        for waiter in waiters.values { finish(waiter.then, .failure(error)) }
        waiters.removeAll()
        for fetch in fetches.values { fetch.completion(.failure(error)) }
        fetches.removeAll()
        for request in infoRequests { request(.failure(error)) }
        infoRequests.removeAll()
        whoHasRequests.removeAll()
        for replies in pendingReplies.values {
            for case .put(let completion) in replies { completion(.failure(error)) }
        }
    }

    // MARK: - Commands

    mutating func handle(_ command: ClientCommand) {
        switch command {
        case .send(let message):
            if !releases.isEmpty, namesAgain(message) { flushReleases() }
            outbox.add(message)
        case .release(let keys):
            if releases.isEmpty { releasesSince = MonotonicClock.now() }
            releases.formUnion(keys)
        case .awaitKeys(let keys, let deadline, let completion):
            awaitKeys(keys, deadline: deadline, then: .resume(completion))
        case .gather(let keys, let deadline, let completion):
            let gathering = Gathering(deadline: deadline, completion: completion)
            if deadline != nil { timedGatherings.append(gathering) }
            awaitKeys(keys, deadline: deadline, then: .gather(gathering))
        case .putData(let peer, let items, let completion):
            do {
                try send(PeerRequest.putData(items), to: peer)
                pendingReplies[peer, default: []].append(.put(completion))
            } catch {
                completion(.failure(error))
            }
        case .request(let message, let completion):
            if let securityFailure {
                completion(.failure(securityFailure))
                return
            }
            if case .register = message { registering = true }
            infoRequests.append(completion)
            flushReleases()
            outbox.add(message)
        case .watch(let keys, let callback):
            for key in keys {
                if let record = table.record(key), case .pending = record.status {
                    record.watchers.append(callback)
                } else {
                    callback(key)
                }
            }
        case .connectWorkers(let peers):
            for peer in peers.prefix(Self.maximumEagerPeers) where workers[peer] == nil {
                do {
                    _ = try peerSocket(peer)
                } catch {
                    logger.warning("cannot connect to worker \(peer): \(error)")
                }
            }
        case .stop:
            break
        }
    }

    mutating func awaitKeys(_ keys: [TaskKey], deadline: Instant?, then: WaitOutcome) {
        if let securityFailure {
            finish(then, .failure(securityFailure))
            return
        }
        let id = nextID
        nextID += 1
        var pending = 0
        for key in keys {
            // Every key waited for has a record: the caller's futures hold it until the wait ends.
            guard let record = table.record(key) else {
                finish(then, .failure(ClientError.dataUnavailable(key, reason: "no future holds it")))
                return
            }
            switch record.status {
            case .finished:
                if case .gather(let gathering) = then { gathering.unfetched.append(key) }
            case .erred(let error):
                // Records already listing `id` skip it when they settle: no waiter is registered under it.
                finish(then, .failure(error))
                return
            case .cancelled:
                finish(then, .failure(ClientError.cancelled(key)))
                return
            case .pending:
                // A key listed twice counts once.
                if record.waiters.last != id {
                    record.waiters.append(id)
                    pending += 1
                }
            }
        }
        if pending == 0 {
            finish(then, .success(()))
            return
        }
        if case .gather(let gathering) = then, !gathering.unfetched.isEmpty { fetchChunk(of: gathering) }
        waiters[id] = Waiter(pending: pending, deadline: deadline, started: MonotonicClock.now(), then: then)
    }

    /// Ends a wait: reports it, or goes on to fetch.
    mutating func finish(_ outcome: WaitOutcome, _ result: Result<Void, Error>) {
        switch (outcome, result) {
        case (.resume(let completion), _): completion(result)
        case (.gather(let gathering), .success):
            gathering.settled = true
            if gathering.unfetched.isEmpty { gathering.completeIfAllHere() } else { fetchChunk(of: gathering) }
        case (.gather(let gathering), .failure(let error)): gathering.fail(error)
        case (.refetch(let id, let keys), .success): refetch(id, keys)
        case (.refetch(let id, _), .failure(let error)):
            fetches.removeValue(forKey: id)?.completion(.failure(error))
        }
    }

    /// Fetches the finished keys of a `gather` not asked for yet.
    mutating func fetchChunk(of gathering: Gathering) {
        let keys = gathering.unfetched
        gathering.unfetched = []
        gathering.fetchesInFlight += 1
        let id = fetch(keys) { result in
            gathering.fetchesInFlight -= 1
            switch result {
            case .success(let values):
                gathering.results.merge(values) { first, _ in first }
                gathering.completeIfAllHere()
            case .failure(let error):
                gathering.fail(error)
            }
        }
        if let id { gathering.fetchIDs.append(id) }
    }

    /// Asks the holders now known for `keys` of fetch `id`.
    mutating func refetch(_ id: Int, _ keys: [TaskKey]) {
        fetches[id]?.awaiting.subtract(keys)
        var holders: [TaskKey: [PeerAddress]] = [:]
        for key in keys { if case .finished(let named, _)? = table.record(key)?.status { holders[key] = named } }
        // A fetch that only waited has no deadline; the requests below set one (a transfer still running keeps its own).
        if fetches[id]?.deadline == Self.noDeadline { fetches[id]?.deadline = MonotonicClock.now() }
        continueFetch(id, holders)
    }

    mutating func expireWaiters() {
        let now = MonotonicClock.now()
        for (id, waiter) in waiters {
            guard let deadline = waiter.deadline, deadline <= now else { continue }
            waiters.removeValue(forKey: id)
            finish(waiter.then, .failure(ClientError.timedOut(seconds: (deadline - waiter.started).seconds)))
        }
        for (id, fetch) in fetches where fetch.deadline <= now {
            let asked = fetch.remaining.subtracting(fetch.awaiting)
            if asked.isEmpty {
                fetches[id]?.deadline = Self.noDeadline
            } else {
                retryFetch(id, keys: asked.sorted(), reason: "its holder did not answer in time")
            }
        }
        // A gather's deadline covers its fetches too (a recomputation awaited there has none of its own).
        timedGatherings.removeAll { $0.done }
        for gathering in timedGatherings where gathering.deadline! <= now {
            gathering.fail(ClientError.timedOut(seconds: (gathering.deadline! - gathering.started).seconds))
            // Its fetches end too, with any wait for a recomputation (its futures may now be dropped, and
            // nothing would settle those keys again). Replies still on their way find no fetch and are ignored.
            let ended = Set(gathering.fetchIDs)
            for id in ended { fetches.removeValue(forKey: id) }
            for (id, waiter) in waiters {
                if case .refetch(let fetch, _) = waiter.then, ended.contains(fetch) { waiters.removeValue(forKey: id) }
            }
        }
    }

    /// Records a key's final state and wakes waiters and watchers.
    mutating func settle(_ key: TaskKey, _ status: KeyStatus) {
        guard let record = table.record(key) else { return }
        table.set(record, status)
        let waiting = record.waiters
        record.waiters = []
        for id in waiting {
            guard waiters[id] != nil else { continue }
            switch status {
            case .finished:
                waiters[id]!.pending -= 1
                let done = waiters[id]!.pending == 0
                if case .gather(let gathering) = waiters[id]!.then {
                    gathering.unfetched.append(key)
                    if !done && gathering.unfetched.count >= Gathering.chunk { fetchChunk(of: gathering) }
                }
                if done { finish(waiters.removeValue(forKey: id)!.then, .success(())) }
            case .erred(let error):
                finish(waiters.removeValue(forKey: id)!.then, .failure(error))
            case .cancelled:
                finish(waiters.removeValue(forKey: id)!.then, .failure(ClientError.cancelled(key)))
            case .pending:
                break
            }
        }
        let watching = record.watchers
        record.watchers = []
        for callback in watching { callback(key) }
    }


    // MARK: - Fetching results from workers

    /// Fetches finished keys from their holders. A key found pending again was lost with its holder and is being
    /// recomputed (another fetch learnt it after this one's caller saw the key finished): it is awaited, then
    /// fetched.
    ///
    /// - Returns: the fetch's id while it goes on (nil when it ended at once).
    @discardableResult
    mutating func fetch(
        _ keys: [TaskKey], completion: @escaping @Sendable (Result<[TaskKey: Payload], Error>) -> Void
    ) -> Int? {
        var byPeer: [PeerAddress: [TaskKey]] = [:]
        var order: [PeerAddress] = []
        var results: [TaskKey: Payload] = [:]
        var recomputing: [TaskKey] = []
        var bytes: UInt64 = 0
        for key in Set(keys) {
            let record = table.record(key)
            if let payload = record?.pushed {
                record?.pushed = nil
                results[key] = payload
                continue
            }
            switch record?.status {
            case .finished(let holders, let nbytes)? where !holders.isEmpty:
                if byPeer[holders[0]] == nil { order.append(holders[0]) }
                byPeer[holders[0], default: []].append(key)
                bytes += nbytes
            case .pending?:
                recomputing.append(key)
            default:
                completion(.failure(ClientError.dataUnavailable(key, reason: "the task has not finished")))
                return nil
            }
        }
        if order.isEmpty && recomputing.isEmpty {
            completion(.success(results))
            return nil
        }
        let id = nextID
        nextID += 1
        fetches[id] = Fetch(
            remaining: Set(byPeer.values.joined()).union(recomputing), results: results, deadline: MonotonicClock.now(),
            completion: completion)
        request(id, byPeer: byPeer, order: order, bytes: bytes)
        awaitRecomputations(recomputing, of: id)
        return id
    }

    /// Waits for keys of fetch `id` being recomputed, then asks their new holders. Holders' deadlines do not
    /// apply to them: recomputations take as long as the tasks do.
    mutating func awaitRecomputations(_ keys: [TaskKey], of id: Int) {
        guard !keys.isEmpty, var fetch = fetches[id] else { return }
        fetch.awaiting.formUnion(keys)
        if fetch.remaining.isSubset(of: fetch.awaiting) { fetch.deadline = Self.noDeadline }
        fetches[id] = fetch
        awaitKeys(keys, deadline: nil, then: .refetch(id: id, keys))
    }

    /// Sends one `get-data` per holder for fetch `id`, and sets its deadline by the `bytes` asked for.
    mutating func request(_ id: Int, byPeer: [PeerAddress: [TaskKey]], order: [PeerAddress], bytes: UInt64) {
        if let current = fetches[id]?.deadline {
            fetches[id]!.deadline = max(current, MonotonicClock.now() + Self.fetchTimeout(bytes: bytes))
        }
        for peer in order {
            do {
                try send(PeerRequest.getData(byPeer[peer]!), to: peer)
                pendingReplies[peer, default: []].append(.fetch(id))
            } catch {
                retryFetch(id, keys: byPeer[peer]!, reason: "cannot reach \(peer): \(error)")
            }
        }
    }

    /// Asks the scheduler where `keys` are now (a holder did not give them: it died, left or was slow), or
    /// fails the fetch once it has asked `fetchRetries` times.
    mutating func retryFetch(_ id: Int, keys: [TaskKey], reason: String) {
        guard var fetch = fetches[id] else { return }
        guard fetch.retries < Self.fetchRetries, !keys.isEmpty else {
            fetches.removeValue(forKey: id)
            fetch.completion(.failure(ClientError.dataUnavailable(keys.first ?? TaskKey("?"), reason: reason)))
            return
        }
        fetch.retries += 1
        // Until the answer comes, the scheduler has at least the short deadline; transfers still running keep theirs.
        fetch.deadline = max(fetch.deadline, MonotonicClock.now() + Self.fetchTimeout(bytes: 0))
        fetches[id] = fetch
        whoHasRequests.append(id)
        outbox.add(ClientToScheduler.whoHas(keys.sorted()))
    }

    /// The scheduler's answer for a retried fetch (the oldest `who-has` outstanding).
    mutating func resumeFetch(_ holders: [TaskKey: [PeerAddress]]) {
        guard !whoHasRequests.isEmpty else { return }
        continueFetch(whoHasRequests.removeFirst(), holders)
    }

    /// Goes on with fetch `id` from these holders; keys with none are being recomputed and are awaited.
    mutating func continueFetch(_ id: Int, _ holders: [TaskKey: [PeerAddress]]) {
        guard let fetch = fetches[id] else { return }
        var byPeer: [PeerAddress: [TaskKey]] = [:]
        var order: [PeerAddress] = []
        var bytes: UInt64 = 0
        var recomputing: [TaskKey] = []
        for key in holders.keys.sorted() where fetch.remaining.contains(key) {
            guard let holder = holders[key]?.first else {
                // Lost with its holder and being recomputed: wait for its `task-finished`, then go on.
                recomputing.append(key)
                continue
            }
            if let record = table.record(key), case .finished(_, let nbytes) = record.status {
                table.set(record, .finished(holders: holders[key]!, nbytes: nbytes))
                bytes += nbytes
            }
            if byPeer[holder] == nil { order.append(holder) }
            byPeer[holder, default: []].append(key)
        }
        request(id, byPeer: byPeer, order: order, bytes: bytes)
        // Only a key still seen as finished becomes pending; one that failed or was cancelled meanwhile keeps its
        // state, and the wait below ends the fetch with it.
        for key in recomputing {
            if let record = table.record(key), case .finished = record.status { table.set(record, .pending) }
        }
        awaitRecomputations(recomputing, of: id)
    }

    /// The socket to a worker's peer ROUTER, opened on first use with this client's routing id (and keys).
    mutating func peerSocket(_ peer: PeerAddress) throws -> ZMQSocket {
        peerLastUsed[peer] = MonotonicClock.now()
        if let existing = workers[peer] { return existing }
        let socket = try ZMQSocket.connectedToPeer(peer, context: context, keys: keys?.identity, identity: identity)
        workers[peer] = socket
        return socket
    }

    /// Closes worker sockets unused for `peerIdleTimeout` with no reply awaited, while more than
    /// `maximumIdlePeers` are open: a client of thousands of workers holds sockets only to those it works with.
    mutating func closeIdlePeers(now: Instant) {
        guard workers.count > Self.maximumIdlePeers else { return }
        let idle = peerLastUsed.filter { now - $0.value >= Self.peerIdleTimeout && pendingReplies[$0.key]?.isEmpty != false }
        // The longest idle first, down to the cap.
        for (peer, _) in idle.sorted(by: { $0.value < $1.value }).prefix(workers.count - Self.maximumIdlePeers) {
            workers.removeValue(forKey: peer)?.close()
            peerLastUsed.removeValue(forKey: peer)
            pendingReplies.removeValue(forKey: peer)
        }
    }

    /// Reads the scheduler connection's handshake events: a refused or mismatched handshake fails the
    /// registration at once with the reason, instead of letting it time out.
    mutating func readHandshakes() {
        while let frames = try? monitor.receive(dontWait: true) {
            guard let event = HandshakeEvent(monitorFrames: frames), handshakeFailures.record(event) else { continue }
            let problem = ClientError.security(securityProblem(event))
            logger.error("\(problem)")
            registering = false
            guard event == .refusedByServer || event.isMechanismMismatch else {
                // libzmq tries again after failures without detail: only the requests waiting now fail.
                for request in infoRequests { request(.failure(problem)) }
                infoRequests.removeAll()
                continue
            }
            securityFailure = problem
            failAll(problem)
        }
    }

    /// One line for a failed handshake with the scheduler, naming the security directory's part in it.
    func securityProblem(_ event: HandshakeEvent) -> String {
        guard let keys else {
            return "the scheduler at \(address) requires CURVE security: pass --security DIR (or set ZFLOW_SECURITY)"
        }
        let directory = keys.directory.path
        if event.isMechanismMismatch {
            return "the scheduler at \(address) does not use security: connect without --security (given \(directory))"
        }
        if event == .refusedByServer {
            return "the scheduler at \(address) refused this client's key (\(keys.principal), \(keys.identity.publicKey)): it is not listed, or was revoked, in the scheduler's security directory (this client's: \(directory))"
        }
        return "the CURVE handshake with the scheduler at \(address) failed: either it does not use security, or \(directory)/scheduler.public is not its key"
    }

    mutating func send(_ request: PeerRequest, to peer: PeerAddress) throws {
        let socket = try peerSocket(peer)
        try socket.send(OperationWriter.frames([request], chunkBytes: keys == nil ? nil : Outbox.curveChunkBytes))
    }

    mutating func receiveFromWorker(_ peer: PeerAddress) {
        guard let socket = workers[peer] else { return }
        while let frames = try? socket.receive(dontWait: true) {
            // A peer batches every reply ready at its flush into one message: one pending request per operation.
            let replies: [Result<PeerReply, WireError>]
            do {
                replies = try decoder.decode(PeerReply.self, frames: frames)
            } catch {
                replies = [.failure(error)]
            }
            for reply in replies {
                if case .success(.pushed(let item)) = reply {
                    acceptPush(item, from: peer)
                    continue
                }
                guard var queue = pendingReplies[peer], !queue.isEmpty else { break }
                let pending = queue.removeFirst()
                pendingReplies[peer] = queue
                answer(pending, with: reply, from: peer)
            }
        }
    }

    /// Keeps a pushed result of a key this client still holds, and settles the key at once.
    mutating func acceptPush(_ item: KeyedPayload, from peer: PeerAddress) {
        guard let record = table.record(item.key) else { return }
        record.pushed = item.payload
        settle(item.key, .finished(holders: [peer], nbytes: UInt64(item.payload.count)))
    }

    /// Completes the request a peer's reply answers.
    mutating func answer(_ pending: PendingReply, with reply: Result<PeerReply, WireError>, from peer: PeerAddress) {
        switch (pending, reply) {
        case (.put(let completion), .success(.putDataStored)):
            completion(.success(()))
        case (.put(let completion), _):
            completion(.failure(ClientError.codec("worker \(peer) refused put-data: \(reply)")))
        case (.fetch(let id), .success(.data(let found, let missing))):
            guard var fetch = fetches.removeValue(forKey: id) else { return }
            for item in found {
                fetch.results[item.key] = item.payload
                fetch.remaining.remove(item.key)
            }
            if fetch.remaining.isEmpty {
                fetch.completion(.success(fetch.results))
                return
            }
            fetches[id] = fetch
            let gone = missing.filter { fetch.remaining.contains($0) }
            if !gone.isEmpty { retryFetch(id, keys: gone, reason: "worker \(peer) no longer holds it") }
        case (.fetch(let id), _):
            guard let fetch = fetches.removeValue(forKey: id) else { return }
            fetch.completion(.failure(ClientError.codec("bad reply from \(peer) to get-data: \(reply)")))
        }
    }

    // MARK: - Scheduler

    mutating func receiveFromScheduler() {
        while let frames = try? scheduler.receive(dontWait: true) {
            let results: [Result<SchedulerToClient, WireError>]
            do {
                results = try decoder.decode(SchedulerToClient.self, frames: frames)
            } catch {
                logger.warning("unreadable message from the scheduler: \(error)")
                continue
            }
            for result in results {
                switch result {
                case .success(let message): onSchedulerMessage(message)
                case .failure(let error): logger.warning("unreadable operation from the scheduler: \(error)")
                }
            }
        }
    }

    mutating func onSchedulerMessage(_ message: SchedulerToClient) {
        switch message {
        case .registered:
            registering = false
            if !infoRequests.isEmpty { infoRequests.removeFirst()(.success(message)) }
        case .taskFinished(let key, let nbytes, let holders):
            settle(key, .finished(holders: holders, nbytes: nbytes))
        case .taskErred(let key, let error):
            settle(key, .erred(error))
        case .taskCancelled(let key):
            settle(key, .cancelled)
        case .whoHas(let holders):
            resumeFetch(holders)
        case .info:
            if !infoRequests.isEmpty { infoRequests.removeFirst()(.success(message)) }
        case .error(let violation) where violation.code == .unknownClient && registering:
            // An operation that left before `register-client` was refused; the registration is on its way.
            logger.debug("refused before registration: \(violation)")
        case .error(let violation) where violation.code == .unknownClient:
            // Everything waited on is gone: fail it precisely rather than wait forever.
            if !forgotten { logger.error("\(ClientError.forgotten)") }
            forgotten = true
            for (key, record) in table.all() {
                guard case .pending = record.status else { continue }
                settle(
                    key,
                    .erred(RemoteError(typeName: "ClientForgotten", message: ClientError.forgotten.description, key: key)))
            }
            failAll(ClientError.forgotten)
        case .error(let violation):
            logger.error("the scheduler refused a request: \(violation)")
            if registering, !infoRequests.isEmpty {
                registering = false
                infoRequests.removeFirst()(.failure(ClientError.refused(violation)))
            } else {
                refusals.append(violation)
            }
        }
    }
}
