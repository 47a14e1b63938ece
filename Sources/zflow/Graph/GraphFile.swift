import Foundation
import Yams
import ZFlow

/// A task graph read from a YAML file (the format is in docs/graph-files.md).
struct GraphFile {
    /// One task of the graph.
    struct Task {
        /// Its name in the file.
        let name: String
        /// The registered function it calls (`command` for `shell:` tasks).
        let function: String
        /// Its arguments; `$name` strings become references to other tasks.
        let arguments: [GraphValue]
        /// Workers allowed to run it.
        let workers: [String]
        /// Resources it holds while it runs.
        let resources: [String: Double]
        /// Tries after a failure.
        let retries: Int
        /// Larger runs earlier.
        let priority: Int
        /// The line it starts on.
        let line: Int
        /// Names of the tasks it refers to.
        var dependencies: [String] { arguments.flatMap(\.references) }
    }

    /// The tasks, in dependency order (every task after the tasks it refers to).
    let tasks: [Task]
    /// Names of the tasks whose results are printed (default: tasks nothing depends on).
    let outputs: [String]

    /// A problem in the file, with the line it is on.
    struct ParseError: Error, CustomStringConvertible {
        let path: String
        let line: Int?
        let problem: String
        var description: String { "\(path)\(line.map { ":\($0)" } ?? ""): \(problem)" }
    }

    /// Reads and checks a graph file.
    ///
    /// - Throws: `ParseError` naming the line and the problem.
    init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ParseError(path: path, line: nil, problem: "cannot read the file: \(error.localizedDescription)")
        }
        try self.init(yaml: text, path: path)
    }

    /// Parses graph YAML; `path` only names the file in errors.
    init(yaml: String, path: String) throws {
        func fail(_ node: Node?, _ problem: String) -> ParseError {
            ParseError(path: path, line: node?.mark?.line, problem: problem)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ParseError(path: path, line: Self.line(of: error), problem: "not valid YAML: \(Self.problem(of: error))")
        }
        guard let root, let top = root.mapping else { throw fail(root, "the file must be a map with a 'tasks:' key") }
        for (key, _) in top where !["tasks", "outputs"].contains(key.string ?? "") {
            throw fail(key, "unknown top-level key '\(key.string ?? "?")' (expected 'tasks' and 'outputs')")
        }
        guard let tasksNode = top["tasks"], let taskMap = tasksNode.mapping, !taskMap.isEmpty else {
            throw fail(top["tasks"] ?? root, "'tasks:' must be a map of task names to tasks")
        }
        var parsed: [Task] = []
        for (nameNode, body) in taskMap {
            guard let name = nameNode.string, !name.isEmpty else { throw fail(nameNode, "a task name must be a string") }
            parsed.append(try Self.task(name: name, nameNode: nameNode, body: body, fail: fail))
        }
        let names = Set(parsed.map(\.name))
        for task in parsed {
            for reference in task.dependencies where !names.contains(reference) {
                throw ParseError(
                    path: path, line: task.line, problem: "task '\(task.name)' refers to '$\(reference)', which is not a task")
            }
        }
        tasks = try Self.ordered(parsed, path: path)
        if let outputsNode = top["outputs"] {
            guard let list = outputsNode.sequence else { throw fail(outputsNode, "'outputs:' must be a list of task names") }
            var outputs: [String] = []
            for item in list {
                guard let name = item.string, names.contains(name) else {
                    throw fail(item, "output '\(item.string ?? "?")' is not a task")
                }
                outputs.append(name)
            }
            self.outputs = outputs
        } else {
            let used = Set(parsed.flatMap(\.dependencies))
            outputs = tasks.map(\.name).filter { !used.contains($0) }
        }
    }

    private static func task(
        name: String, nameNode: Node, body: Node, fail: (Node?, String) -> ParseError
    ) throws -> Task {
        guard let fields = body.mapping else { throw fail(body, "task '\(name)' must be a map") }
        let known = ["function", "shell", "args", "workers", "resources", "retries", "priority"]
        for (key, _) in fields where !known.contains(key.string ?? "") {
            throw fail(key, "task '\(name)': unknown key '\(key.string ?? "?")' (expected \(known.joined(separator: ", ")))")
        }
        let function: String
        var arguments: [GraphValue] = []
        switch (fields["function"], fields["shell"]) {
        case (let functionNode?, nil):
            guard let text = functionNode.string, !text.isEmpty else {
                throw fail(functionNode, "task '\(name)': 'function' must be a function name")
            }
            function = text
            if let args = fields["args"] {
                guard let list = args.sequence else { throw fail(args, "task '\(name)': 'args' must be a list") }
                arguments = try list.map { try GraphValue(node: $0, fail: fail) }
            }
        case (nil, let shellNode?):
            guard let command = shellNode.string else { throw fail(shellNode, "task '\(name)': 'shell' must be a string") }
            if fields["args"] != nil { throw fail(fields["args"], "task '\(name)': a 'shell' task takes no 'args'") }
            function = StandardFunctions.command.name
            arguments = [GraphValue(text: command)]
        case (nil, nil):
            throw fail(body, "task '\(name)' needs 'function' or 'shell'")
        case (_?, _?):
            throw fail(body, "task '\(name)' has both 'function' and 'shell'; give one")
        }
        var workers: [String] = []
        if let node = fields["workers"] {
            guard let list = node.sequence?.compactMap(\.string), list.count == node.sequence?.count else {
                throw fail(node, "task '\(name)': 'workers' must be a list of worker names")
            }
            workers = list
        }
        var resources: [String: Double] = [:]
        if let node = fields["resources"] {
            guard let map = node.mapping else {
                throw fail(node, "task '\(name)': 'resources' must be a map of name to positive amount")
            }
            for (key, value) in map {
                guard let resource = key.string, let amount = value.float ?? value.int.map(Double.init), amount > 0 else {
                    throw fail(value, "task '\(name)': 'resources' must be a map of name to positive amount")
                }
                resources[resource] = amount
            }
        }
        func integer(_ key: String) throws -> Int {
            guard let node = fields[key] else { return 0 }
            guard let value = node.int else { throw fail(node, "task '\(name)': '\(key)' must be an integer") }
            return value
        }
        let retries = try integer("retries")
        guard retries >= 0 else { throw fail(fields["retries"], "task '\(name)': 'retries' must be >= 0") }
        return Task(
            name: name, function: function, arguments: arguments, workers: workers, resources: resources,
            retries: retries,
            priority: try integer("priority"), line: nameNode.mark?.line ?? 0)
    }

    /// Tasks in dependency order; a cycle is an error naming its tasks.
    private static func ordered(_ tasks: [Task], path: String) throws -> [Task] {
        let byName = Dictionary(uniqueKeysWithValues: tasks.map { ($0.name, $0) })
        var done: [String: Bool] = [:]
        var result: [Task] = []
        func visit(_ task: Task, _ trail: [String]) throws {
            if done[task.name] == true { return }
            if done[task.name] == false {
                throw ParseError(
                    path: path, line: task.line,
                    problem: "tasks refer to each other in a cycle: \((trail + [task.name]).joined(separator: " -> "))")
            }
            done[task.name] = false
            for reference in task.dependencies { try visit(byName[reference]!, trail + [task.name]) }
            done[task.name] = true
            result.append(task)
        }
        for task in tasks { try visit(task, []) }
        return result
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): return problem
        default: return "\(error)"
        }
    }
}

