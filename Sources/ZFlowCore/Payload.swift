import Foundation

/// Encoded bytes of a task's arguments or result, carried untouched from producer to consumer.
///
/// On the wire a large payload travels as a frame of its own, referenced from the header by index.
public struct Payload: Hashable, Sendable, CustomStringConvertible {
    /// The MessagePack bytes.
    public var bytes: Data
    /// Wraps bytes.
    public init(_ bytes: Data) { self.bytes = bytes }
    /// Wraps a byte array.
    public init(_ bytes: [UInt8]) { self.bytes = Data(bytes) }
    /// The number of bytes.
    public var count: Int { bytes.count }
    /// The size, for logs.
    public var description: String { "\(bytes.count) bytes" }
}
