import Foundation

/// What a function reaches beyond its arguments, so that a worker runs it only when its operator allowed that.
public enum FunctionAccess: Sendable, Hashable {
    /// Nothing: a pure computation on its arguments.
    case computation
    /// Runs commands on the worker's machine (`shell`, `command`): needs `zflow-worker --allow-shell`.
    case shell
    /// Reads files on the worker's machine (`read-file`, `count-words-in-files`): only inside `--data-dir` and the
    /// `--allow-files` directories, checked by the function through `TaskContext.readableFile(_:)`.
    case files
}

/// What the operator of a worker allowed its functions to reach.
public struct WorkerPermissions: Sendable, Hashable {
    /// Whether functions that run commands may run.
    public var allowShell: Bool
    /// Directories (absolute, symbolic links resolved) whose files functions may read.
    public private(set) var fileRoots: [String]
    /// `fileRoots` as a set: a path is checked against its own ancestors, not against every root.
    private let rootSet: Set<String>

    /// Permissions: shell commands allowed or not, and the directories whose files may be read.
    public init(allowShell: Bool = false, fileRoots: [String] = []) {
        self.allowShell = allowShell
        self.fileRoots = fileRoots.map { Self.resolved($0) ?? URL(fileURLWithPath: $0).standardizedFileURL.path }
        rootSet = Set(self.fileRoots)
    }

    /// Why `function` may not run on worker `worker`, or nil when it may.
    public func refusal(of function: AnyTaskFunction, on worker: String) -> String? {
        switch function.access {
        case .computation: return nil
        case .shell:
            return allowShell ? nil : "function '\(function.name)' runs commands, which worker '\(worker)' does not allow (start it with --allow-shell)"
        case .files:
            return fileRoots.isEmpty ? "function '\(function.name)' reads files, which worker '\(worker)' does not allow (start it with --allow-files DIR or --data-dir DIR)" : nil
        }
    }

    /// The resolved path of `path` if it lies inside one of `fileRoots`.
    ///
    /// - Throws: `FileAccessRefused` otherwise.
    public func readableFile(_ path: String) throws -> String {
        guard let resolved = Self.resolved(path) else { throw FileAccessRefused(path: path, roots: fileRoots) }
        var candidate = Substring(resolved)
        while true {
            if rootSet.contains(String(candidate)) { return resolved }
            guard candidate != "/", let slash = candidate.lastIndex(of: "/") else { break }
            candidate = slash == candidate.startIndex ? "/" : candidate[..<slash]
        }
        throw FileAccessRefused(path: path, roots: fileRoots)
    }

    /// The `zflow-worker` flags that grant these permissions.
    public var arguments: [String] {
        (allowShell ? ["--allow-shell"] : []) + fileRoots.flatMap { ["--allow-files", $0] }
    }

    /// `path` made absolute, with `.`, `..` and symbolic links resolved — also in the directories above a file
    /// that does not exist (yet): the deepest existing ancestor is resolved by `realpath`; below it, `..` is
    /// applied by name and the result resolved again (so `missing/../link` still follows `link`), and the
    /// first missing component must not exist at all (a dangling link there is refused). Nil when the path
    /// cannot be resolved safely.
    static func resolved(_ path: String) -> String? {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var head = absolute
        var tail: [Substring] = []
        while true {
            if let real = realpath(head, nil) {
                defer { free(real) }
                let base = String(cString: real)
                guard !tail.isEmpty else { return base }
                let rest = tail.reversed()
                let joined = (base == "/" ? "" : base) + "/" + rest.joined(separator: "/")
                if rest.contains(where: { $0 == ".." || $0 == "." }) {
                    // Applied by name, `..` may step back into components that exist (and may be links).
                    return resolved(URL(fileURLWithPath: joined).standardizedFileURL.path)
                }
                var status = stat()
                guard lstat((base == "/" ? "" : base) + "/" + rest.first!, &status) != 0 else { return nil }
                return joined
            }
            guard head != "/", let slash = head.lastIndex(of: "/") else { return nil }
            tail.append(head[head.index(after: slash)...])
            head = slash == head.startIndex ? "/" : String(head[..<slash])
        }
    }
}

/// A function asked to read a file outside the directories its worker allows.
public struct FileAccessRefused: Error, CustomStringConvertible, Sendable {
    /// The path asked for.
    public let path: String
    /// The directories allowed.
    public let roots: [String]
    /// One line naming the file and the flags that allow directories.
    public var description: String {
        "'\(path)' is outside the directories this worker may read (\(roots.joined(separator: ", "))); allow one with --allow-files DIR"
    }
}

/// What a running task knows of the worker that runs it.
public struct TaskContext: Sendable {
    /// The worker's permissions.
    public let permissions: WorkerPermissions
    /// The worker's memory limit for results, in bytes; nil: none.
    public let memoryLimit: UInt64?

    /// The context of the task running on this thread; nil outside a worker's executor.
    @TaskLocal public static var current: TaskContext?

    /// The resolved path of `path` if the running task's worker allows reading it.
    ///
    /// - Throws: `FileAccessRefused` when it does not, or when no worker runs this code.
    public static func readableFile(_ path: String) throws -> String {
        guard let current else { throw FileAccessRefused(path: path, roots: []) }
        return try current.permissions.readableFile(path)
    }
}
