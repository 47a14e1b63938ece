import ZFlowCore

/// The functions a worker can run, by name.
public struct FunctionRegistry: Sendable {
    /// Registered functions by name.
    public private(set) var functions: [String: AnyTaskFunction] = [:]

    /// An empty registry.
    public init() {}

    /// A registry of these functions; a later function replaces an earlier one of the same name.
    public init(_ functions: [AnyTaskFunction]) {
        for function in functions { self.functions[function.name] = function }
    }

    /// Adds a function, replacing one of the same name.
    public mutating func register(_ function: AnyTaskFunction) { functions[function.name] = function }

    /// The names, sorted.
    public var names: [String] { functions.keys.sorted() }

    /// The names of the functions that act on the machine (`FunctionAccess.shell`), sorted: the worker declares
    /// them so that only admins may submit them.
    public var adminNames: [String] { functions.values.filter { $0.access == .shell }.map(\.name).sorted() }

    /// The function called `name`.
    public subscript(name: String) -> AnyTaskFunction? { functions[name] }
}
