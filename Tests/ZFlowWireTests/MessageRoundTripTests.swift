import Foundation
import Testing
import ZFlowCore
import ZFlowWire

// MARK: - One sample of every operation (shared with the golden-bytes and fuzz tests)

/// `count` bytes of a recognisable pattern, so a payload read from the wrong place shows.
func patternBytes(_ count: Int, seed: UInt8 = 0) -> Data {
    Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) })
}

/// A payload that travels inline (≤ `OperationWriter.inlineLimit`).
let smallPayload = Payload(patternBytes(100, seed: 1))
/// A payload exactly at the inline limit: still inline.
let limitPayload = Payload(patternBytes(OperationWriter.inlineLimit, seed: 2))
/// A payload one byte over the limit: a frame of its own.
let largePayload = Payload(patternBytes(OperationWriter.inlineLimit + 1, seed: 3))

let sampleError = RemoteError(
    typeName: "ValueError", message: "division by zero ÷ 0", key: "inc-1", function: "divide", worker: "w1",
    causeKey: "load-0")
let bareError = RemoteError(typeName: "UnknownFunction", message: "no worker offers 'frobnicate'")

enum Samples {
    static let workerToScheduler: [WorkerToScheduler] = [
        .register(
            WorkerRegistration(
                name: "worker-1", nthreads: 4, functions: ["inc", "add", "sum"], address: PeerAddress("tcp://127.0.0.1:40123"),
                heartbeatInterval: .milliseconds(50), held: [KeySize(key: "a", nbytes: 10), KeySize(key: "b", nbytes: 1 << 40)])),
        .register(
            WorkerRegistration(
                name: "w", nthreads: 1, functions: [], address: PeerAddress("tcp://[::1]:1"),
                heartbeatInterval: .milliseconds(0), version: 7)),
        .register(
            WorkerRegistration(
                name: "gpu", nthreads: 2, functions: ["train"], address: PeerAddress("tcp://127.0.0.1:2"),
                heartbeatInterval: .milliseconds(100), dataDirectory: "/data", resources: ["GPU": 2, "MEM": 8e9])),
        .stealResponse(key: "inc-1", runID: RunID(9), stolen: true),
        .stealResponse(key: "inc-2", runID: RunID(10), stolen: false),
        .taskFinished(key: "inc-1", runID: RunID(7), nbytes: 1000, duration: Interval(nanoseconds: 1_500_000)),
        .taskFinished(key: "big", runID: RunID(.max), nbytes: .max, duration: Interval(nanoseconds: .max)),
        .taskErred(key: "inc-1", runID: RunID(3), error: sampleError),
        .taskErred(key: "x", runID: RunID(0), error: bareError),
        .taskCrashed(key: "trap-1", runID: RunID(12), signal: 4),
        .taskCrashed(key: "t", runID: RunID(.max), signal: .max),
        .missingData(key: "load-0", holder: PeerAddress("tcp://10.0.0.2:5555")),
        .metrics({
            var metrics = WorkerMetrics()
            metrics.executed = 7
            metrics.fetchedBytes = 1 << 40
            metrics.running = 1
            metrics.queued = 3
            metrics.bandwidth = 1.25e9
            return metrics
        }()),
        .heartbeat,
        .unregister,
    ]

    static let schedulerToWorker: [SchedulerToWorker] = [
        .registered,
        .computeTask(
            TaskAssignment(
                key: "add-3", runID: RunID(42), function: "add", arguments: smallPayload,
                dependencies: [
                    DependencyLocation(key: "a", nbytes: 8, holders: [PeerAddress("tcp://h1:1"), PeerAddress("tcp://h2:2")]),
                    DependencyLocation(key: "b", nbytes: 0, holders: []),
                ], priority: TaskPriority(user: -5, generation: 7, graphOrder: 1))),
        .computeTask(TaskAssignment(key: "big-args", runID: RunID(1), function: "f", arguments: largePayload)),
        .computeTask(
            TaskAssignment(key: "watched", runID: RunID(3), function: "f", arguments: Payload([0x90]), notify: ["client:a", "client:b"])),
        .computeTask(TaskAssignment(key: "empty-args", runID: RunID(2), function: "g", arguments: Payload(Data()),
                priority: TaskPriority(user: Int.max, generation: .max, graphOrder: .max), resources: ["GPU": 1, "MEM": 8e9])),
        .freeKeys(["a", "b", "ключ-🔑"]),
        .stealRequest(key: "inc-1", runID: RunID(9)),
        .freeKeys([]),
        .error(ProtocolViolation(.unknownWorker, "register again")),
        .error(ProtocolViolation(.malformed, "")),
    ]