/// An argument in a graph file: a value, a `$name` reference, or a list or map of them.
indirect enum GraphValue {
    case value(AnyValue)
    case reference(String)
    case array([GraphValue])
    case object([String: GraphValue])

    /// A string: `$name` is a reference, `$$…` a literal `$…`.
    init(text: String) {
        if text.hasPrefix("$$") {
            self = .value(.string(String(text.dropFirst())))
        } else if text.hasPrefix("$"), text.count > 1 {
            self = .reference(String(text.dropFirst()))
        } else {
            self = .value(.string(text))
        }
    }

    init(node: Node, fail: (Node?, String) -> GraphFile.ParseError) throws {
        switch node {
        case .scalar:
            switch node.tag.description {
            case "tag:yaml.org,2002:null": self = .value(.null)
            case "tag:yaml.org,2002:bool": self = .value(.bool(node.bool ?? false))
            case "tag:yaml.org,2002:int":
                guard let value = node.int else { throw fail(node, "integer out of range") }
                self = .value(.int(Int64(value)))
            case "tag:yaml.org,2002:float": self = .value(.double(node.float ?? 0))
            default: self = GraphValue(text: node.string ?? "")
            }
        case .sequence(let items): self = .array(try items.map { try GraphValue(node: $0, fail: fail) })
        case .mapping(let pairs):
            var members: [String: GraphValue] = [:]
            for (key, value) in pairs {
                guard let name = key.string else { throw fail(key, "map keys in arguments must be strings") }
                members[name] = try GraphValue(node: value, fail: fail)
            }
            self = .object(members)
        case .alias: throw fail(node, "YAML aliases are not supported in arguments")
        }
    }

    /// Names this value refers to.
    var references: [String] {
        switch self {
        case .value: return []
        case .reference(let name): return [name]
        case .array(let items): return items.flatMap(\.references)
        case .object(let members): return members.values.flatMap(\.references)
        }
    }

    /// The argument to submit, with references replaced by the futures of the named tasks.
    func argument(_ futures: [String: Future<AnyValue>]) -> AnyArgument {
        switch self {
        case .value(let value): return .value(value)
        case .reference(let name): return .future(futures[name]!)
        case .array(let items): return .array(items.map { $0.argument(futures) })
        case .object(let members): return .object(members.mapValues { $0.argument(futures) })
        }
    }
}
