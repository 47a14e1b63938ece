import Foundation
import ZFlowCore

extension WorkerToScheduler: WireMessage {
    /// Writes the fields of each operation.
    public func writeFields(to w: OperationWriter) -> Int {
        let h = w.header
        switch self {
        case .register(let r):
            w.key("name"); h.write(r.name.rawValue)
            w.key("nthreads"); h.write(r.nthreads)
            w.key("functions"); w.strings(r.functions) { $0 }
            w.key("address"); h.write(r.address.rawValue)
            w.key("heartbeat_ms"); h.write(r.heartbeatInterval.milliseconds)
            w.key("version"); h.write(r.version)
            w.key("held"); w.keySizes(r.held)
            var count = 7
            if let directory = r.dataDirectory {
                w.key("data_dir"); h.write(directory)
                count += 1
            }
            if !r.resources.isEmpty {
                w.key("resources"); w.resources(r.resources)
                count += 1
            }
            if !r.adminFunctions.isEmpty {
                w.key("admin_functions"); w.strings(r.adminFunctions) { $0 }
                count += 1
            }
            return count
        case .taskFinished(let key, let runID, let nbytes, let duration):
            w.key("key"); h.write(key.rawValue)
            w.key("run"); h.write(runID.rawValue)
            w.key("nbytes"); h.write(nbytes)
            w.key("duration_ns"); h.write(duration.nanoseconds)
            return 4
        case .taskErred(let key, let runID, let error):
            w.key("key"); h.write(key.rawValue)
            w.key("run"); h.write(runID.rawValue)
            w.key("error"); w.remoteError(error)
            return 3
        case .taskCrashed(let key, let runID, let signal):
            w.key("key"); h.write(key.rawValue)
            w.key("run"); h.write(runID.rawValue)
            w.key("signal"); h.write(Int(signal))
            return 3
        case .missingData(let key, let holder):
            w.key("key"); h.write(key.rawValue)
            w.key("holder"); h.write(holder.rawValue)
            return 2
        case .stealResponse(let key, let runID, let stolen):
            w.key("key"); h.write(key.rawValue)
            w.key("run"); h.write(runID.rawValue)
            w.key("stolen"); h.write(stolen)
            return 3
        case .addKeys(let keys):
            w.key("keys"); w.keySizes(keys)
            return 1
        case .metrics(let metrics):
            w.key("metrics"); w.codable(metrics)
            return 1
        case .heartbeat, .unregister:
            return 0
        }
    }

    /// Reads each operation.
    public static func read(op: String, from r: OperationReader) throws(WireError) -> WorkerToScheduler {
        switch op {
        case "register":
            return .register(
                WorkerRegistration(
                    name: WorkerID(try r.string("name")), nthreads: try r.int("nthreads"),
                    functions: try r.strings("functions"), address: PeerAddress(try r.string("address")),
                    heartbeatInterval: .milliseconds(try r.uint("heartbeat_ms")), version: try r.int("version"),
                    held: try r.keySizes("held"),
                    dataDirectory: r.optional("data_dir") == nil ? nil : try r.string("data_dir"),
                    resources: try r.resources("resources"),
                    adminFunctions: r.optional("admin_functions") == nil ? [] : try r.strings("admin_functions")))
        case "task-finished":
            return .taskFinished(
                key: TaskKey(try r.string("key")), runID: RunID(try r.uint("run")), nbytes: try r.uint("nbytes"),
                duration: Interval(nanoseconds: try r.uint("duration_ns")))
        case "task-erred":
            return .taskErred(
                key: TaskKey(try r.string("key")), runID: RunID(try r.uint("run")), error: try r.remoteError("error"))
        case "task-crashed":
            return .taskCrashed(
                key: TaskKey(try r.string("key")), runID: RunID(try r.uint("run")),
                signal: Int32(clamping: try r.int("signal")))
        case "missing-data":
            return .missingData(key: TaskKey(try r.string("key")), holder: PeerAddress(try r.string("holder")))
        case "steal-response":
            return .stealResponse(
                key: TaskKey(try r.string("key")), runID: RunID(try r.uint("run")), stolen: try r.bool("stolen"))
        case "add-keys": return .addKeys(try r.keySizes("keys"))
        case "heartbeat": return .heartbeat
        case "worker-metrics": return .metrics(try r.codable(WorkerMetrics.self, "metrics"))
        case "unregister": return .unregister
        default: throw .unknownOp(op)
        }
    }
}

extension SchedulerToWorker: WireMessage {
    /// Writes the fields of each operation.
    public func writeFields(to w: OperationWriter) -> Int {
        let h = w.header
        switch self {
        case .registered:
            return 0
        case .computeTask(let a):
            w.key("key"); h.write(a.key.rawValue)
            w.key("run"); h.write(a.runID.rawValue)
            w.key("function"); h.write(a.function)
            w.key("args"); w.payload(a.arguments)
            w.key("priority"); w.priority(a.priority)
            w.key("deps"); w.locations(a.dependencies)
            var count = 6
            if !a.notify.isEmpty {
                w.key("notify"); w.strings(a.notify) { $0.rawValue }
                count += 1
            }
            if !a.resources.isEmpty {
                w.key("resources"); w.resources(a.resources)
                count += 1
            }
            return count
        case .freeKeys(let keys):
            w.key("keys"); w.strings(keys) { $0.rawValue }
            return 1
        case .stealRequest(let key, let runID):
            w.key("key"); h.write(key.rawValue)
            w.key("run"); h.write(runID.rawValue)
            return 2
        case .acquireReplicas(let locations):
            w.key("keys"); w.locations(locations)
            return 1
        case .retire:
            return 0
        case .error(let violation):
            return w.violationFields(violation)
        }
    }

    /// Reads each operation.
    public static func read(op: String, from r: OperationReader) throws(WireError) -> SchedulerToWorker {
        switch op {
        case "registered": return .registered
        case "compute-task":
            let dependencies = try r.locations("deps")
            return .computeTask(
                TaskAssignment(
                    key: TaskKey(try r.string("key")), runID: RunID(try r.uint("run")),
                    function: try r.string("function"), arguments: try r.payload("args"),
                    dependencies: dependencies, priority: try r.priority("priority"),
                    resources: try r.resources("resources"),
                    notify: r.optional("notify") == nil ? [] : try r.strings("notify").map { ClientID($0) }))
        case "free-keys": return .freeKeys(try r.keys("keys"))
        case "steal-request":
            return .stealRequest(key: TaskKey(try r.string("key")), runID: RunID(try r.uint("run")))
        case "acquire-replicas": return .acquireReplicas(try r.locations("keys"))
        case "retire": return .retire
        case "error": return .error(try r.violation())
        default: throw .unknownOp(op)
        }
    }
}
