/// An error raised on another process, carried as data: what failed, where, and why.
public struct RemoteError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The Swift type name of the thrown error, or a ZFlow kind such as `UnknownFunction`.
    public var typeName: String
    /// The error's text.
    public var message: String
    /// The task that failed.
    public var key: TaskKey?
    /// The function the task named.
    public var function: String?
    /// The worker that ran it, when one did.
    public var worker: WorkerID?
    /// The failed dependency that made this task fail, when it failed because of one.
    public var causeKey: TaskKey?

    /// Describes one failure.
    public init(
        typeName: String, message: String, key: TaskKey? = nil, function: String? = nil,
        worker: WorkerID? = nil, causeKey: TaskKey? = nil
    ) {
        self.typeName = typeName
        self.message = message
        self.key = key
        self.function = function
        self.worker = worker
        self.causeKey = causeKey
    }

    /// One line: task, function, worker, type and message.
    public var description: String {
        var parts: [String] = []
        if let key { parts.append("task '\(key)'") }
        if let function { parts.append("function '\(function)'") }
        if let worker { parts.append("on worker '\(worker)'") }
        var text = parts.isEmpty ? "" : parts.joined(separator: " ") + ": "
        text += "\(typeName): \(message)"
        if let causeKey { text += " (because dependency '\(causeKey)' failed)" }
        return text
    }
}
