import Foundation
import Testing
import ZFlowCore
import ZFlowWire

/// Encodes `value` and decodes it back as the same type.
private func roundTrip<T: Codable>(_ value: T) throws -> T {
    try MessagePackDecoder().decode(T.self, from: try MessagePackEncoder().encode(value))
}

private enum Color: String, Codable, CaseIterable { case red, green, blue = "bleu" }
private enum Level: Int, Codable, CaseIterable { case low = -1, mid = 0, high = 1000 }

private struct Address: Codable, Hashable {
    var street: String
    var number: Int16
}

private struct Person: Codable, Hashable {
    var name: String
    var age: UInt8
    var nickname: String?
    var address: Address
    var previous: [Address]
    var tags: [String: [Int]]
    var color: Color
    var level: Level
    var photo: Data
    var score: Double
    var ratio: Float
}

private enum Shape: Codable, Hashable {
    case circle(radius: Double)
    case polygon([Double])
    case empty
}

/// Stands in for a `Future`: it writes a task reference when the encoder can, its key otherwise.
private struct Reference: Encodable {
    let key: TaskKey
    func encode(to encoder: any Encoder) throws {
        if let references = encoder as? any TaskReferenceEncoder {
            references.encodeReference(key)
        } else {
            var container = encoder.singleValueContainer()
            try container.encode(key.rawValue)
        }
    }
}

/// The argument list of a task that adds its dependencies' results to a constant.
private struct Arguments: Encodable {
    var constant: Int
    var inputs: [Reference]
    var named: [String: Reference]
}

/// What the function sees once the references are resolved.
private struct ResolvedArguments: Decodable, Equatable {
    var constant: Int
    var inputs: [Int]
    var named: [String: [String]]
}

@Suite("MessagePackEncoder and MessagePackDecoder")
struct CodableTests {
    @Test("integers", arguments: [0, 1, -1, 127, 128, -32, -33, 255, 256, 65_535, 65_536, -129, -32_769, Int.max, Int.min])
    func integers(value: Int) throws {
        #expect(try roundTrip(value) == value)
    }

    @Test("unsigned extremes and fixed widths")
    func fixedWidths() throws {
        #expect(try roundTrip(UInt64.max) == .max)
        #expect(try roundTrip(UInt64(0)) == 0)
        #expect(try roundTrip(Int64.min) == .min)
        #expect(try roundTrip(Int8.min) == .min)
        #expect(try roundTrip(UInt8.max) == .max)
        #expect(try roundTrip(Int32.max) == .max)
        #expect(try roundTrip(UInt16.max) == .max)
        #expect(try roundTrip(UInt(1) << 63) == 1 << 63)
    }

    @Test("floating point")
    func floats() throws {
        for value in [0.0, -0.0, 1.5, -2.25, .pi, .greatestFiniteMagnitude, .leastNonzeroMagnitude, .infinity, -.infinity] {
            let decoded = try roundTrip(value)
            #expect(decoded == value && decoded.sign == value.sign)
        }
        #expect(try roundTrip(Double.nan).isNaN)
        #expect(try roundTrip(Float(3.25)) == 3.25)
        // An integer decodes as a Double.
        #expect(try MessagePackDecoder().decode(Double.self, from: MessagePackEncoder().encode(7)) == 7.0)
    }

    @Test("strings, including non-ASCII and long ones")
    func strings() throws {
        for value in ["", "a", "héllo wörld", "日本語テキスト", "emoji 👩‍👩‍👧‍👦 and 🇨🇭", String(repeating: "x", count: 70_000), "nul\0inside"] {
            #expect(try roundTrip(value) == value)
        }
    }

    @Test("booleans and Data")
    func boolAndData() throws {
        #expect(try roundTrip(true) == true)
        #expect(try roundTrip(false) == false)
        for data in [Data(), Data([0]), patternBytes(300), patternBytes(70_000)] {
            #expect(try roundTrip(data) == data)
        }
        #expect(try roundTrip([Data([1]), Data([2, 3])]) == [Data([1]), Data([2, 3])])
    }

    @Test("an array of 10,000 integers")
    func largeArray() throws {
        let values = (0..<10_000).map { $0 % 2 == 0 ? $0 * 1_000_003 : -$0 }
        #expect(try roundTrip(values) == values)
        #expect(try roundTrip([Int]()) == [])
    }

