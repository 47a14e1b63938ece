import Foundation
import ZFlowCore

// MARK: - Writing the structures that several operations share

extension OperationWriter {
    /// Writes a `RemoteError` as a map.
    public func remoteError(_ error: RemoteError) {
        let w = header
        let optional: [(String, String?)] = [
            ("key", error.key?.rawValue), ("function", error.function), ("worker", error.worker?.rawValue),
            ("cause", error.causeKey?.rawValue),
        ]
        let present = optional.filter { $0.1 != nil }
        w.writeMapHeader(2 + present.count)
        w.write("type")
        w.write(error.typeName)
        w.write("message")
        w.write(error.message)
        for (name, value) in present {
            w.write(name)
            w.write(value!)
        }
    }

    /// Writes a `TaskSpec` as a map.
    public func taskSpec(_ spec: TaskSpec) {
        header.writeMapHeader(
            5 + (spec.workers.isEmpty ? 0 : 1) + (spec.allowOtherWorkers ? 1 : 0) + (spec.resources.isEmpty ? 0 : 1)
                + (spec.retries == 0 ? 0 : 1) + (spec.pushResult ? 1 : 0))
        key("key")
        header.write(spec.key.rawValue)
        key("function")
        header.write(spec.function)
        key("args")
        payload(spec.arguments)
        key("deps")
        strings(spec.dependencies) { $0.rawValue }
        key("priority")
        header.write(spec.priority)
        if !spec.workers.isEmpty {
            key("workers")
            strings(spec.workers) { $0.rawValue }
        }
        if spec.allowOtherWorkers {
            key("allow_other_workers")
            header.write(true)
        }
        if !spec.resources.isEmpty {
            key("resources")
            resources(spec.resources)
        }
        if spec.retries != 0 {
            key("retries")
            header.write(spec.retries)
        }
        if spec.pushResult {
            key("push")
            header.write(true)
        }
    }

    /// Writes resources as a map of name → amount (float64), sorted by name.
    public func resources(_ resources: Resources) {
        let sorted = resources.amounts.sorted { $0.key < $1.key }
        header.writeMapHeader(sorted.count)
        for (name, amount) in sorted {
            header.write(name)
            header.write(amount)
        }
    }

    /// Writes a task's place in line as `[user, generation, graph_order]`.
    public func priority(_ priority: TaskPriority) {
        header.writeArrayHeader(3)
        header.write(priority.user)
        header.write(priority.generation)
        header.write(priority.graphOrder)
    }

    /// Writes where results live, as an array of `[key, nbytes, [address]]`.
    public func locations(_ locations: [DependencyLocation]) {
        header.writeArrayHeader(locations.count)
        for location in locations {
            header.writeArrayHeader(3)
            header.write(location.key.rawValue)
            header.write(location.nbytes)
            strings(location.holders) { $0.rawValue }
        }
    }

    /// Writes key → nbytes pairs as an array of `[key, nbytes]`.
    public func keySizes(_ sizes: [KeySize]) {
        header.writeArrayHeader(sizes.count)
        for size in sizes {
            header.writeArrayHeader(2)
            header.write(size.key.rawValue)
            header.write(size.nbytes)
        }
    }

    /// Writes keyed payloads as an array of `[key, payload]`.
    public func keyedPayloads(_ items: [KeyedPayload]) {
        header.writeArrayHeader(items.count)
        for item in items {
            header.writeArrayHeader(2)
            header.write(item.key.rawValue)
            payload(item.payload)
        }
    }

    /// Writes a violation's code and message as two fields; returns 2.
    public func violationFields(_ violation: ProtocolViolation) -> Int {
        key("code")
        header.write(violation.code.rawValue)
        key("message")
        header.write(violation.message)
        return 2
    }
}

// MARK: - Reading them back

extension OperationReader {
    /// Reads a `RemoteError` map.
    public func remoteError(_ name: String) throws(WireError) -> RemoteError {
        let fields = try nested(try field(name), name: name)
        func optionalString(_ key: String) throws(WireError) -> String? {
            fields.optional(key) == nil ? nil : try fields.string(key)
        }
        return RemoteError(
            typeName: try fields.string("type"), message: try fields.string("message"),
            key: try optionalString("key").map { TaskKey($0) }, function: try optionalString("function"),
            worker: try optionalString("worker").map { WorkerID($0) }, causeKey: try optionalString("cause").map { TaskKey($0) })
    }

