import Foundation
import Testing
import ZFlowCore
import ZFlowWire

/// A small, fast, seedable generator (SplitMix64), so a fuzz failure replays exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private let signature = Data(ProtocolVersion.signature)

/// Decodes a message whose header is `header`, as worker → scheduler.
private func decodeWorker(_ header: [UInt8], payloads: [Data] = []) throws(WireError) -> [Result<WorkerToScheduler, WireError>] {
    try OperationDecoder().decode(WorkerToScheduler.self, frames: [signature, Data(header)] + payloads)
}

/// The `WireError` thrown by `body`, or nil when it returned; any other error is a test failure.
private func wireError<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation) -> WireError? {
    do {
        _ = try body()
        return nil
    } catch let error as WireError {
        return error
    } catch {
        Issue.record("not a WireError: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A header of one operation written with `fields`.
private func header(ops: Int = 1, _ fields: (MessagePackWriter) -> Void) -> [UInt8] {
    let w = MessagePackWriter()
    w.writeArrayHeader(ops)
    fields(w)
    return Array(w.data())
}

@Suite("Malformed input")
struct MalformedInputTests {
    // MARK: Signature and frames

    @Test("missing frames")
    func missingFrames() {
        let decoder = OperationDecoder()
        #expect(wireError { try decoder.decode(WorkerToScheduler.self, frames: []) } == .missingFrame(0))
        #expect(wireError { try decoder.decode(WorkerToScheduler.self, frames: [signature]) } == .missingFrame(1))
    }

    @Test(
        "a frame 0 that is not 'ZF' is a bad signature",
        arguments: [[], [0x5A], [0x5A, 0x46], [0x5A, 0x46, 0x01, 0x00], [0x58, 0x46, 0x01], [0x00, 0x00, 0x00],
                    Array("ZFLOW/1".utf8)] as [[UInt8]])
    func badSignature(frame0: [UInt8]) {
        let frames = [Data(frame0), OperationWriter.frames([WorkerToScheduler.heartbeat])[1]]
        #expect(wireError { try OperationDecoder().decode(WorkerToScheduler.self, frames: frames) } == .badSignature)
    }

    @Test("'ZF' with another version byte names the version")
    func otherVersion() {
        let frames = [Data([0x5A, 0x46, 0x04]), OperationWriter.frames([WorkerToScheduler.heartbeat])[1]]
        #expect(wireError { try OperationDecoder().decode(WorkerToScheduler.self, frames: frames) } == .unsupportedVersion(4))
        let zero = [Data([0x5A, 0x46, 0x00]), frames[1]]
        #expect(wireError { try OperationDecoder().decode(WorkerToScheduler.self, frames: zero) } == .unsupportedVersion(0))
    }

    @Test("frame 0 may be a slice of a larger buffer")
    func signatureSlice() throws {
        let buffer = Data([0xFF, 0x5A, 0x46, 0x03, 0xFF])
        let frames = [buffer[1..<4], OperationWriter.frames([WorkerToScheduler.heartbeat])[1]]
        #expect(try OperationDecoder().decode(WorkerToScheduler.self, frames: frames) == [.success(.heartbeat)])
    }

    // MARK: MessagePack structure

    @Test("an empty header is truncated")
    func emptyHeader() {
        #expect(wireError { try decodeWorker([]) } == .truncated)
    }

    @Test("every strict prefix of a valid header is refused")
    func truncatedHeaders() {
        for message in [OperationWriter.frames(Samples.workerToScheduler)[1], OperationWriter.frames([WorkerToScheduler.heartbeat])[1]] {
            let bytes = Array(message)
            for length in 0..<bytes.count {
                let error = wireError { try decodeWorker(Array(bytes[0..<length])) }
                #expect(error != nil, "prefix of \(length) bytes decoded")
                switch error {
                case .truncated?, .lengthExceedsInput?: break
                default: Issue.record("prefix of \(length) bytes: \(String(describing: error))")
                }
            }
        }
        // The heartbeat header without its last byte: the str declares 9 bytes, 8 remain.
        let heartbeat = Array(OperationWriter.frames([WorkerToScheduler.heartbeat])[1])
        #expect(wireError { try decodeWorker(Array(heartbeat.dropLast())) } == .truncated)
    }

    @Test("the reserved byte 0xc1 is invalid", arguments: [[0xC1], hex("dd 00 00 00 01 c1"), hex("91 81 a2 6f 70 c1")] as [[UInt8]])
    func reservedByte(bytes: [UInt8]) {
        guard case .invalid? = wireError({ try decodeWorker(bytes) }) else {
            Issue.record("0xc1 was not refused as invalid")
            return
        }
    }

    @Test("trailing bytes after the header are invalid")
    func trailingBytes() {
        let bytes = Array(OperationWriter.frames([WorkerToScheduler.heartbeat])[1]) + [0x00]
        guard case .invalid? = wireError({ try decodeWorker(bytes) }) else {
            Issue.record("trailing byte accepted")
            return
        }
    }

    @Test(
        "hostile length prefixes are refused at once, before msgpack-c allocates",
        arguments: [
            (hex("dd ff ff ff ff 00 00"), WireError.lengthExceedsInput(declared: 0xFFFF_FFFF, available: 2)),
            (hex("df ff ff ff ff 00 00 00"), .lengthExceedsInput(declared: 2 * 0xFFFF_FFFF, available: 3)),
            (hex("dc ff ff 01"), .lengthExceedsInput(declared: 0xFFFF, available: 1)),
            (hex("de ff ff"), .lengthExceedsInput(declared: 2 * 0xFFFF, available: 0)),
            (hex("dd 00 00 00 01 dd ff ff ff ff 01 02 03"), .lengthExceedsInput(declared: 0xFFFF_FFFF, available: 3)),
            (hex("dd 00 00 00 01 df ff ff ff ff a2 6f 70"), .lengthExceedsInput(declared: 2 * 0xFFFF_FFFF, available: 3)),
            (hex("db ff ff ff ff 61 62 63"), .truncated),
            (hex("c6 ff ff ff ff 61 62 63"), .truncated),
            (hex("c9 ff ff ff ff 01 61"), .truncated),
            (hex("dd 00 00 00 01 de 00 01 a2 6f 70 db ff ff ff ff 68 65"), .truncated),
            (hex("dd 00 00 00 01 de 00 01 a2 6f 70 c6 ff ff ff ff 68 65"), .truncated),
        ] as [([UInt8], WireError)])
    func hostileLengthPrefixes(bytes: [UInt8], expected: WireError) {
        let start = ContinuousClock.now
        for _ in 0..<100 {
            #expect(wireError { try decodeWorker(bytes) } == expected)
        }
        #expect(ContinuousClock.now - start < .milliseconds(500), "100 hostile decodes must be near-instant")
    }

    @Test("a reader unpacks exactly maximumDepth nested containers, and refuses one more")
    func nestingLimit() throws {
        let depth = MessagePackBounds.maximumDepth
        let deepest = [UInt8](repeating: 0x91, count: depth - 1) + [0x90]  // `depth` arrays
        let tooDeep = [UInt8](repeating: 0x91, count: depth) + [0x90]  // `depth + 1` arrays
        let reader = MessagePackReader()
        try deepest.withUnsafeBytes { raw in
            var object = try reader.unpack(raw)
            for _ in 0..<(depth - 1) {
                #expect(object.arrayCount == 1)
                object = object.element(0)
            }
            #expect(object.arrayCount == 0)
        }
        tooDeep.withUnsafeBytes { raw in
            #expect(wireError { try reader.unpack(raw) } == .tooDeep)
        }
        // As a header: the header array holds a non-map at the limit, too deep beyond it.
        #expect(try decodeWorker(deepest).count == 1)
        #expect(wireError { try decodeWorker(tooDeep) } == .tooDeep)
        // Nested maps count the same way.
        let deepMaps = [UInt8]((0..<depth).flatMap { _ in [0x81, 0xA1, 0x6B] }) + [0xC0]  // {"k": {"k": … nil}}
        #expect(wireError { try decodeWorker([0x91] + deepMaps) } == .tooDeep)
        // 100,000 levels: refused quickly, without recursion.
        let start = ContinuousClock.now
        #expect(wireError { try decodeWorker([UInt8](repeating: 0x91, count: 100_000) + [0xC0]) } == .tooDeep)
        #expect(ContinuousClock.now - start < .milliseconds(500))
    }

    @Test("a header that is not an array is refused as a whole")
    func headerNotArray() {
        #expect(
            wireError { try decodeWorker(hex("de 00 01 a2 6f 70 a9") + ascii("heartbeat")) }
                == .typeMismatch(expected: "array of operations", found: "map", at: "header"))
        #expect(
            wireError { try decodeWorker(hex("a1 78")) } == .typeMismatch(expected: "array of operations", found: "string", at: "header"))
        #expect(wireError { try decodeWorker([0xC0]) } == .typeMismatch(expected: "array of operations", found: "nil", at: "header"))
    }

    // MARK: Operations

    @Test("an operation that is not a map, or has no op string, is refused alone")
    func operationNotMap() throws {
        let bytes = header(ops: 4) { w in
            w.write(Int64(1))
            w.writeMapHeader(1); w.write("op"); w.write("heartbeat")
            w.writeMapHeader(1); w.write("key"); w.write("x")
            w.writeMapHeader(1); w.write("op"); w.write(Int64(7))
        }
        #expect(
            try decodeWorker(bytes) == [
                .failure(.typeMismatch(expected: "map", found: "integer", at: "operation")),
                .success(.heartbeat),
                .failure(.missingField("op")),
                .failure(.typeMismatch(expected: "string", found: "integer", at: "op")),
            ])
    }

    @Test("an unknown op fails alone; the other ops of the batch still decode")
    func unknownOp() throws {
        var frames = OperationWriter.frames([WorkerToScheduler.heartbeat, .unregister, .heartbeat])
        let unknown = header(ops: 3) { w in
            w.writeMapHeader(1); w.write("op"); w.write("heartbeat")
            w.writeMapHeader(2); w.write("op"); w.write("frobnicate"); w.write("x"); w.write(Int64(1))
            w.writeMapHeader(1); w.write("op"); w.write("unregister")
        }
        frames[1] = Data(unknown)
        #expect(
            try OperationDecoder().decode(WorkerToScheduler.self, frames: frames) == [
                .success(.heartbeat), .failure(.unknownOp("frobnicate")), .success(.unregister),
            ])
        // An op of another direction is unknown in this one.
        let registered = OperationWriter.frames([SchedulerToWorker.registered, .freeKeys(["a"])])
        #expect(
            try OperationDecoder().decode(WorkerToScheduler.self, frames: registered) == [
                .failure(.unknownOp("registered")), .failure(.unknownOp("free-keys")),
            ])
        #expect(
            try OperationDecoder().decode(PeerRequest.self, frames: OperationWriter.frames([PeerReply.putDataStored([])]))
                == [.failure(.unknownOp("put-data-ok"))])
    }

    @Test("a missing field names the op and field")
    func missingField() throws {
        let bytes = header(ops: 2) { w in
            w.writeMapHeader(4)
            w.write("op"); w.write("task-finished")
            w.write("key"); w.write("k")
            w.write("nbytes"); w.write(UInt64(1))
            w.write("duration_ns"); w.write(UInt64(1))
            w.writeMapHeader(3)
            w.write("op"); w.write("task-erred")
            w.write("key"); w.write("k")
            w.write("run"); w.write(UInt64(1))
        }
        #expect(try decodeWorker(bytes) == [.failure(.missingField("task-finished.run")), .failure(.missingField("task-erred.error"))])
        // A missing field inside a nested structure names the path.
        let nested = header { w in
            w.writeMapHeader(4)
            w.write("op"); w.write("task-erred")
            w.write("key"); w.write("k")
            w.write("run"); w.write(UInt64(1))
            w.write("error"); w.writeMapHeader(1); w.write("type"); w.write("E")
        }
        #expect(try decodeWorker(nested) == [.failure(.missingField("task-erred.error.message"))])
    }

    @Test("a field of the wrong type is a type mismatch")
    func wrongFieldType() throws {
        let bytes = header(ops: 5) { w in
            w.writeMapHeader(5)
            w.write("op"); w.write("task-finished")
            w.write("key"); w.write(Int64(5))
            w.write("run"); w.write(UInt64(1))
            w.write("nbytes"); w.write(UInt64(1))
            w.write("duration_ns"); w.write(UInt64(1))

            w.writeMapHeader(5)
            w.write("op"); w.write("task-finished")
            w.write("key"); w.write("k")
            w.write("run"); w.write(Int64(-1))
            w.write("nbytes"); w.write(UInt64(1))
            w.write("duration_ns"); w.write(UInt64(1))

            w.writeMapHeader(3)
            w.write("op"); w.write("missing-data")
            w.write("key"); w.write("k")
            w.write("holder"); w.writeNil()  // nil is not an absent optional: it is the wrong type

            w.writeMapHeader(8)
            w.write("op"); w.write("register")
            w.write("name"); w.write("w")
            w.write("nthreads"); w.write(UInt64.max)  // does not fit Int64
            w.write("functions"); w.writeArrayHeader(0)
            w.write("address"); w.write("a")
            w.write("heartbeat_ms"); w.write(UInt64(1))
            w.write("version"); w.write(Int64(1))
            w.write("held"); w.writeArrayHeader(0)

            w.writeMapHeader(8)
            w.write("op"); w.write("register")
            w.write("name"); w.write("w")
            w.write("nthreads"); w.write(Int64(1))
            w.write("functions"); w.writeArrayHeader(1); w.write(Int64(3))
            w.write("address"); w.write("a")
            w.write("heartbeat_ms"); w.write(UInt64(1))
            w.write("version"); w.write(Int64(1))
            w.write("held"); w.writeArrayHeader(0)
        }
        #expect(
            try decodeWorker(bytes) == [
                .failure(.typeMismatch(expected: "string", found: "integer", at: "task-finished.key")),
                .failure(.typeMismatch(expected: "unsigned integer", found: "integer", at: "task-finished.run")),
                .failure(.typeMismatch(expected: "string", found: "nil", at: "missing-data.holder")),
                .failure(.typeMismatch(expected: "integer", found: "integer", at: "register.nthreads")),
                .failure(.typeMismatch(expected: "string", found: "integer", at: "register.functions")),
            ])
    }

    @Test("composite fields of the wrong shape are type mismatches")
    func wrongCompositeShapes() throws {
        let scattered = header(ops: 2) { w in
            w.writeMapHeader(3)
            w.write("op"); w.write("scattered")
            w.write("worker"); w.write("w")
            w.write("keys"); w.writeArrayHeader(1); w.writeArrayHeader(1); w.write("k")  // [key] without nbytes
            w.writeMapHeader(2)
            w.write("op"); w.write("submit")
            w.write("tasks"); w.writeArrayHeader(1); w.write("not a map")
        }
        let results = try OperationDecoder().decode(ClientToScheduler.self, frames: [signature, Data(scattered)])
        #expect(
            results == [
                .failure(.typeMismatch(expected: "[key, nbytes]", found: "array", at: "scattered.keys")),
                .failure(.typeMismatch(expected: "map", found: "string", at: "submit.tasks")),
            ])
        let error = header { w in
            w.writeMapHeader(3)
            w.write("op"); w.write("error")
            w.write("code"); w.write(Int64(999))  // not in the table
            w.write("message"); w.write("m")
        }
        #expect(
            try OperationDecoder().decode(PeerReply.self, frames: [signature, Data(error)])
                == [.failure(.typeMismatch(expected: "a known error code", found: "999", at: "error.code"))])
        let info = header { w in
            w.writeMapHeader(2)
            w.write("op"); w.write("info-reply")
            w.write("info"); w.writeMapHeader(1); w.write("workers"); w.write("none")
        }
        let infoResult = try OperationDecoder().decode(SchedulerToClient.self, frames: [signature, Data(info)])
        guard case .failure(.typeMismatch(_, _, let path))? = infoResult.first, infoResult.count == 1 else {
            Issue.record("a malformed info-reply decoded: \(infoResult)")
            return
        }
        #expect(path == "info-reply.info")
    }

    @Test("a payload frame index out of range is a missing frame")
    func payloadFrameOutOfRange() throws {
        func computeTask(args: (MessagePackWriter) -> Void) -> [UInt8] {
            header { w in
                w.writeMapHeader(6)
                w.write("op"); w.write("compute-task")
                w.write("key"); w.write("k")
                w.write("run"); w.write(UInt64(1))
                w.write("function"); w.write("f")
                w.write("args"); args(w)
                w.write("deps"); w.writeArrayHeader(0)
            }
        }
        func decode(_ bytes: [UInt8], payloads: [Data] = []) throws -> [Result<SchedulerToWorker, WireError>] {
            try OperationDecoder().decode(SchedulerToWorker.self, frames: [signature, Data(bytes)] + payloads)
        }
        #expect(try decode(computeTask { $0.write(UInt64(2)) }) == [.failure(.missingFrame(2))])
        #expect(try decode(computeTask { $0.write(UInt64(5)) }, payloads: [Data([1])]) == [.failure(.missingFrame(5))])
        #expect(try decode(computeTask { $0.write(UInt64(1)) }) == [.failure(.missingFrame(1))], "frame 1 is the header")
        #expect(try decode(computeTask { $0.write(UInt64(0)) }) == [.failure(.missingFrame(0))], "frame 0 is the signature")
        #expect(try decode(computeTask { $0.write(UInt64.max) }) == [.failure(.missingFrame(Int.max))])
        #expect(
            try decode(computeTask { $0.write(Int64(-1)) })
                == [.failure(.typeMismatch(expected: "binary, frame index or [first frame, frames]", found: "integer", at: "compute-task.args"))])
        #expect(
            try decode(computeTask { $0.write("bytes") })
                == [.failure(.typeMismatch(expected: "binary, frame index or [first frame, frames]", found: "string", at: "compute-task.args"))])
        // In range: the frame is used, whatever its size.
        let expected = SchedulerToWorker.computeTask(TaskAssignment(key: "k", runID: RunID(1), function: "f", arguments: Payload([7])))
        #expect(try decode(computeTask { $0.write(UInt64(2)) }, payloads: [Data([7])]) == [.success(expected)])
        // A real message whose payload frame was lost on the way.
        let frames = OperationWriter.frames([PeerRequest.putData([KeyedPayload(key: "k", payload: largePayload)])])
        #expect(
            try OperationDecoder().decode(PeerRequest.self, frames: Array(frames.dropLast())) == [.failure(.missingFrame(2))])
    }

    @Test("MessagePackDecoder reports malformed bytes as WireError")
    func codableMalformedBytes() {
        for bytes in [[], [0xC1], hex("dd ff ff ff ff"), hex("92 01"), hex("01 02")] as [[UInt8]] {
            #expect(throws: WireError.self) { try MessagePackDecoder().decode([Int].self, from: Data(bytes)) }
        }
    }

    // MARK: Fuzz

    /// Bytes that tend to reach interesting paths: container and length prefixes, the reserved byte, extremes.
    static let interestingBytes: [UInt8] = [
        0x00, 0x01, 0x02, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC6, 0xC7, 0xC9,
        0xCC, 0xCF, 0xD3, 0xD4, 0xD8, 0xD9, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xE0, 0xFF,
    ]

    @Test("20,000 seeded random and mutated messages never crash the decoder")
    func fuzz() {
        var rng = SplitMix64(seed: 0x5A46_0001_F022)
        let corpus = Samples.encodedCorpus
        let decoder = OperationDecoder()
        var outcomes = (decoded: 0, refusedOps: 0, thrown: 0)
        let start = ContinuousClock.now

        for iteration in 0..<20_000 {
            let entry = corpus[Int.random(in: 0..<corpus.count, using: &rng)]
            var frames = entry.frames
            var header = Array(frames[1])
            switch iteration % 8 {
            case 0:  // flip a few bits
                for _ in 0..<Int.random(in: 1...4, using: &rng) where !header.isEmpty {
                    header[Int.random(in: 0..<header.count, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                }
            case 1:  // overwrite bytes with interesting values
                for _ in 0..<Int.random(in: 1...3, using: &rng) where !header.isEmpty {
                    header[Int.random(in: 0..<header.count, using: &rng)] =
                        Self.interestingBytes.randomElement(using: &rng)!
                }
            case 2:  // truncate
                header.removeLast(Int.random(in: 0...header.count, using: &rng))
            case 3:  // insert random bytes
                let at = Int.random(in: 0...header.count, using: &rng)
                header.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            case 4:  // pure noise
                header = (0..<Int.random(in: 0...64, using: &rng)).map { _ in
                    Bool.random(using: &rng) ? Self.interestingBytes.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
                }
            case 5:  // splice in a hostile length prefix
                let prefixes: [[UInt8]] = [
                    hex("dd ff ff ff ff"), hex("df ff ff ff ff"), hex("db ff ff ff ff"), hex("c6 ff ff ff ff"),
                    hex("dc ff ff"), hex("de ff ff"), hex("c9 ff ff ff ff 01"), [UInt8](repeating: 0x91, count: 40),
                ]
                let at = Int.random(in: 0...header.count, using: &rng)
                header.replaceSubrange(at..<min(header.count, at + Int.random(in: 0...6, using: &rng)),
                                       with: prefixes.randomElement(using: &rng)!)
            case 6:  // drop, duplicate or corrupt frames
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: if frames.count > 2 { frames.removeLast() }
                case 1: frames.append(Data((0..<Int.random(in: 0...5000, using: &rng)).map { UInt8(truncatingIfNeeded: $0) }))
                case 2: frames.removeFirst(min(frames.count, Int.random(in: 1...2, using: &rng)))
                default: frames[0] = Data((0..<3).map { _ in Self.interestingBytes.randomElement(using: &rng)! })
                }
            default:  // swap two byte ranges' worth of structure: duplicate a slice
                if header.count > 2 {
                    let from = Int.random(in: 0..<header.count, using: &rng)
                    let length = Int.random(in: 1...min(16, header.count - from), using: &rng)
                    let at = Int.random(in: 0...header.count, using: &rng)
                    header.insert(contentsOf: header[from..<(from + length)], at: at)
                }
            }
            if frames.count >= 2 { frames[1] = Data(header) }
            do {
                // Decode with the entry's own direction, and with another one chosen at random.
                let count = try entry.decode(decoder, frames)
                let other = corpus[Int.random(in: 0..<corpus.count, using: &rng)]
                _ = try? other.decode(decoder, frames)
                if count > 0 { outcomes.decoded += 1 } else { outcomes.refusedOps += 1 }
            } catch {
                // `decode` throws only WireError (typed throws); any other failure would have been a crash.
                outcomes.thrown += 1
            }
        }
        // Both paths must have been exercised, and quickly.
        #expect(outcomes.thrown > 1000)
        #expect(outcomes.decoded > 1000)
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test("mutated Codable payloads throw WireError or DecodingError, never crash")
    func fuzzCodable() throws {
        struct Inner: Codable { var name: String; var values: [Int8]; var blob: Data; var flag: Bool? }
        struct Outer: Codable { var id: UInt64; var inner: [Inner]; var table: [String: Double]; var small: UInt8 }
        let value = Outer(
            id: 1 << 40, inner: [Inner(name: "a", values: [1, -2, 3], blob: Data([1, 2]), flag: true), Inner(name: "b", values: [], blob: Data(), flag: nil)],
            table: ["x": 1.5, "y": -0.25], small: 200)
        let bytes = Array(try MessagePackEncoder().encode(value))
        var rng = SplitMix64(seed: 42)
        var failures = 0
        for _ in 0..<3000 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 0..<mutated.count, using: &rng)
                mutated[at] = Bool.random(using: &rng) ? Self.interestingBytes.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            do {
                _ = try MessagePackDecoder().decode(Outer.self, from: Data(mutated))
            } catch is WireError {
                failures += 1
            } catch is DecodingError {
                failures += 1
            } catch {
                Issue.record("unexpected error type: \(error)")
            }
        }
        #expect(failures > 1000)
    }
}
