/// Why words could not be counted.
public enum WordCountError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A word longer than `WordCounter.maximumWordLength` bytes.
    case wordTooLong
    /// More than `WordCounter.maximumRunWithoutBreak` bytes of a streamed text without a break byte (an ASCII
    /// byte that is not part of a word and does not touch the final sigma rule: space, newline, comma, …).
    case noBreak
    /// A count, or the total, does not fit in `Int`.
    case countOverflow
    /// Encoded counts (`WordCounts.encoded`) that are not well formed.
    case malformedCounts(String)

    /// What went wrong, in a sentence.
    public var description: String {
        switch self {
        case .wordTooLong: "a word is longer than \(WordCounter.maximumWordLength) bytes"
        case .noBreak: "more than \(WordCounter.maximumRunWithoutBreak) bytes without a space, newline or punctuation"
        case .countOverflow: "a word count does not fit in a 64-bit integer"
        case .malformedCounts(let reason): "malformed word counts: \(reason)"
        }
    }
}

/// Counts words by ZFlow's definition: a word is a maximal run of Unicode scalars that are letters (L*), marks
/// (M*) or numbers (N*), or the apostrophe U+0027, taken after full lower-casing (Unicode's default, with the
/// Greek final sigma); invalid UTF-8 is read as U+FFFD, which is not part of a word.
///
/// Texts are read as UTF-8 bytes: ASCII in a table-driven loop, other scalars through the Unicode tables
/// (`UnicodeWordData`). Give a whole text to `count(text:)`, or stream one with `append` and `endText`:
/// the counter counts each part up to its last break byte and keeps the rest for the next part.
///
/// One counter is for one thread. It is noncopyable: its tables are mutated in place, without the runtime
/// exclusivity checks a class would pay on every word.
public struct WordCounter: ~Copyable {
    /// The longest word counted, in bytes (a word that ends in a scalar of 0x80 or more leaves 12 bytes to spare).
    public static let maximumWordLength = WordTable.maximumWordLength
    /// The most bytes a streamed text may run without a break byte.
    public static let maximumRunWithoutBreak = 256 << 20

    private var table: WordTable
    private let tables = WordTables.shared
    private let asciiWordBytes: UnsafeMutablePointer<UInt8>
    private let asciiCaseClasses: UnsafeMutablePointer<UInt8>
    private let asciiBreaks: UnsafeMutablePointer<Bool>

    /// Finished words on their way into `table`, and the word being read after them.
    private var batch = WordBatch()

    /// Streamed bytes not yet counted (after the last break byte).
    private var carry: UnsafeMutablePointer<UInt8>
    private var carryCapacity: Int
    private var carryCount = 0

    /// Where the last scalar of 0x80 or more that the scan met ended, and whether the last scalar up to it
    /// that is not case-ignorable is cased (the final sigma's look-back).
    private var lastWideEnd = -1
    private var casedUpToLastWide = false

    /// An empty counter, sized for about `expectedDistinct` distinct words.
    public init(expectedDistinct: Int = 4096) {
        table = WordTable(expectedDistinct: expectedDistinct)
        asciiWordBytes = .allocate(capacity: 256)
        asciiWordBytes.initialize(from: tables.asciiWordBytes, count: 256)
        asciiCaseClasses = .allocate(capacity: 256)
        asciiCaseClasses.initialize(from: tables.asciiCaseClasses, count: 256)
        asciiBreaks = .allocate(capacity: 256)
        for byte in 0..<256 {
            (asciiBreaks + byte).initialize(to: byte < 0x80 && tables.asciiWordBytes[byte] == 0 && tables.asciiCaseClasses[byte] == 0)
        }
        carryCapacity = 0
        carry = .allocate(capacity: 0)
    }

    deinit {
        asciiWordBytes.deallocate()
        asciiCaseClasses.deallocate()
        asciiBreaks.deallocate()
        carry.deallocate()
    }

    /// Whether `byte` may end a part of a text: an ASCII byte that is not in a word, not cased and not
    /// case-ignorable, so that no word and no final sigma decision spans it.
    public static func isBreak(_ byte: UInt8) -> Bool {
        byte < 0x80 && WordTables.shared.asciiWordBytes[Int(byte)] == 0 && WordTables.shared.asciiCaseClasses[Int(byte)] == 0
    }