    /// Reads a `TaskSpec` map.
    public func taskSpec(_ value: MessagePackObject, name: String) throws(WireError) -> TaskSpec {
        let fields = try nested(value, name: name)
        return TaskSpec(
            key: TaskKey(try fields.string("key")), function: try fields.string("function"),
            arguments: try fields.payload("args"), dependencies: try fields.strings("deps").map { TaskKey($0) },
            priority: try fields.int("priority", default: 0),
            workers: fields.optional("workers") == nil ? [] : try fields.strings("workers").map { WorkerID($0) },
            allowOtherWorkers: fields.optional("allow_other_workers")?.bool ?? false,
            resources: try fields.resources("resources"),
            retries: max(0, try fields.int("retries", default: 0)),
            pushResult: fields.optional("push")?.bool ?? false)
    }

    /// Reads an optional map of resource name → positive amount (absent: none).
    public func resources(_ name: String) throws(WireError) -> Resources {
        guard let value = optional(name) else { return [:] }
        guard let count = value.mapCount else { throw mismatch(name, expected: "a map of name to amount", found: value) }
        var amounts: [String: Double] = [:]
        for index in 0..<count {
            let (entryKey, entryValue) = value.pair(index)
            guard let resource = entryKey.string, let amount = entryValue.double, amount.isFinite, amount > 0 else {
                throw mismatch(name, expected: "name: positive amount", found: entryValue)
            }
            amounts[resource] = amount
        }
        return Resources(amounts)
    }

    /// Reads a task's place in line, `[user, generation, graph_order]`; a plain integer is a user priority.
    public func priority(_ name: String) throws(WireError) -> TaskPriority {
        guard let value = optional(name) else { return TaskPriority() }
        if let user = value.int64 { return TaskPriority(user: Int(user)) }
        guard value.arrayCount == 3, let user = value.element(0).int64, let generation = value.element(1).uint64,
            let graphOrder = value.element(2).uint64
        else { throw mismatch(name, expected: "[user, generation, graph_order]", found: value) }
        return TaskPriority(user: Int(user), generation: generation, graphOrder: graphOrder)
    }

    /// Reads an array of `[key, nbytes, [address]]`.
    public func locations(_ name: String) throws(WireError) -> [DependencyLocation] {
        try array(name) { (item) throws(WireError) -> DependencyLocation in
            guard item.arrayCount == 3, let key = item.element(0).string, let nbytes = item.element(1).uint64,
                let holderCount = item.element(2).arrayCount
            else { throw mismatch(name, expected: "[key, nbytes, [address]]", found: item) }
            var holders: [PeerAddress] = []
            for index in 0..<holderCount {
                guard let address = item.element(2).element(index).string else {
                    throw mismatch(name, expected: "address string", found: item.element(2).element(index))
                }
                holders.append(PeerAddress(address))
            }
            return DependencyLocation(key: TaskKey(key), nbytes: nbytes, holders: holders)
        }
    }

    /// Reads an array of `[key, nbytes]`.
    public func keySizes(_ name: String) throws(WireError) -> [KeySize] {
        try array(name) { (pair) throws(WireError) in
            guard pair.arrayCount == 2, let key = pair.element(0).string, let nbytes = pair.element(1).uint64 else {
                throw mismatch(name, expected: "[key, nbytes]", found: pair)
            }
            return KeySize(key: TaskKey(key), nbytes: nbytes)
        }
    }

    /// Reads an array of `[key, payload]`.
    public func keyedPayloads(_ name: String) throws(WireError) -> [KeyedPayload] {
        try array(name) { (pair) throws(WireError) in
            guard pair.arrayCount == 2, let key = pair.element(0).string else {
                throw mismatch(name, expected: "[key, payload]", found: pair)
            }
            return KeyedPayload(key: TaskKey(key), payload: try payload(pair.element(1), field: name))
        }
    }

    /// Reads the `code` and `message` fields of an `error` operation.
    public func violation() throws(WireError) -> ProtocolViolation {
        let number = try int("code")
        guard let code = ErrorCode(rawValue: number) else {
            throw .typeMismatch(expected: "a known error code", found: "\(number)", at: "\(op).code")
        }
        return ProtocolViolation(code, try string("message"))
    }

    /// Reads an array of keys.
    public func keys(_ name: String) throws(WireError) -> [TaskKey] { try strings(name).map { TaskKey($0) } }
}
