/// The Unicode data of the word definition, unpacked once into two-stage lookup tables (256 code points a
/// page; pages with equal contents are stored once).
///
/// Each scalar has a class: `word` (a letter, mark or number, or the apostrophe), `cased` and
/// `caseIgnorable` (the properties that decide the Greek final sigma), `lowers` (its lower-case form differs)
/// and `expands` (that form is more than one scalar).
final class WordTables: Sendable {
    /// Class bits.
    static let word: UInt8 = 1
    static let cased: UInt8 = 2
    static let caseIgnorable: UInt8 = 4
    static let lowers: UInt8 = 8
    static let expands: UInt8 = 16

    /// The tables of this build.
    static let shared = WordTables()

    /// The page number of each 256-code-point page, for `classes` and `deltas`.
    private let classPages: [UInt16]
    private let classes: [UInt8]
    private let deltaPages: [UInt16]
    private let deltas: [Int32]
    private let expansions: [UInt32: [Unicode.Scalar]]

    /// For each byte below 0x80, its lower-cased value when it is a word byte, else 0; 0xFF for every byte from
    /// 0x80 (the start or middle of a longer scalar).
    let asciiWordBytes: [UInt8]
    /// For each byte below 0x80, its class bits `cased` and `caseIgnorable`.
    let asciiCaseClasses: [UInt8]

    private init() {
        var classOf = [UInt8](repeating: 0, count: 0x110000)
        var start = 0
        for run in UnicodeWordData.classRuns.split(separator: " ") {
            let length = Int(run.dropLast(), radix: 16)!
            let bits = UInt8(String(run.last!))!
            for code in start..<start + length { classOf[code] = bits }
            start += length
        }
        precondition(start == 0x110000, "the class runs cover every code point")
        var deltaOf = [Int32](repeating: 0, count: 0x110000)
        for entry in UnicodeWordData.lowercaseDeltas.split(separator: " ") {
            let parts = entry.split(separator: ":")
            let code = Int(parts[0], radix: 16)!
            deltaOf[code] = Int32(parts[1], radix: 16)!
            classOf[code] |= Self.lowers
        }
        var expansions: [UInt32: [Unicode.Scalar]] = [:]
        for entry in UnicodeWordData.lowercaseExpansions.split(separator: " ") {
            let parts = entry.split(separator: ":")
            let code = UInt32(parts[0], radix: 16)!
            expansions[code] = parts[1].split(separator: ",").map { Unicode.Scalar(UInt32($0, radix: 16)!)! }
            classOf[Int(code)] |= Self.lowers | Self.expands
        }
        (classPages, classes) = Self.paged(classOf)
        (deltaPages, deltas) = Self.paged(deltaOf)
        self.expansions = expansions
        asciiWordBytes = (0..<256).map { byte in
            guard byte < 0x80 else { return 0xFF }
            guard classOf[byte] & Self.word != 0 else { return 0 }
            return UInt8(byte + Int(deltaOf[byte]))
        }
        asciiCaseClasses = (0..<256).map { byte in byte < 0x80 ? classOf[byte] & (Self.cased | Self.caseIgnorable) : 0 }
    }

    /// The class bits of `scalar`.
    @inline(__always)
    func classOf(_ scalar: UInt32) -> UInt8 {
        classes.withUnsafeBufferPointer { classes in
            classPages.withUnsafeBufferPointer { pages in
                classes[Int(pages[Int(scalar >> 8)]) << 8 | Int(scalar & 0xFF)]
            }
        }
    }

    /// The lower-case form of a scalar whose class has `lowers` but not `expands`.
    @inline(__always)
    func lowered(_ scalar: UInt32) -> UInt32 {
        deltas.withUnsafeBufferPointer { deltas in
            deltaPages.withUnsafeBufferPointer { pages in
                UInt32(bitPattern: Int32(bitPattern: scalar) &+ deltas[Int(pages[Int(scalar >> 8)]) << 8 | Int(scalar & 0xFF)])
            }
        }
    }

    /// The lower-case form of a scalar whose class has `expands`.
    func expansion(_ scalar: UInt32) -> [Unicode.Scalar] { expansions[scalar] ?? [] }

    /// The Unicode version of the data.
    static var unicodeVersion: String { UnicodeWordData.version }

    private static func paged<Element: Hashable>(_ values: [Element]) -> ([UInt16], [Element]) {
        var pages: [UInt16] = []
        var contents: [Element] = []
        var known: [[Element]: UInt16] = [:]
        for start in stride(from: 0, to: values.count, by: 256) {
            let page = Array(values[start..<start + 256])
            if let number = known[page] {
                pages.append(number)
            } else {
                let number = UInt16(known.count)
                known[page] = number
                contents += page
                pages.append(number)
            }
        }
        return (pages, contents)
    }
}