    @Test("dictionaries")
    func dictionaries() throws {
        let table = ["one": 1, "minus": -1, "big": Int.max, "": 0, "ключ": 42]
        #expect(try roundTrip(table) == table)
        #expect(try roundTrip([String: Int]()) == [:])
        let byNumber = [1: "a", -5: "b", 1000: "c"]
        #expect(try roundTrip(byNumber) == byNumber)
        let nested = ["a": ["x": [1.5]], "b": [:]]
        #expect(try roundTrip(nested) == nested)
    }

    @Test("nested structs with optionals, enums, data and collections")
    func nestedStructs() throws {
        var person = Person(
            name: "Ada", age: 36, nickname: nil, address: Address(street: "St James's Square", number: 12),
            previous: [Address(street: "a", number: -1), Address(street: "b", number: .max)],
            tags: ["primes": [2, 3, 5], "empty": []], color: .blue, level: .low, photo: patternBytes(5000),
            score: 99.5, ratio: 0.5)
        #expect(try roundTrip(person) == person)
        person.nickname = "Countess"
        #expect(try roundTrip(person) == person)
        #expect(try roundTrip([person, person]) == [person, person])
    }

    @Test("optionals at the top level and inside collections")
    func optionals() throws {
        #expect(try roundTrip(Int?.none) == nil)
        #expect(try roundTrip(Int?.some(5)) == 5)
        #expect(try roundTrip(String?.some("")) == "")
        #expect(try roundTrip([1, nil, 3] as [Int?]) == [1, nil, 3])
        #expect(try roundTrip(["a": nil, "b": 2] as [String: Int?]) == ["a": nil, "b": 2])
    }

