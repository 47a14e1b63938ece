import Foundation
import Testing
import ZFlowCore
import ZFlowWire

/// Bytes from a hex string; spaces and newlines are ignored.
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    precondition(digits.count % 2 == 0, "odd number of hex digits in \(text)")
    var result: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        result.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return result
}

/// The UTF-8 bytes of `text`, without any MessagePack header.
func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Hand-computed expected bytes (MessagePack spec; writer: array32 patched header, map16 per op, fields in
/// table order, msgpack-c's smallest integer and string forms).
@Suite("Golden bytes")
struct GoldenBytesTests {
    let signature: [UInt8] = [0x5A, 0x46, 0x03]

    func frames<M: WireMessage>(_ messages: M...) -> [[UInt8]] {
        OperationWriter.frames(messages).map { Array($0) }
    }

    @Test("worker heartbeat (docs/PROTOCOL.md §7)")
    func heartbeat() {
        let expected = hex("dd 00 00 00 01   de 00 01   a2 6f 70   a9 68 65 61 72 74 62 65 61 74")
        #expect(frames(WorkerToScheduler.heartbeat) == [signature, expected])
        #expect(expected == hex("dd00000001de0001a26f70a9686561727462656174"))
        // A client's heartbeat has the same bytes.
        #expect(frames(ClientToScheduler.heartbeat) == [signature, expected])
    }

    @Test("free-keys with one key")
    func freeKeys() {
        let expected =
            hex("dd 00 00 00 01  de 00 02") + hex("a2") + ascii("op") + hex("a9") + ascii("free-keys")
            + hex("a4") + ascii("keys") + hex("91 a1") + ascii("x")
        #expect(frames(SchedulerToWorker.freeKeys(["x"])) == [signature, expected])
    }

    @Test("task-crashed")
    func taskCrashed() {
        let expected =
            hex("dd 00 00 00 01  de 00 04") + hex("a2") + ascii("op") + hex("ac") + ascii("task-crashed")
            + hex("a3") + ascii("key") + hex("a1") + ascii("t")
            + hex("a3") + ascii("run") + hex("07")
            + hex("a6") + ascii("signal") + hex("04")
        #expect(frames(WorkerToScheduler.taskCrashed(key: "t", runID: RunID(7), signal: 4)) == [signature, expected])
    }

    @Test("task-finished with fixint, uint16 and uint32 values")
    func taskFinished() {
        let message = WorkerToScheduler.taskFinished(
            key: "inc-1", runID: RunID(7), nbytes: 1000, duration: Interval(nanoseconds: 1_500_000))
        let expected =
            hex("dd 00 00 00 01  de 00 05") + hex("a2") + ascii("op") + hex("ad") + ascii("task-finished")
            + hex("a3") + ascii("key") + hex("a5") + ascii("inc-1")
            + hex("a3") + ascii("run") + hex("07")
            + hex("a6") + ascii("nbytes") + hex("cd 03 e8")
            + hex("ab") + ascii("duration_ns") + hex("ce 00 16 e3 60")
        #expect(frames(message) == [signature, expected])
    }

    @Test("task-finished with str8, uint8, uint32 and uint64 forms")
    func taskFinishedWideForms() {
        let key = String(repeating: "k", count: 32)  // 32 bytes: too long for fixstr
        let message = WorkerToScheduler.taskFinished(
            key: TaskKey(key), runID: RunID(65_536), nbytes: 1 << 32, duration: Interval(nanoseconds: 255))
        let expected =
            hex("dd 00 00 00 01  de 00 05") + hex("a2") + ascii("op") + hex("ad") + ascii("task-finished")
            + hex("a3") + ascii("key") + hex("d9 20") + ascii(key)
            + hex("a3") + ascii("run") + hex("ce 00 01 00 00")
            + hex("a6") + ascii("nbytes") + hex("cf 00 00 00 01 00 00 00 00")
            + hex("ab") + ascii("duration_ns") + hex("cc ff")
        #expect(frames(message) == [signature, expected])
    }

    @Test("task-erred: the error map has a fixmap header and only the present optional fields")
    func taskErred() {
        let message = WorkerToScheduler.taskErred(
            key: "t", runID: RunID(1), error: RemoteError(typeName: "E", message: "m", key: "t"))
        let expected =
            hex("dd 00 00 00 01  de 00 04") + hex("a2") + ascii("op") + hex("aa") + ascii("task-erred")
            + hex("a3") + ascii("key") + hex("a1") + ascii("t")
            + hex("a3") + ascii("run") + hex("01")
            + hex("a5") + ascii("error") + hex("83")
            + hex("a4") + ascii("type") + hex("a1") + ascii("E")
            + hex("a7") + ascii("message") + hex("a1") + ascii("m")
            + hex("a3") + ascii("key") + hex("a1") + ascii("t")
        #expect(frames(message) == [signature, expected])
    }

    @Test("compute-task: inline bin8 payload, priority triple with a negative fixint, dependency triple")
    func computeTask() {
        let message = SchedulerToWorker.computeTask(
            TaskAssignment(
                key: "k", runID: RunID(128), function: "inc", arguments: Payload([1, 2, 3]),
                dependencies: [DependencyLocation(key: "a", nbytes: 300, holders: [PeerAddress("tcp://h:1")])],
                priority: TaskPriority(user: -1, generation: 2, graphOrder: 3)))
        let expected =
            hex("dd 00 00 00 01  de 00 07") + hex("a2") + ascii("op") + hex("ac") + ascii("compute-task")
            + hex("a3") + ascii("key") + hex("a1") + ascii("k")
            + hex("a3") + ascii("run") + hex("cc 80")
            + hex("a8") + ascii("function") + hex("a3") + ascii("inc")
            + hex("a4") + ascii("args") + hex("c4 03 01 02 03")
            + hex("a8") + ascii("priority") + hex("93 ff 02 03")
            + hex("a4") + ascii("deps") + hex("91 93 a1") + ascii("a") + hex("cd 01 2c 91 a9") + ascii("tcp://h:1")
        #expect(frames(message) == [signature, expected])
    }

    @Test("put-data with a large payload: frame index 2 in the header, the bytes untouched in frame 2")
    func putDataLargePayload() {
        let payload = patternBytes(5000)
        let message = PeerRequest.putData([KeyedPayload(key: "k", payload: Payload(payload))])
        let expected =
            hex("dd 00 00 00 01  de 00 02") + hex("a2") + ascii("op") + hex("a8") + ascii("put-data")
            + hex("a4") + ascii("data") + hex("91 92 a1") + ascii("k") + hex("02")
        #expect(frames(message) == [signature, expected, Array(payload)])
    }

    @Test("error 501 from a peer")
    func errorOp() {
        let message = PeerReply.error(ProtocolViolation(.unknownOp, "no"))
        let expected =
            hex("dd 00 00 00 01  de 00 03") + hex("a2") + ascii("op") + hex("a5") + ascii("error")
            + hex("a4") + ascii("code") + hex("cd 01 f5")
            + hex("a7") + ascii("message") + hex("a2") + ascii("no")
        #expect(frames(message) == [signature, expected])
    }

    @Test("a batch of two ops patches the array32 count")
    func batchOfTwo() {
        let expected =
            hex("dd 00 00 00 02")
            + hex("de 00 01 a2") + ascii("op") + hex("a9") + ascii("heartbeat")
            + hex("de 00 01 a2") + ascii("op") + hex("aa") + ascii("unregister")
        #expect(frames(WorkerToScheduler.heartbeat, .unregister) == [signature, expected])
    }

    @Test("who-has-reply writes keys sorted, whatever the dictionary order")
    func whoHasSorted() {
        let message = SchedulerToClient.whoHas(["b": [], "a": [PeerAddress("x")], "c": []])
        let expected =
            hex("dd 00 00 00 01  de 00 02") + hex("a2") + ascii("op") + hex("ad") + ascii("who-has-reply")
            + hex("a7") + ascii("holders") + hex("83")
            + hex("a1") + ascii("a") + hex("91 a1") + ascii("x")
            + hex("a1") + ascii("b") + hex("90")
            + hex("a1") + ascii("c") + hex("90")
        #expect(frames(message) == [signature, expected])
    }

    @Test("Codable scalars use msgpack-c's smallest forms")
    func codableScalars() throws {
        let encoder = MessagePackEncoder()
        #expect(Array(try encoder.encode(1)) == hex("01"))
        #expect(Array(try encoder.encode(-1)) == hex("ff"))
        #expect(Array(try encoder.encode(-33)) == hex("d0 df"))
        #expect(Array(try encoder.encode(200)) == hex("cc c8"))
        #expect(Array(try encoder.encode(UInt64.max)) == hex("cf ff ff ff ff ff ff ff ff"))
        #expect(Array(try encoder.encode(Int64.min)) == hex("d3 80 00 00 00 00 00 00 00"))
        #expect(Array(try encoder.encode(true)) == hex("c3"))
        #expect(Array(try encoder.encode(Int?.none)) == hex("c0"))
        #expect(Array(try encoder.encode(1.5)) == hex("cb 3f f8 00 00 00 00 00 00"))
        #expect(Array(try encoder.encode("é")) == hex("a2 c3 a9"))
        #expect(Array(try encoder.encode(Data([9]))) == hex("c4 01 09"))
        #expect(Array(try encoder.encode([1, 2])) == hex("92 01 02"))
    }
}