    /// Counts the words of `text`, a whole text: its start and end are the text's.
    public mutating func count(text: UnsafeRawBufferPointer) throws(WordCountError) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        try scan(base.assumingMemoryBound(to: UInt8.self), count: text.count)
    }

    /// Adds the next bytes of a streamed text and counts them up to the last break byte; keeps the rest.
    ///
    /// Only the bytes up to the first break byte are copied (to join what was kept before); the others are
    /// counted where they are.
    ///
    /// - Throws: `WordCountError.noBreak` when the bytes kept would pass `maximumRunWithoutBreak`.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) throws(WordCountError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let source = base.assumingMemoryBound(to: UInt8.self)
        var cut = bytes.count
        while cut > 0 && !asciiBreaks[Int(source[cut - 1])] { cut -= 1 }
        guard cut > 0 else {
            try keep(source, count: bytes.count)
            return
        }
        var start = 0
        if carryCount > 0 {
            while !asciiBreaks[Int(source[start])] { start += 1 }
            start += 1
            try keep(source, count: start)
            try endText()
        }
        try scan(source + start, count: cut - start)
        try keep(source + cut, count: bytes.count - cut)
    }

    /// Counts what is left of a streamed text as its end.
    public mutating func endText() throws(WordCountError) {
        let count = carryCount
        carryCount = 0
        try scan(carry, count: count)
    }

    /// The counts so far.
    ///
    /// - Throws: `WordCountError.countOverflow` when a count went past `Int.max`.
    public func counts() throws(WordCountError) -> WordCounts {
        try WordCounts(table: table)
    }

    private mutating func keep(_ bytes: UnsafePointer<UInt8>, count: Int) throws(WordCountError) {
        guard count > 0 else { return }
        guard carryCount + count <= Self.maximumRunWithoutBreak else { throw .noBreak }
        if carryCount + count > carryCapacity {
            let capacity = max(carryCount + count, carryCapacity * 2, 4096)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            grown.update(from: carry, count: carryCount)
            carry.deallocate()
            carry = grown
            carryCapacity = capacity
        }
        (carry + carryCount).update(from: bytes, count: count)
        carryCount += count
    }

    // MARK: - Scanning

    /// Counts the words of `bytes[0..<count]`, a region that starts at a text's start or at or just after a break
    /// byte, and ends at a text's end or at or just before a break byte.
    private mutating func scan(_ bytes: UnsafePointer<UInt8>, count: Int) throws(WordCountError) {
        lastWideEnd = -1
        let words = asciiWordBytes
        var word = batch.next
        var room = batch.room
        var length = 0
        var index = 0
        while index < count {
            let value = words[Int(bytes[index])]
            if value &- 1 < 0x7F {
                if length == room {
                    try batch.makeRoom(wordLength: length, needed: length + 1, into: &table)
                    word = batch.next
                    room = batch.room
                }
                word[length] = value
                length &+= 1
                index &+= 1
            } else if value == 0 {
                if length > 0 {
                    batch.finish(length: length, into: &table)
                    word = batch.next
                    room = batch.room
                    length = 0
                }
                index &+= 1
            } else {
                index = try wideScalar(at: index, in: bytes, count: count, wordLength: &length)
                word = batch.next
                room = batch.room
            }
        }
        if length > 0 { batch.finish(length: length, into: &table) }
        batch.flush(into: &table)
    }

    /// Reads the scalar of 0x80 or more at `index` (or one invalid byte): appends its lower-case form to the
    /// word when it is a word scalar, else ends the word; returns the index after it.
    private mutating func wideScalar(
        at index: Int, in bytes: UnsafePointer<UInt8>, count: Int, wordLength length: inout Int
    ) throws(WordCountError) -> Int {
        let (scalar, size) = Self.decode(bytes, at: index, count: count)
        let end = index + size
        let classBits = scalar == Self.invalid ? 0 : tables.classOf(scalar)
        let casedNow =
            classBits & WordTables.caseIgnorable != 0 ? casedBefore(index, in: bytes) : classBits & WordTables.cased != 0
        defer {
            lastWideEnd = end
            casedUpToLastWide = casedNow
        }
        guard classBits & WordTables.word != 0 else {
            if length > 0 {
                batch.finish(length: length, into: &table)
                length = 0
            }
            return end
        }
        // A lower-case form is at most three scalars of four bytes.
        if length + 12 > batch.room { try batch.makeRoom(wordLength: length, needed: length + 12, into: &table) }
        let word = batch.next
        if scalar == 0x3A3 {
            // Capital sigma: final (ς) after a cased scalar and not before one, case-ignorable ones skipped.
            let final = casedBefore(index, in: bytes) && !casedAfter(end, in: bytes, count: count)
            length += Self.encode(final ? 0x3C2 : 0x3C3, into: word + length)
        } else if classBits & WordTables.expands != 0 {
            for part in tables.expansion(scalar) { length += Self.encode(part.value, into: word + length) }
        } else if classBits & WordTables.lowers != 0 {
            length += Self.encode(tables.lowered(scalar), into: word + length)
        } else {
            (word + length).update(from: bytes + index, count: size)
            length += size
        }
        return end
    }

    /// Whether the last scalar before `index` that is not case-ignorable is cased.
    private func casedBefore(_ index: Int, in bytes: UnsafePointer<UInt8>) -> Bool {
        var position = index
        while position > 0 {
            let byte = bytes[position - 1]
            guard byte < 0x80 else { return position == lastWideEnd && casedUpToLastWide }
            let classBits = asciiCaseClasses[Int(byte)]
            guard classBits & WordTables.caseIgnorable != 0 else { return classBits & WordTables.cased != 0 }
            position -= 1
        }
        return false
    }

    /// Whether the first scalar from `index` that is not case-ignorable is cased.
    private func casedAfter(_ index: Int, in bytes: UnsafePointer<UInt8>, count: Int) -> Bool {
        var position = index
        while position < count {
            let classBits: UInt8
            let byte = bytes[position]
            if byte < 0x80 {
                classBits = asciiCaseClasses[Int(byte)]
                position += 1
            } else {
                let (scalar, size) = Self.decode(bytes, at: position, count: count)
                classBits = scalar == Self.invalid ? 0 : tables.classOf(scalar)
                position += size
            }
            guard classBits & WordTables.caseIgnorable != 0 else { return classBits & WordTables.cased != 0 }
        }
        return false
    }

    // MARK: - UTF-8

    /// What `decode` returns for an invalid byte.
    static let invalid: UInt32 = 0xFFFF_FFFF

    /// The scalar starting with the byte (0x80 or more) at `index`, and its length; `invalid` and length 1
    /// when the bytes there are not well-formed UTF-8 (the rest of an ill-formed sequence is then read as
    /// invalid bytes in turn, which splits words exactly as U+FFFD replacement does).
    @inline(__always)
    static func decode(_ bytes: UnsafePointer<UInt8>, at index: Int, count: Int) -> (UInt32, Int) {
        let lead = UInt32(bytes[index])
        let available = count - index
        @inline(__always) func continuation(_ offset: Int) -> UInt32? {
            let byte = bytes[index + offset]
            return byte & 0xC0 == 0x80 ? UInt32(byte & 0x3F) : nil
        }
        switch lead {
        case 0xC2...0xDF:
            guard available >= 2, let second = continuation(1) else { return (invalid, 1) }
            return ((lead & 0x1F) << 6 | second, 2)
        case 0xE0...0xEF:
            guard available >= 3, let second = continuation(1), let third = continuation(2) else { return (invalid, 1) }
            guard (lead != 0xE0 || second >= 0x20), (lead != 0xED || second < 0x20) else { return (invalid, 1) }
            return ((lead & 0x0F) << 12 | second << 6 | third, 3)
        case 0xF0...0xF4:
            guard available >= 4, let second = continuation(1), let third = continuation(2), let fourth = continuation(3)
            else { return (invalid, 1) }
            guard (lead != 0xF0 || second >= 0x10), (lead != 0xF4 || second < 0x10) else { return (invalid, 1) }
            return ((lead & 0x07) << 18 | second << 12 | third << 6 | fourth, 4)
        default:
            return (invalid, 1)
        }
    }

    /// Writes `scalar` as UTF-8 at `target`; returns its length.
    @inline(__always)
    static func encode(_ scalar: UInt32, into target: UnsafeMutablePointer<UInt8>) -> Int {
        switch scalar {
        case 0..<0x80:
            target[0] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            target[0] = UInt8(0xC0 | scalar >> 6)
            target[1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            target[0] = UInt8(0xE0 | scalar >> 12)
            target[1] = UInt8(0x80 | scalar >> 6 & 0x3F)
            target[2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        default:
            target[0] = UInt8(0xF0 | scalar >> 18)
            target[1] = UInt8(0x80 | scalar >> 12 & 0x3F)
            target[2] = UInt8(0x80 | scalar >> 6 & 0x3F)
            target[3] = UInt8(0x80 | scalar & 0x3F)
            return 4
        }
    }
}