    static let clientToScheduler: [ClientToScheduler] = [
        .register(version: 1),
        .register(version: -1),
        .submit([
            TaskSpec(key: "load-0", function: "load", arguments: smallPayload),
            TaskSpec(key: "inc-1", function: "inc", arguments: largePayload, dependencies: ["load-0"], priority: 3),
            TaskSpec(key: "sum", function: "sum", arguments: limitPayload, dependencies: ["load-0", "inc-1"], priority: Int.min),
            TaskSpec(
                key: "train", function: "train", arguments: smallPayload, workers: ["gpu", "tcp://127.0.0.1:2"],
                allowOtherWorkers: true, resources: ["GPU": 1], retries: 2),
        ]),
        .submit([]),
        .release(["a", "b"]),
        .cancel(["c"]),
        .whoHas(["a", "z"]),
        .scattered(worker: "worker-1", keys: [KeySize(key: "s-0", nbytes: 12), KeySize(key: "s-1", nbytes: 0)]),
        .info(keys: []),
        .info(keys: ["a"]),
        .heartbeat,
        .unregister,
    ]

    static let schedulerInfo = SchedulerInfo(
        workers: [
            WorkerInfo(
                name: "w1", address: "tcp://127.0.0.1:1", nthreads: 2, processing: 1, keysHeld: 3, bytesHeld: .max,
                functions: ["inc", "add"], lastSeenMilliseconds: 17),
            WorkerInfo(
                name: "w2", address: "tcp://127.0.0.1:2", nthreads: 8, processing: 0, keysHeld: 0, bytesHeld: 0,
                functions: [], lastSeenMilliseconds: 0),
        ],
        taskCounts: ["waiting": 1, "memory": 5, "no-worker": 0], clients: 2,
        counters: {
            var counters = SchedulerCounters()
            counters.tasksCompleted = 10
            counters.tasksErred = 2
            counters.messagesRejected = 1
            return counters
        }(),
        whoHas: ["a": ["w1", "w2"], "b": []])

    static let schedulerToClient: [SchedulerToClient] = [
        .registered,
        .taskFinished(key: "inc-1", nbytes: 8, holders: [PeerAddress("tcp://h1:1")]),
        .taskFinished(key: "lost", nbytes: 0, holders: []),
        .taskErred(key: "inc-1", error: sampleError),
        .taskCancelled(key: "c"),
        .whoHas(["a": [PeerAddress("tcp://h1:1"), PeerAddress("tcp://h2:2")], "b": []]),
        .whoHas([:]),
        .info(schedulerInfo),
        .info(SchedulerInfo(workers: [], taskCounts: [:], clients: 0, counters: SchedulerCounters(), whoHas: [:])),
        .error(ProtocolViolation(.versionMismatch, "ZFLOW/1 only")),
    ]

    static let peerRequest: [PeerRequest] = [
        .getData(["a", "b"]),
        .getData([]),
        .putData([KeyedPayload(key: "s-0", payload: smallPayload), KeyedPayload(key: "s-1", payload: largePayload)]),
        .putData([]),
    ]

    static let peerReply: [PeerReply] = [
        .data(
            found: [
                KeyedPayload(key: "a", payload: largePayload), KeyedPayload(key: "b", payload: smallPayload),
                KeyedPayload(key: "c", payload: Payload(patternBytes(70_000, seed: 9))),
            ], missing: ["d"]),
        .data(found: [], missing: []),
        .putDataStored(["s-0", "s-1"]),
        .pushed(KeyedPayload(key: "inc-1", payload: Payload([0x02]))),
        .error(ProtocolViolation(.unknownOp, "unknown op 'frobnicate'")),
    ]

    /// Every sample of every direction, encoded alone, with a decoder for its direction.
    static var encodedCorpus: [(frames: [Data], decode: (OperationDecoder, [Data]) throws(WireError) -> Int)] {
        func entries<M: WireMessage>(_ messages: [M]) -> [(frames: [Data], decode: (OperationDecoder, [Data]) throws(WireError) -> Int)] {
            var result = messages.map { message in
                (frames: OperationWriter.frames([message]),
                 decode: { (decoder: OperationDecoder, frames: [Data]) throws(WireError) -> Int in
                     try decoder.decode(M.self, frames: frames).count
                 })
            }
            result.append(
                (frames: OperationWriter.frames(messages),
                 decode: { (decoder: OperationDecoder, frames: [Data]) throws(WireError) -> Int in
                     try decoder.decode(M.self, frames: frames).count
                 }))
            return result
        }
        return entries(workerToScheduler) + entries(schedulerToWorker) + entries(clientToScheduler)
            + entries(schedulerToClient) + entries(peerRequest) + entries(peerReply)
    }
}

