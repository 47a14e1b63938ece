import Foundation
import ZFlowCore
import ZFlowWire

/// A function that workers can run, known cluster-wide by its name.
///
/// Define it once in a module shared by your client and your worker; the client uses its types, the worker its
/// body:
///
///     let inc = TaskFunction("inc") { (x: Int) in x + 1 }
///     let add = TaskFunction("add") { (a: Int, b: Int) in a + b }
///
/// The body runs on a worker's executor thread; it may block. Throwing makes the task fail with a `TaskError`.
public struct TaskFunction<each Argument: Codable & Sendable, Result: Codable & Sendable>: Sendable {
    /// The name the cluster knows it by.
    public let name: String
    /// The type-erased form a worker registers.
    public let erased: AnyTaskFunction

    /// Defines a function from a closure.
    ///
    /// - Parameter access: what it reaches beyond its arguments; a worker runs a `.shell` or `.files` function
    ///   only when its operator allowed that (`WorkerPermissions`).
    public init(
        _ name: String, access: FunctionAccess = .computation,
        _ body: @escaping @Sendable (repeat each Argument) throws -> Result
    ) {
        self.name = name
        self.erased = AnyTaskFunction(name: name, arity: Self.arity, access: access) { arguments in
            try body(repeat try arguments.next((each Argument).self))
        }
    }

    /// How many arguments the function takes.
    static var arity: Int {
        var count = 0
        for _ in repeat (each Argument).self { count += 1 }
        return count
    }
}

/// A task function with its types erased, as a worker's registry holds it.
public struct AnyTaskFunction: Sendable {
    /// The function's name.
    public let name: String
    /// How many arguments it takes.
    public let arity: Int
    /// What it reaches beyond its arguments.
    public let access: FunctionAccess
    private let body: @Sendable (ArgumentList) throws -> any Encodable

    init(
        name: String, arity: Int, access: FunctionAccess, body: @escaping @Sendable (ArgumentList) throws -> any Encodable
    ) {
        self.name = name
        self.arity = arity
        self.access = access
        self.body = body
    }

    /// Decodes the arguments (substituting fetched inputs for references), calls the body, encodes the result.
    ///
    /// - Throws: `ArgumentError` when the arguments do not fit, or whatever the body throws.
    public func call(arguments: Payload, inputs: [TaskKey: Payload]) throws -> Payload {
        let list = try ArgumentList(function: name, arity: arity, arguments: arguments, inputs: inputs)
        let result = try body(list)
        return Payload(try MessagePackEncoder().encode(result))
    }
}

/// The arguments of one call could not be decoded as the function's parameter types.
public struct ArgumentError: Error, CustomStringConvertible, Sendable {
    /// What did not fit.
    public let description: String
}

/// The decoded argument array of one call, read parameter by parameter.
///
/// A flat array of scalars without inputs (the common `inc(1)`) is read by `PlainScalars` alone; anything else,
/// or a parameter type the scalars do not fit, unpacks the bytes with msgpack-c and decodes through Codable.
final class ArgumentList {
    private let function: String
    private let arity: Int
    private let arguments: Payload
    private let inputs: [TaskKey: Payload]
    /// The arguments read by the fast path, when they are plain scalars.
    private let scalars: [PlainScalar]?
    /// The general form, made at once when the fast path does not apply and on demand when a parameter
    /// type needs it.
    private var unpackedForm: Unpacked?
    private var index = 0

    /// The arguments and inputs unpacked by msgpack-c, with the readers and pinned bytes their objects point
    /// into (large binaries in them are shared, not copied).
    private struct Unpacked {
        let reader: MessagePackReader
        let argumentBytes: PinnedBytes
        let root: MessagePackObject
        let inputObjects: [TaskKey: (reader: MessagePackReader, bytes: PinnedBytes, object: MessagePackObject)]
        let sources: [PinnedBytes]
    }

    init(function: String, arity: Int, arguments: Payload, inputs: [TaskKey: Payload]) throws {
        self.function = function
        self.arity = arity
        self.arguments = arguments
        self.inputs = inputs
        scalars = inputs.isEmpty ? PlainScalars.array(arguments.bytes) : nil
        if let scalars {
            guard scalars.count == arity else {
                throw ArgumentError(description: "'\(function)' takes \(arity) argument(s), got \(scalars.count)")
            }
        } else {
            unpackedForm = try unpack()
        }
    }

    private func unpack() throws -> Unpacked {
        var inputObjects: [TaskKey: (reader: MessagePackReader, bytes: PinnedBytes, object: MessagePackObject)] = [:]
        for (key, payload) in inputs {
            let reader = MessagePackReader(chunkSize: 512)
            let pinned = PinnedBytes(payload.bytes)
            inputObjects[key] = (reader, pinned, try reader.unpack(pinned.buffer))
        }
        let reader = MessagePackReader(chunkSize: 512)
        let argumentBytes = PinnedBytes(arguments.bytes)
        let root = try reader.unpack(argumentBytes.buffer)
        guard let count = root.arrayCount else {
            throw ArgumentError(description: "arguments of '\(function)' are not an array")
        }
        guard count == arity else {
            throw ArgumentError(description: "'\(function)' takes \(arity) argument(s), got \(count)")
        }
        return Unpacked(
            reader: reader, argumentBytes: argumentBytes, root: root, inputObjects: inputObjects,
            sources: [argumentBytes] + inputObjects.values.map(\.bytes))
    }

    func next<T: Decodable>(_ type: T.Type) throws -> T {
        defer { index += 1 }
        if let scalars, let value = scalars[index].value(as: type) { return value }
        if unpackedForm == nil { unpackedForm = try unpack() }
        let unpacked = unpackedForm!
        let element = unpacked.root.element(index)
        if let value = Self.scalar(type, element) { return value }
        do {
            return try MessagePackDecoder().decode(
                type, from: element, resolveReference: { key in
                    guard let object = unpacked.inputObjects[key]?.object else {
                        throw ArgumentError(description: "input '\(key)' of '\(self.function)' is not available on this worker")
                    }
                    return object
                },
                sources: unpacked.sources)
        } catch let error as DecodingError {
            throw ArgumentError(
                description: "argument \(index + 1) of '\(function)' is not a \(T.self): \(Self.explain(error))")
        }
    }

    /// The common scalar parameter types read straight from the object (no decoder); nil for anything else,
    /// including a value of the wrong type, which the decoder then reports precisely.
    private static func scalar<T>(_ type: T.Type, _ object: MessagePackObject) -> T? {
        switch type {
        case is Int.Type: return object.int64.flatMap { Int(exactly: $0) } as? T
        case is String.Type: return object.string as? T
        case is Double.Type: return object.double as? T
        case is Bool.Type: return object.bool as? T
        default: return nil
        }
    }

    static func explain(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
