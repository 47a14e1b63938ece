import ZFlowCore

/// Makes valid protocol messages whose fields take extreme values — 0, -1, `Int.min`, `Int.max`, 2^64-1, NaN,
/// infinities, empty and huge strings, huge arrays, keys nobody knows — from a seed, so that a run can be
/// repeated. Every message it makes encodes and decodes; what it tests is what receivers do with the values.
///
/// Keys and names come mostly from small pools, so that messages meet each other (a `task-finished` for a key
/// that was submitted, a `register` under a name that is taken) rather than all being about strangers.
public struct ExtremeMessages {
    private var state: UInt64
    /// The length of the rare huge arrays.
    public let hugeCount: Int

    /// A generator for `seed` whose rare huge arrays have `hugeCount` elements.
    public init(seed: UInt64, hugeCount: Int = 2_000) {
        state = seed &+ 0x9E37_79B9_7F4A_7C15
        self.hugeCount = hugeCount
    }

    /// The next raw 64 bits (SplitMix64).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number below `bound` (at least 1).
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

    /// One of `choices`.
    public mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }

    /// A signed integer, extreme most of the time.
    public mutating func int() -> Int {
        pick([0, 1, -1, 2, Int.max, Int.min, Int.max - 1, Int.min + 1, 1 << 62, Int(truncatingIfNeeded: next())])
    }

    /// An unsigned integer, extreme most of the time.
    public mutating func uint() -> UInt64 { pick([0, 1, 2, .max, .max - 1, 1 << 63, 1 << 40, (1 << 40) + 1, next()]) }

    /// A floating-point number, extreme most of the time.
    public mutating func double() -> Double {
        pick([0, -0.0, 1, -1, .nan, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 1e18, 1e19])
    }

    /// A string: empty, ordinary, huge, non-ASCII, or shaped like something else.
    public mutating func string() -> String {
        pick(["", "x", "inc", "shell", "scatter", "worker:w0", "client:c0", "anon:00", "tcp://127.0.0.1:1", "ü∑🙂",
              String(repeating: "k", count: 70_000 / 64), "a|b", "\u{0}"])
    }

    /// A key: usually from a pool of eight, sometimes extreme.
    public mutating func key() -> TaskKey { below(4) == 0 ? TaskKey(string()) : TaskKey("k\(below(8))") }

    /// A worker name: usually from a pool of four.
    public mutating func workerName() -> WorkerID { below(4) == 0 ? WorkerID(string()) : WorkerID("w\(below(4))") }

    /// An interval, extreme most of the time.
    public mutating func interval() -> Interval { Interval(nanoseconds: uint()) }

    /// How many elements an array gets: none, one, a few, or (rarely) very many.
    public mutating func count() -> Int { pick([0, 1, 2, 3, 5, below(50) == 0 ? hugeCount : 4]) }

    /// An array of `element`s, `count()` long.
    public mutating func array<T>(_ element: (inout ExtremeMessages) -> T) -> [T] {
        (0..<count()).map { _ in element(&self) }
    }

    /// A peer address: a well-formed one from a pool, a keyed one, or a string.
    public mutating func address() -> PeerAddress {
        pick([PeerAddress("tcp://w\(below(4)):9000"), PeerAddress("tcp://127.0.0.1:1|" + String(repeating: "a", count: 40)),
              PeerAddress(string())])
    }

    /// Key sizes with extreme sizes.
    public mutating func keySizes() -> [KeySize] { array { KeySize(key: $0.key(), nbytes: $0.uint()) } }

    /// Resources with extreme amounts.
    public mutating func resources() -> Resources {
        Resources(Dictionary(array { ($0.pick(["GPU", "MEM", ""]), $0.double()) }, uniquingKeysWith: { first, _ in first }))
    }

    /// An error value with extreme strings.
    public mutating func remoteError() -> RemoteError {
        RemoteError(typeName: string(), message: string(), key: key(), function: string(), worker: workerName())
    }

    /// A payload: empty, a small valid argument list, or bytes that are not MessagePack.
    public mutating func payload() -> Payload { pick([Payload([]), Payload([0x91, 0x01]), Payload([0xC1, 0xFF]), Payload([0x90])]) }

    /// Any worker → scheduler operation.
    public mutating func workerToScheduler() -> WorkerToScheduler {
        switch below(10) {
        case 0, 1:
            return .register(
                WorkerRegistration(
                    name: workerName(), nthreads: int(), functions: array { $0.string() }, address: address(),
                    heartbeatInterval: interval(), version: pick([ProtocolVersion.current, int()]), held: keySizes(),
                    dataDirectory: pick([nil, string()]), resources: resources()))
        case 2: return .taskFinished(key: key(), runID: RunID(uint()), nbytes: uint(), duration: interval())
        case 3: return .taskErred(key: key(), runID: RunID(uint()), error: remoteError())
        case 4: return .taskCrashed(key: key(), runID: RunID(uint()), signal: Int32(truncatingIfNeeded: int()))
        case 5: return .missingData(key: key(), holder: address())
        case 6: return .stealResponse(key: key(), runID: RunID(uint()), stolen: below(2) == 0)
        case 7: return .addKeys(keySizes())
        case 8: return pick([.heartbeat, .unregister])
        default:
            var metrics = WorkerMetrics()
            metrics.executed = uint()
            metrics.running = uint()
            metrics.queued = uint()
            metrics.storedBytes = uint()
            metrics.memoryLimit = uint()
            metrics.bandwidth = double()
            return .metrics(metrics)
        }
    }

    /// A task spec with extreme fields.
    public mutating func taskSpec() -> TaskSpec {
        TaskSpec(
            key: key(), function: pick(["inc", "add", "shell", "scatter", string()]), arguments: payload(),
            dependencies: array { $0.key() }, priority: int(), workers: array { $0.workerName() },
            allowOtherWorkers: below(2) == 0, resources: resources(), retries: int(), pushResult: below(2) == 0)
    }

    /// Any client → scheduler operation.
    public mutating func clientToScheduler() -> ClientToScheduler {
        switch below(10) {
        case 0: return .register(version: pick([ProtocolVersion.current, int()]))
        case 1, 2: return .submit(array { $0.taskSpec() })
        case 3: return .release(array { $0.key() })
        case 4: return .cancel(array { $0.key() })
        case 5: return .whoHas(array { $0.key() })
        case 6: return .scattered(worker: workerName(), keys: keySizes())
        case 7: return .info(keys: array { $0.key() })
        case 8: return .retireWorkers(array { $0.workerName() })
        default: return pick([.heartbeat, .unregister])
        }
    }

    /// A task assignment with extreme fields.
    public mutating func assignment() -> TaskAssignment {
        TaskAssignment(
            key: key(), runID: RunID(uint()), function: pick(["inc", "scatter", string()]), arguments: payload(),
            dependencies: array { DependencyLocation(key: $0.key(), nbytes: $0.uint(), holders: $0.array { $0.address() }) },
            priority: TaskPriority(user: int(), generation: uint(), graphOrder: uint()), resources: resources(),
            notify: array { ClientID($0.string()) })
    }

    /// Any scheduler → worker operation.
    public mutating func schedulerToWorker() -> SchedulerToWorker {
        switch below(7) {
        case 0, 1: return .computeTask(assignment())
        case 2: return .freeKeys(array { $0.key() })
        case 3: return .stealRequest(key: key(), runID: RunID(uint()))
        case 4:
            return .acquireReplicas(array { DependencyLocation(key: $0.key(), nbytes: $0.uint(), holders: $0.array { $0.address() }) })
        case 5: return .retire
        default: return pick([.registered, .error(ProtocolViolation(.unknownWorker, string()))])
        }
    }

    /// Any request to a worker's peer socket (values small: the sizes a worker refuses are tested elsewhere).
    public mutating func peerRequest() -> PeerRequest {
        below(2) == 0
            ? .getData(array { $0.key() })
            : .putData(array { KeyedPayload(key: $0.key(), payload: $0.payload()) })
    }
}