// MARK: - Helpers

/// Encodes `messages` as one batch and decodes them back.
func roundTrip<M: WireMessage>(_ messages: [M]) throws -> [Result<M, WireError>] {
    try OperationDecoder().decode(M.self, frames: OperationWriter.frames(messages))
}

/// The set of wire names a direction must cover, checked against the samples so a new case cannot go untested.
func expectCovers<M: WireMessage>(_ samples: [M], _ names: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Set(samples.map(\.op)) == names, sourceLocation: sourceLocation)
}

// MARK: - Tests

@Suite("Round trips of every operation")
struct MessageRoundTripTests {
    @Test("every sample covers its direction's table")
    func samplesCoverEveryOperation() {
        expectCovers(
            Samples.workerToScheduler,
            [
                "register", "task-finished", "task-erred", "task-crashed", "missing-data", "steal-response", "heartbeat",
                "worker-metrics", "unregister",
            ])
        expectCovers(Samples.schedulerToWorker, ["registered", "compute-task", "free-keys", "steal-request", "error"])
        expectCovers(
            Samples.clientToScheduler,
            ["register-client", "submit", "release", "cancel", "who-has", "scattered", "info", "heartbeat", "unregister"])
        expectCovers(
            Samples.schedulerToClient,
            ["registered", "task-finished", "task-erred", "task-cancelled", "who-has-reply", "info-reply", "error"])
        expectCovers(Samples.peerRequest, ["get-data", "put-data"])
        expectCovers(Samples.peerReply, ["data", "put-data-ok", "push-result", "error"])
    }

    @Test("worker → scheduler", arguments: Samples.workerToScheduler)
    func workerToScheduler(_ message: WorkerToScheduler) throws {
        #expect(try roundTrip([message]) == [.success(message)])
    }

    @Test("scheduler → worker", arguments: Samples.schedulerToWorker)
    func schedulerToWorker(_ message: SchedulerToWorker) throws {
        #expect(try roundTrip([message]) == [.success(message)])
    }

    @Test("client → scheduler", arguments: Samples.clientToScheduler)
    func clientToScheduler(_ message: ClientToScheduler) throws {
        #expect(try roundTrip([message]) == [.success(message)])
    }

    @Test("scheduler → client", arguments: Samples.schedulerToClient)
    func schedulerToClient(_ message: SchedulerToClient) throws {
        #expect(try roundTrip([message]) == [.success(message)])
    }

    @Test("requester → peer", arguments: Samples.peerRequest)
    func peerRequest(_ message: PeerRequest) throws {
        #expect(try roundTrip([message]) == [.success(message)])
    }

    @Test("peer → requester", arguments: Samples.peerReply)
    func peerReply(_ message: PeerReply) throws {
        #expect(try roundTrip([message]) == [.success(message)])
    }

    @Test("a batch decodes to all of its operations, in order")
    func batches() throws {
        #expect(try roundTrip(Samples.workerToScheduler) == Samples.workerToScheduler.map { .success($0) })
        #expect(try roundTrip(Samples.schedulerToWorker) == Samples.schedulerToWorker.map { .success($0) })
        #expect(try roundTrip(Samples.clientToScheduler) == Samples.clientToScheduler.map { .success($0) })
        #expect(try roundTrip(Samples.schedulerToClient) == Samples.schedulerToClient.map { .success($0) })
        #expect(try roundTrip(Samples.peerRequest) == Samples.peerRequest.map { .success($0) })
        #expect(try roundTrip(Samples.peerReply) == Samples.peerReply.map { .success($0) })
        let reversed = Array(Samples.workerToScheduler.reversed())
        #expect(try roundTrip(reversed) == reversed.map { .success($0) })
    }

    @Test("an empty batch is an empty array32 and decodes to no operations")
    func emptyBatch() throws {
        let frames = OperationWriter.frames([WorkerToScheduler]())
        #expect(frames == [Data([0x5A, 0x46, 0x03]), Data([0xDD, 0, 0, 0, 0])])
        #expect(try OperationDecoder().decode(WorkerToScheduler.self, frames: frames).isEmpty)
    }

    @Test("a payload over 4096 bytes travels as a frame of its own")
    func largePayloadGetsItsOwnFrame() throws {
        let message = PeerRequest.putData([KeyedPayload(key: "k", payload: largePayload)])
        let frames = OperationWriter.frames([message])
        #expect(frames.count == 3)
        #expect(frames[2] == largePayload.bytes)
        #expect(frames[1].count < 64, "the header holds a frame index, not the bytes")
        #expect(try OperationDecoder().decode(PeerRequest.self, frames: frames) == [.success(message)])
    }

