import Foundation
import ZFlowCore

/// One direction of the protocol: a closed set of operations with their wire names.
public protocol WireMessage: Sendable {
    /// The operation's wire name (kebab-case).
    var op: String { get }
    /// Writes the operation's fields (not `op`) and returns how many it wrote.
    func writeFields(to writer: OperationWriter) -> Int
    /// Reads an operation whose `op` is `op`.
    ///
    /// - Throws: `WireError.unknownOp` when `op` is not in this direction, or a field error.
    static func read(op: String, from reader: OperationReader) throws(WireError) -> Self
}

/// Builds one multipart message: the signature, a header holding a batch of operations, payload frames.
///
/// Payloads up to `inlineLimit` bytes travel inside the header as binaries; larger ones get a frame of
/// their own, and the header holds that frame's index, so they are never re-encoded.
public final class OperationWriter {
    /// Payloads larger than this travel as frames of their own.
    public static let inlineLimit = 4096

    /// The header being written; operation code writes fields with it.
    public let header = MessagePackWriter()
    private var payloadFrames: [Data] = []
    private var operationCount = 0
    private var countOffset: Int
    /// Payloads larger than this travel in frames of this size (nil: one frame each, however large).
    private let chunkBytes: Int?

    /// Starts an empty batch.
    ///
    /// - Parameter chunkBytes: split larger payloads into frames of this size. CurveZMQ encrypts each frame in
    ///   buffers the size of the frame, and is about twice as fast on frames of 1 MiB as on one of 64 MiB; without
    ///   encryption one frame is fastest (the receiver need not join the parts).
    public init(chunkBytes: Int? = nil) {
        self.chunkBytes = chunkBytes.map { max($0, Self.inlineLimit + 1) }
        countOffset = header.writeArrayHeaderPlaceholder()
    }

    /// True when no operation was added since the last `finish()`.
    public var isEmpty: Bool { operationCount == 0 }

    /// Operations added since the last `finish()`.
    public var count: Int { operationCount }

    /// Adds one operation to the batch.
    public func add<M: WireMessage>(_ message: M) {
        let mapStart = header.count
        header.writeMapHeader(0xFFFF)
        header.write("op")
        header.write(message.op)
        let fields = message.writeFields(to: self)
        header.patchMapHeader16(at: mapStart, count: fields + 1)
        operationCount += 1
    }

    /// Writes a field name; its value must follow.
    public func key(_ name: String) { header.write(name) }

    /// Writes a payload: inline when small, else as a frame reference.
    public func payload(_ payload: Payload) {
        if payload.count <= Self.inlineLimit {
            header.writeBinary(payload.bytes)
        } else if let chunkBytes, payload.count > chunkBytes {
            // [index of the first frame, number of frames]: the parts, in order, make the payload.
            let bytes = payload.bytes
            header.writeArrayHeader(2)
            header.write(UInt64(payloadFrames.count + 2))
            header.write(UInt64((bytes.count + chunkBytes - 1) / chunkBytes))
            var start = bytes.startIndex
            while start < bytes.endIndex {
                let end = bytes.index(start, offsetBy: chunkBytes, limitedBy: bytes.endIndex) ?? bytes.endIndex
                payloadFrames.append(bytes[start..<end])
                start = end
            }
        } else {
            payloadFrames.append(payload.bytes)
            header.write(UInt64(payloadFrames.count + 1))
        }
    }

    /// Writes an array of strings.
    public func strings<S: Sequence>(_ values: S, _ text: (S.Element) -> String) {
        let array = Array(values)
        header.writeArrayHeader(array.count)
        for value in array { header.write(text(value)) }
    }

    /// The frames of the batch (signature, header, payloads); the writer is then empty again.
    public func finish() -> [Data] {
        header.patchArrayHeader(at: countOffset, count: operationCount)
        var frames = [Data(ProtocolVersion.signature), header.data()]
        frames.append(contentsOf: payloadFrames)
        header.reset()
        payloadFrames.removeAll(keepingCapacity: true)
        operationCount = 0
        countOffset = header.writeArrayHeaderPlaceholder()
        return frames
    }

