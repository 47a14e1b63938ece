import Foundation
import ZFlowCore

/// Something that can stand for an argument of type `Value` in `submit`: the value itself or a `Future` of it.
///
/// Standard types conform already; make your own `Codable` types conform with `extension MyType: TaskValue {}`.
/// Arrays and dictionaries of arguments are arguments too, so `[Future<Int>]` can stand for `[Int]`.
public protocol TaskArgument<Value>: Encodable, Sendable {
    /// The type the function receives.
    associatedtype Value: Codable & Sendable
}

/// A plain value passed as itself.
public protocol TaskValue: TaskArgument, Codable where Value == Self {}

extension Int: TaskValue {}
extension Int8: TaskValue {}
extension Int16: TaskValue {}
extension Int32: TaskValue {}
extension Int64: TaskValue {}
extension UInt: TaskValue {}
extension UInt8: TaskValue {}
extension UInt16: TaskValue {}
extension UInt32: TaskValue {}
extension UInt64: TaskValue {}
extension Double: TaskValue {}
extension Float: TaskValue {}
extension Bool: TaskValue {}
extension String: TaskValue {}
extension Data: TaskValue {}

extension Array: TaskArgument where Element: TaskArgument {
    /// An array of arguments stands for an array of their values.
    public typealias Value = [Element.Value]
}

extension Dictionary: TaskArgument where Key == String, Value: TaskArgument {
    /// A dictionary of arguments stands for a dictionary of their values.
    public typealias Value = [String: Value.Value]
}

extension Optional: TaskArgument where Wrapped: TaskArgument {
    /// An optional argument stands for an optional value.
    public typealias Value = Wrapped.Value?
}
