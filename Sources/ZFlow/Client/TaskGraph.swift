import ZFlowCore

/// Tasks built together and submitted as one graph (`Client.submitGraph`), so the scheduler knows their shape:
/// among tasks of equal user priority it runs them depth-first — each task right after the inputs it needs,
/// one branch of a reduction finished before the next begins — instead of every leaf first.
///
///     let total = try await client.submitGraph { graph in
///         let leaves = try (0..<8).map { try graph.add(inc, $0) }
///         var level = leaves
///         while level.count > 1 {
///             level = try stride(from: 0, to: level.count, by: 2).map { try graph.add(add, level[$0], level[$0 + 1]) }
///         }
///         return level[0]
///     }
public final class TaskGraph: @unchecked Sendable {
    let client: Client
    var specs: [TaskSpec] = []
    /// The futures made so far, held until the graph is submitted: one dropped while the graph is built
    /// (an intermediate level) releases its key only after the `submit` that makes it.
    var futures: [AnyObject] = []

    init(client: Client) { self.client = client }

    /// Adds a task (arguments: values, or futures of tasks in this graph or submitted before); the options are
    /// those of `Client.submit`.
    ///
    /// - Returns: a future of its result, which becomes live when the graph is submitted.
    /// - Throws: `ClientError.codec` when an argument cannot be encoded.
    @discardableResult
    public func add<each P: TaskArgument, R>(
        _ function: TaskFunction<repeat (each P).Value, R>, _ arguments: repeat each P, key: String? = nil,
        priority: Int = 0, workers: [String] = [], allowOtherWorkers: Bool = false, resources: [String: Double] = [:],
        retries: Int = 0
    ) throws -> Future<R> {
        var values: [any Encodable] = []
        for argument in repeat each arguments { values.append(argument) }
        return append(
            try client.makeSpec(
                function.name, values, key: key, priority: priority, workers: workers,
                allowOtherWorkers: allowOtherWorkers, resources: resources, retries: retries))
    }

    /// Adds a task of the function called `function` with untyped arguments (as `Client.submit(function:…)`).
    @discardableResult
    public func add(
        function: String, arguments: [AnyArgument], key: String? = nil, priority: Int = 0, workers: [String] = [],
        allowOtherWorkers: Bool = false, resources: [String: Double] = [:], retries: Int = 0
    ) throws -> Future<AnyValue> {
        append(
            try client.makeSpec(
                function, arguments, key: key, priority: priority, workers: workers,
                allowOtherWorkers: allowOtherWorkers, resources: resources, retries: retries))
    }

    private func append<R>(_ spec: TaskSpec) -> Future<R> {
        specs.append(spec)
        let future = Future<R>(key: spec.key, client: client)
        futures.append(future)
        return future
    }
}

extension Client {
    /// The most tasks of one graph sent in one `submit` operation; larger graphs go in several, in order.
    static let graphChunk = 10_000

    /// Builds tasks with `build` and submits them together as one graph (see `TaskGraph`).
    ///
    /// - Returns: what `build` returns (typically the futures you want).
    /// - Throws: what `build` throws; then nothing is submitted.
    public func submitGraph<T>(_ build: (TaskGraph) throws -> T) async throws -> T {
        let graph = TaskGraph(client: self)
        let result = try build(graph)
        for start in stride(from: 0, to: graph.specs.count, by: Self.graphChunk) {
            loop.mailbox.post(.send(.submit(Array(graph.specs[start..<min(start + Self.graphChunk, graph.specs.count)]))))
        }
        graph.futures.removeAll()
        return result
    }
}