    /// Encodes one batch of messages into frames (payloads over `chunkBytes` in parts, when given).
    public static func frames<M: WireMessage>(_ messages: [M], chunkBytes: Int? = nil) -> [Data] {
        let writer = OperationWriter(chunkBytes: chunkBytes)
        for message in messages { writer.add(message) }
        return writer.finish()
    }
}

/// Reads the fields of one operation, resolving payload frame references.
public struct OperationReader {
    /// The operation's map.
    public let object: MessagePackObject
    /// The operation's name, for error messages.
    public let op: String
    private let frames: [Data]
    /// The frames joined into payloads so far in this message, shared by its operations.
    private let joined: JoinedFrames

    init(object: MessagePackObject, op: String, frames: [Data], joined: JoinedFrames) {
        self.object = object
        self.op = op
        self.frames = frames
        self.joined = joined
    }

    /// The value of a field, or nil when absent.
    public func optional(_ name: String) -> MessagePackObject? { object[name] }

    /// The value of a required field.
    public func field(_ name: String) throws(WireError) -> MessagePackObject {
        guard let value = object[name] else { throw .missingField("\(op).\(name)") }
        return value
    }

    /// A type mismatch for field `name`.
    public func mismatch(_ name: String, expected: String, found value: MessagePackObject) -> WireError {
        .typeMismatch(expected: expected, found: value.typeName, at: "\(op).\(name)")
    }

    /// A required string field.
    public func string(_ name: String) throws(WireError) -> String {
        let value = try field(name)
        guard let text = value.string else { throw mismatch(name, expected: "string", found: value) }
        return text
    }

    /// A required non-negative integer field.
    public func uint(_ name: String) throws(WireError) -> UInt64 {
        let value = try field(name)
        guard let number = value.uint64 else { throw mismatch(name, expected: "unsigned integer", found: value) }
        return number
    }

    /// A required integer field.
    public func int(_ name: String) throws(WireError) -> Int {
        let value = try field(name)
        guard let number = value.int64 else { throw mismatch(name, expected: "integer", found: value) }
        return Int(number)
    }

    /// A required boolean field.
    public func bool(_ name: String) throws(WireError) -> Bool {
        let value = try field(name)
        guard let flag = value.bool else { throw mismatch(name, expected: "boolean", found: value) }
        return flag
    }

    /// An optional integer field with a default.
    public func int(_ name: String, default fallback: Int) throws(WireError) -> Int {
        object[name] == nil ? fallback : try int(name)
    }

    /// A required array field, each element read by `element`.
    public func array<T>(_ name: String, _ element: (MessagePackObject) throws(WireError) -> T) throws(WireError)
        -> [T]
    {
        let value = try field(name)
        guard let count = value.arrayCount else { throw mismatch(name, expected: "array", found: value) }
        var result: [T] = []
        result.reserveCapacity(count)
        for index in 0..<count { result.append(try element(value.element(index))) }
        return result
    }

    /// A required array of strings.
    public func strings(_ name: String) throws(WireError) -> [String] {
        try array(name) { (element) throws(WireError) in
            guard let text = element.string else { throw mismatch(name, expected: "string", found: element) }
            return text
        }
    }