    @Test("a payload of at most 4096 bytes stays inline", arguments: [0, 1, 100, OperationWriter.inlineLimit])
    func smallPayloadStaysInline(size: Int) throws {
        let payload = Payload(patternBytes(size))
        let message = SchedulerToWorker.computeTask(TaskAssignment(key: "k", runID: RunID(1), function: "f", arguments: payload))
        let frames = OperationWriter.frames([message])
        #expect(frames.count == 2)
        #expect(frames[1].count > size)
        #expect(try OperationDecoder().decode(SchedulerToWorker.self, frames: frames) == [.success(message)])
    }

    @Test("payload frames are numbered in writing order across a batch")
    func payloadFramesInOrder() throws {
        let first = Payload(patternBytes(5000, seed: 1))
        let second = Payload(patternBytes(6000, seed: 2))
        let third = Payload(patternBytes(7000, seed: 3))
        let messages: [PeerReply] = [
            .data(found: [KeyedPayload(key: "a", payload: first), KeyedPayload(key: "b", payload: smallPayload)], missing: []),
            .putDataStored(["x"]),
            .data(found: [KeyedPayload(key: "c", payload: second), KeyedPayload(key: "d", payload: third)], missing: ["e"]),
        ]
        let frames = OperationWriter.frames(messages)
        #expect(frames.count == 5)
        #expect(Array(frames[2...]) == [first.bytes, second.bytes, third.bytes])
        #expect(try OperationDecoder().decode(PeerReply.self, frames: frames) == messages.map { .success($0) })
    }

    @Test("a writer is reusable: finish() starts a fresh batch")
    func writerReuse() throws {
        let writer = OperationWriter()
        #expect(writer.isEmpty)
        writer.add(PeerRequest.putData([KeyedPayload(key: "k", payload: largePayload)]))
        writer.add(PeerRequest.getData(["a"]))
        #expect(writer.count == 2)
        let first = writer.finish()
        #expect(writer.isEmpty)
        writer.add(WorkerToScheduler.heartbeat)
        let second = writer.finish()
        #expect(first.count == 3)
        #expect(second == OperationWriter.frames([WorkerToScheduler.heartbeat]))
        #expect(try OperationDecoder().decode(WorkerToScheduler.self, frames: second) == [.success(.heartbeat)])
    }

    @Test("a decoder is reusable across messages and directions")
    func decoderReuse() throws {
        let decoder = OperationDecoder()
        for _ in 0..<3 {
            #expect(try decoder.decode(PeerReply.self, frames: OperationWriter.frames(Samples.peerReply)).count == Samples.peerReply.count)
            #expect(try decoder.decode(SchedulerToClient.self, frames: OperationWriter.frames(Samples.schedulerToClient))
                == Samples.schedulerToClient.map { .success($0) })
        }
    }

    @Test("a reader ignores fields it does not know, and an inline payload is accepted at any size")
    func readerLeniency() throws {
        let w = MessagePackWriter()
        w.writeArrayHeader(1)
        w.writeMapHeader(6)
        w.write("future-field"); w.write(UInt64(99))
        w.write("args"); w.writeBinary(patternBytes(10_000))  // inline although > 4096
        w.write("function"); w.write("f")
        w.write("run"); w.write(UInt64(5))
        w.write("key"); w.write("k")
        w.write("op"); w.write("compute-task")  // `op` need not come first; `deps` and `priority` absent
        let results = try OperationDecoder().decode(SchedulerToWorker.self, frames: [Data(ProtocolVersion.signature), w.data()])
        #expect(results.count == 1)
        // `deps` is required: the op is refused, naming the field.
        #expect(results == [.failure(.missingField("compute-task.deps"))])

        let withDeps = MessagePackWriter()
        withDeps.writeArrayHeader(1)
        withDeps.writeMapHeader(7)
        withDeps.write("op"); withDeps.write("compute-task")
        withDeps.write("future-field"); withDeps.writeNil()
        withDeps.write("key"); withDeps.write("k")
        withDeps.write("run"); withDeps.write(UInt64(5))
        withDeps.write("function"); withDeps.write("f")
        withDeps.write("args"); withDeps.writeBinary(patternBytes(10_000))
        withDeps.write("deps"); withDeps.writeArrayHeader(0)  // `priority` absent: defaults to 0
        let decoded = try OperationDecoder().decode(
            SchedulerToWorker.self, frames: [Data(ProtocolVersion.signature), withDeps.data()])
        #expect(decoded == [.success(.computeTask(TaskAssignment(key: "k", runID: RunID(5), function: "f", arguments: Payload(patternBytes(10_000)))))])
    }
}
