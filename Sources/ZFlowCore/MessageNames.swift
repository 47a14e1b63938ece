/// Wire names of every operation (kebab-case), as docs/PROTOCOL.md lists them.

extension WorkerToScheduler {
    /// The wire name of each operation.
    public var op: String {
        switch self {
        case .register: return "register"
        case .taskFinished: return "task-finished"
        case .taskErred: return "task-erred"
        case .taskCrashed: return "task-crashed"
        case .missingData: return "missing-data"
        case .stealResponse: return "steal-response"
        case .addKeys: return "add-keys"
        case .heartbeat: return "heartbeat"
        case .metrics: return "worker-metrics"
        case .unregister: return "unregister"
        }
    }
}

extension SchedulerToWorker {
    /// The wire name of each operation.
    public var op: String {
        switch self {
        case .registered: return "registered"
        case .computeTask: return "compute-task"
        case .freeKeys: return "free-keys"
        case .stealRequest: return "steal-request"
        case .acquireReplicas: return "acquire-replicas"
        case .retire: return "retire"
        case .error: return "error"
        }
    }
}

extension ClientToScheduler {
    /// The wire name of each operation.
    public var op: String {
        switch self {
        case .register: return "register-client"
        case .submit: return "submit"
        case .release: return "release"
        case .cancel: return "cancel"
        case .whoHas: return "who-has"
        case .scattered: return "scattered"
        case .info: return "info"
        case .retireWorkers: return "retire-workers"
        case .heartbeat: return "heartbeat"
        case .unregister: return "unregister"
        }
    }
}

extension SchedulerToClient {
    /// The wire name of each operation.
    public var op: String {
        switch self {
        case .registered: return "registered"
        case .taskFinished: return "task-finished"
        case .taskErred: return "task-erred"
        case .taskCancelled: return "task-cancelled"
        case .whoHas: return "who-has-reply"
        case .info: return "info-reply"
        case .error: return "error"
        }
    }
}

extension PeerRequest {
    /// The wire name of each operation.
    public var op: String {
        switch self {
        case .getData: return "get-data"
        case .putData: return "put-data"
        }
    }
}

extension PeerReply {
    /// The wire name of each operation.
    public var op: String {
        switch self {
        case .data: return "data"
        case .putDataStored: return "put-data-ok"
        case .pushed: return "push-result"
        case .error: return "error"
        }
    }
}