    /// A payload given as an inline binary or as the index of a frame.
    public func payload(_ value: MessagePackObject, field name: String) throws(WireError) -> Payload {
        if let bytes = value.binaryBytes { return Payload(Data(bytes)) }
        if value.arrayCount == 2, let first = value.element(0).uint64, let count = value.element(1).uint64 {
            // Parts in frames first ..< first + count, joined in order.
            guard first >= 2, count >= 1, first < UInt64(frames.count), count <= UInt64(frames.count) - first else {
                throw .missingFrame(Int(clamping: first))
            }
            // A part joins one payload only: each join copies, and a few bytes of header naming the same frames
            // again and again would make the receiver allocate without bound.
            guard joined.claim(Int(first)..<Int(first + count)) else {
                throw .invalid("\(op).\(name): frames \(first)..<\(first + count) are parts of another payload already")
            }
            let parts = frames[Int(first)..<Int(first + count)]
            var joined = Data(capacity: parts.reduce(0) { $0 + $1.count })
            for part in parts { joined.append(part) }
            return Payload(joined)
        }
        guard let index = value.uint64 else {
            throw mismatch(name, expected: "binary, frame index or [first frame, frames]", found: value)
        }
        guard index >= 2, index < UInt64(frames.count) else { throw .missingFrame(Int(clamping: index)) }
        return Payload(frames[Int(index)])
    }

    /// A required payload field.
    public func payload(_ name: String) throws(WireError) -> Payload { try payload(try field(name), field: name) }

    /// A nested reader over a map element (for structured fields).
    public func nested(_ value: MessagePackObject, name: String) throws(WireError) -> OperationReader {
        guard value.mapCount != nil else { throw mismatch(name, expected: "map", found: value) }
        return OperationReader(object: value, op: "\(op).\(name)", frames: frames, joined: joined)
    }
}

/// Splits a multipart message into its operations.
public final class OperationDecoder {
    private let reader = MessagePackReader()

    /// Creates a decoder with its own reusable unpacking zone.
    public init() {}

    /// Decodes every operation of one message.
    ///
    /// - Parameter frames: the frames after any routing id: signature, header, payloads.
    /// - Returns: one result per operation in the header: the message, or why that operation was refused.
    /// - Throws: `WireError` when the message as a whole is unreadable (signature, header).
    public func decode<M: WireMessage>(_ type: M.Type, frames: [Data]) throws(WireError) -> [Result<M, WireError>] {
        guard frames.count >= 2 else { throw .missingFrame(frames.count) }
        guard frames[0].elementsEqual(ProtocolVersion.signature) else {
            if frames[0].count == 3, frames[0].prefix(2).elementsEqual(ProtocolVersion.signature.prefix(2)) {
                throw .unsupportedVersion(Int(frames[0][frames[0].startIndex + 2]))
            }
            throw .badSignature
        }
        let header = frames[1]
        do {
            return try header.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws(WireError) in
                let root = try reader.unpack(raw)
                guard let count = root.arrayCount else {
                    throw WireError.typeMismatch(expected: "array of operations", found: root.typeName, at: "header")
                }
                var results: [Result<M, WireError>] = []
                results.reserveCapacity(count)
                let joined = JoinedFrames()
                for index in 0..<count {
                    results.append(Result { () throws(WireError) in try Self.operation(root.element(index), frames, joined) })
                }
                return results
            }
        } catch let error as WireError {
            throw error
        } catch {
            throw .invalid("\(error)")
        }
    }

    private static func operation<M: WireMessage>(
        _ object: MessagePackObject, _ frames: [Data], _ joined: JoinedFrames
    ) throws(WireError) -> M {
        guard object.mapCount != nil else {
            throw .typeMismatch(expected: "map", found: object.typeName, at: "operation")
        }
        guard let opObject = object["op"] else { throw .missingField("op") }
        guard let op = opObject.string else {
            throw .typeMismatch(expected: "string", found: opObject.typeName, at: "op")
        }
        return try M.read(op: op, from: OperationReader(object: object, op: op, frames: frames, joined: joined))
    }
}

/// The frames of one message already joined into a payload (`[first frame, frames]`): each may be used once.
final class JoinedFrames {
    private var used = IndexSet()

    /// Marks `range` as used; false when any frame of it was used already.
    func claim(_ range: Range<Int>) -> Bool {
        guard !used.intersects(integersIn: range) else { return false }
        used.insert(integersIn: range)
        return true
    }
}