    @Test("enums with raw values and with associated values")
    func enums() throws {
        for color in Color.allCases { #expect(try roundTrip(color) == color) }
        for level in Level.allCases { #expect(try roundTrip(level) == level) }
        #expect(Array(try MessagePackEncoder().encode(Color.blue)) == hex("a4") + ascii("bleu"))
        for shape in [Shape.circle(radius: 2), .polygon([1, 2, 3]), .empty] {
            #expect(try roundTrip(shape) == shape)
        }
        // A raw value outside the enum is a DecodingError.
        #expect(throws: DecodingError.self) {
            try MessagePackDecoder().decode(Color.self, from: MessagePackEncoder().encode("purple"))
        }
    }

    @Test("a value of the wrong type throws DecodingError")
    func typeMismatch() throws {
        let encoder = MessagePackEncoder()
        let decoder = MessagePackDecoder()
        #expect(throws: DecodingError.self) { try decoder.decode(Int.self, from: encoder.encode("seven")) }
        #expect(throws: DecodingError.self) { try decoder.decode(String.self, from: encoder.encode(7)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Bool.self, from: encoder.encode(1)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Data.self, from: encoder.encode("bytes")) }
        #expect(throws: DecodingError.self) { try decoder.decode([Int].self, from: encoder.encode(["a": 1])) }
        #expect(throws: DecodingError.self) { try decoder.decode(Address.self, from: encoder.encode([1, 2])) }
        #expect(throws: DecodingError.self) { try decoder.decode(Int.self, from: encoder.encode(1.5)) }
        // A missing key.
        #expect(throws: DecodingError.self) { try decoder.decode(Address.self, from: encoder.encode(["street": "x"])) }
        // Associated values of the wrong shape.
        #expect(throws: DecodingError.self) { try decoder.decode(Shape.self, from: encoder.encode(["circle": [Int]()])) }
    }

    @Test("an integer too big for its type throws DecodingError")
    func integerOverflow() throws {
        let encoder = MessagePackEncoder()
        let decoder = MessagePackDecoder()
        #expect(throws: DecodingError.self) { try decoder.decode(Int8.self, from: encoder.encode(128)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Int8.self, from: encoder.encode(-129)) }
        #expect(throws: DecodingError.self) { try decoder.decode(UInt8.self, from: encoder.encode(-1)) }
        #expect(throws: DecodingError.self) { try decoder.decode(UInt8.self, from: encoder.encode(256)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Int.self, from: encoder.encode(UInt64.max)) }
        #expect(throws: DecodingError.self) { try decoder.decode(UInt64.self, from: encoder.encode(Int64.min)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Address.self, from: encoder.encode(["street": "x", "number": 40_000] as [String: AnyCodable])) }
        #expect(try decoder.decode(Int8.self, from: encoder.encode(-128)) == -128)
        #expect(try decoder.decode(UInt8.self, from: encoder.encode(255)) == 255)
    }

    @Test("task references are collected once each, in order, and resolved by the decoder's closure")
    func taskReferences() throws {
        let arguments = Arguments(
            constant: 10, inputs: [Reference(key: "a"), Reference(key: "b"), Reference(key: "a")],
            named: ["only": Reference(key: "c")])
        let (bytes, references) = try MessagePackEncoder().encodeWithReferences(arguments)
        #expect(references == ["a", "b", "c"])

        // The results each reference stands for, as a worker would have fetched them.
        let results: [TaskKey: Data] = [
            "a": try MessagePackEncoder().encode(1),
            "b": try MessagePackEncoder().encode(20),
            "c": try MessagePackEncoder().encode(["x", "y"]),
        ]
        var asked: [TaskKey] = []
        let decoded = try withResolvedResults(results) { lookup in
            let reader = MessagePackReader()
            return try bytes.withUnsafeBytes { raw in
                try MessagePackDecoder().decode(
                    ResolvedArguments.self, from: try reader.unpack(raw),
                    resolveReference: { key in
                        asked.append(key)
                        guard let object = lookup[key] else { throw DecodingError.valueNotFound(Int.self, .init(codingPath: [], debugDescription: "\(key)")) }
                        return object
                    })
            }
        }
        #expect(decoded == ResolvedArguments(constant: 10, inputs: [1, 20, 1], named: ["only": ["x", "y"]]))
        #expect(asked.sorted() == ["a", "a", "b", "c"])
    }

    @Test("a task reference is extension type 1 holding the key's UTF-8 bytes")
    func referenceBytes() throws {
        let (bytes, references) = try MessagePackEncoder().encodeWithReferences([Reference(key: "ké")])
        #expect(references == ["ké"])
        // "ké" is 3 UTF-8 bytes: no fixext size fits, so msgpack-c writes ext8 (c7, length, type).
        #expect(Array(bytes) == hex("91 c7 03 01") + ascii("ké"))
        // At the top level too.
        let top = try MessagePackEncoder().encodeWithReferences(Reference(key: "k"))
        #expect(top.references == ["k"])
        #expect(Array(top.bytes) == hex("d4 01") + ascii("k"))  // fixext 1
    }

    @Test("an unresolved reference without a resolver throws")
    func unresolvedReference() throws {
        let bytes = try MessagePackEncoder().encode([Reference(key: "missing")])
        #expect(throws: DecodingError.self) { try MessagePackDecoder().decode([Int].self, from: bytes) }
        // The resolver's own error propagates.
        struct Lost: Error {}
        let reader = MessagePackReader()
        #expect(throws: Lost.self) {
            try bytes.withUnsafeBytes { raw in
                try MessagePackDecoder().decode([Int].self, from: try reader.unpack(raw), resolveReference: { _ in throw Lost() })
            }
        }
    }
}

/// Unpacks each result with a reader of its own and passes the objects to `body` while the bytes and readers live.
private func withResolvedResults<R>(
    _ results: [TaskKey: Data], _ body: ([TaskKey: MessagePackObject]) throws -> R
) throws -> R {
    var pinned: [TaskKey: UnsafeMutableRawBufferPointer] = [:]
    defer { for buffer in pinned.values { buffer.deallocate() } }
    var objects: [TaskKey: MessagePackObject] = [:]
    var readers: [MessagePackReader] = []
    for (key, data) in results {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 8)
        data.copyBytes(to: buffer)
        pinned[key] = buffer
        let reader = MessagePackReader()
        readers.append(reader)
        objects[key] = try reader.unpack(UnsafeRawBufferPointer(rebasing: buffer[0..<data.count]))
    }
    return try withExtendedLifetime(readers) { try body(objects) }
}

/// A heterogeneous value for building maps in tests.
private enum AnyCodable: Codable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String), int(Int)
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) { self = .int(value) } else { self = .string(try container.decode(String.self)) }
    }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        }
    }
}
