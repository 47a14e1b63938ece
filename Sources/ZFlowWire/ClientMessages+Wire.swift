import Foundation
import ZFlowCore

extension ClientToScheduler: WireMessage {
    /// Writes the fields of each operation.
    public func writeFields(to w: OperationWriter) -> Int {
        let h = w.header
        switch self {
        case .register(let version):
            w.key("version"); h.write(version)
            return 1
        case .submit(let specs):
            w.key("tasks")
            h.writeArrayHeader(specs.count)
            for spec in specs { w.taskSpec(spec) }
            return 1
        case .release(let keys), .cancel(let keys), .whoHas(let keys), .info(let keys):
            w.key("keys"); w.strings(keys) { $0.rawValue }
            return 1
        case .scattered(let worker, let keys):
            w.key("worker"); h.write(worker.rawValue)
            w.key("keys"); w.keySizes(keys)
            return 2
        case .retireWorkers(let workers):
            w.key("workers"); w.strings(workers) { $0.rawValue }
            return 1
        case .heartbeat, .unregister:
            return 0
        }
    }

    /// Reads each operation.
    public static func read(op: String, from r: OperationReader) throws(WireError) -> ClientToScheduler {
        switch op {
        case "register-client": return .register(version: try r.int("version"))
        case "submit":
            return .submit(try r.array("tasks") { (item) throws(WireError) in try r.taskSpec(item, name: "tasks") })
        case "release": return .release(try r.keys("keys"))
        case "cancel": return .cancel(try r.keys("keys"))
        case "who-has": return .whoHas(try r.keys("keys"))
        case "info": return .info(keys: try r.keys("keys"))
        case "scattered": return .scattered(worker: WorkerID(try r.string("worker")), keys: try r.keySizes("keys"))
        case "retire-workers": return .retireWorkers(try r.strings("workers").map { WorkerID($0) })
        case "heartbeat": return .heartbeat
        case "unregister": return .unregister
        default: throw .unknownOp(op)
        }
    }
}

extension SchedulerToClient: WireMessage {
    /// Writes the fields of each operation.
    public func writeFields(to w: OperationWriter) -> Int {
        let h = w.header
        switch self {
        case .registered:
            return 0
        case .taskFinished(let key, let nbytes, let holders):
            w.key("key"); h.write(key.rawValue)
            w.key("nbytes"); h.write(nbytes)
            w.key("holders"); w.strings(holders) { $0.rawValue }
            return 3
        case .taskErred(let key, let error):
            w.key("key"); h.write(key.rawValue)
            w.key("error"); w.remoteError(error)
            return 2
        case .taskCancelled(let key):
            w.key("key"); h.write(key.rawValue)
            return 1
        case .whoHas(let holders):
            w.key("holders")
            let sorted = holders.sorted { $0.key < $1.key }
            h.writeMapHeader(sorted.count)
            for (key, addresses) in sorted {
                h.write(key.rawValue)
                w.strings(addresses) { $0.rawValue }
            }
            return 1
        case .info(let info):
            w.key("info"); w.codable(info)
            return 1
        case .error(let violation):
            return w.violationFields(violation)
        }
    }

    /// Reads each operation.
    public static func read(op: String, from r: OperationReader) throws(WireError) -> SchedulerToClient {
        switch op {
        case "registered": return .registered
        case "task-finished":
            return .taskFinished(
                key: TaskKey(try r.string("key")), nbytes: try r.uint("nbytes"),
                holders: try r.strings("holders").map { PeerAddress($0) })
        case "task-erred": return .taskErred(key: TaskKey(try r.string("key")), error: try r.remoteError("error"))
        case "task-cancelled": return .taskCancelled(key: TaskKey(try r.string("key")))
        case "who-has-reply":
            let map = try r.field("holders")
            guard let count = map.mapCount else { throw r.mismatch("holders", expected: "map", found: map) }
            var holders: [TaskKey: [PeerAddress]] = [:]
            for index in 0..<count {
                let pair = map.pair(index)
                guard let key = pair.key.string, let addressCount = pair.value.arrayCount else {
                    throw r.mismatch("holders", expected: "key → [address]", found: pair.value)
                }
                var addresses: [PeerAddress] = []
                for position in 0..<addressCount {
                    guard let address = pair.value.element(position).string else {
                        throw r.mismatch("holders", expected: "address string", found: pair.value.element(position))
                    }
                    addresses.append(PeerAddress(address))
                }
                holders[TaskKey(key)] = addresses
            }
            return .whoHas(holders)
        case "info-reply": return .info(try r.codable(SchedulerInfo.self, "info"))
        case "error": return .error(try r.violation())
        default: throw .unknownOp(op)
        }
    }
}

extension PeerRequest: WireMessage {
    /// Writes the fields of each operation.
    public func writeFields(to w: OperationWriter) -> Int {
        switch self {
        case .getData(let keys):
            w.key("keys"); w.strings(keys) { $0.rawValue }
        case .putData(let items):
            w.key("data"); w.keyedPayloads(items)
        }
        return 1
    }

    /// Reads each operation.
    public static func read(op: String, from r: OperationReader) throws(WireError) -> PeerRequest {
        switch op {
        case "get-data": return .getData(try r.keys("keys"))
        case "put-data": return .putData(try r.keyedPayloads("data"))
        default: throw .unknownOp(op)
        }
    }
}

extension PeerReply: WireMessage {
    /// Writes the fields of each operation.
    public func writeFields(to w: OperationWriter) -> Int {
        switch self {
        case .data(let found, let missing):
            w.key("data"); w.keyedPayloads(found)
            w.key("missing"); w.strings(missing) { $0.rawValue }
            return 2
        case .putDataStored(let keys):
            w.key("keys"); w.strings(keys) { $0.rawValue }
            return 1
        case .pushed(let item):
            w.key("key"); w.header.write(item.key.rawValue)
            w.key("value"); w.payload(item.payload)
            return 2
        case .error(let violation):
            return w.violationFields(violation)
        }
    }

    /// Reads each operation.
    public static func read(op: String, from r: OperationReader) throws(WireError) -> PeerReply {
        switch op {
        case "data": return .data(found: try r.keyedPayloads("data"), missing: try r.keys("missing"))
        case "put-data-ok": return .putDataStored(try r.keys("keys"))
        case "push-result": return .pushed(KeyedPayload(key: TaskKey(try r.string("key")), payload: try r.payload("value")))
        case "error": return .error(try r.violation())
        default: throw .unknownOp(op)
        }
    }
}

extension OperationWriter {
    /// Writes a `Codable` value (a struct becomes a map keyed by property name).
    public func codable<T: Encodable>(_ value: T) {
        let slot = EncodingSlot()
        do {
            try ValueEncoder(slot: slot, context: EncodingContext(), codingPath: []).encodeValue(value)
        } catch {
            preconditionFailure("ZFlow's own wire structures always encode: \(error)")
        }
        slot.write(to: header)
    }
}

extension OperationReader {
    /// Reads a `Codable` value written by `OperationWriter.codable`.
    public func codable<T: Decodable>(_ type: T.Type, _ name: String) throws(WireError) -> T {
        let value = try field(name)
        do {
            return try MessagePackDecoder().decode(type, from: value, resolveReference: nil)
        } catch {
            throw .typeMismatch(expected: "\(T.self)", found: "\(error)", at: "\(op).\(name)")
        }
    }
}
