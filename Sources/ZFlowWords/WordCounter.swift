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
    /// The longest word counted, in bytes.
    public static let maximumWordLength = WordTable.maximumWordLength
    /// The most bytes a streamed text may run without a break byte.
    public static let maximumRunWithoutBreak = 256 << 20

    private var table: WordTable
    private let tables = WordTables.shared
    private let asciiWordBytes: UnsafeMutablePointer<UInt8>
    private let asciiCaseClasses: UnsafeMutablePointer<UInt8>
    private let asciiBreaks: UnsafeMutablePointer<Bool>

    /// A word's place in `batch`, with what the table needs to find it.
    private struct PendingWord {
        var start: Int
        var length: Int
        var head: UInt64
        var hash: UInt32
    }

    /// Lower-cased words not yet added to the table, back to back, and after them the word being read; 16
    /// spare bytes follow `batchCapacity` (the table reads whole eight-byte words).
    private var batch: UnsafeMutablePointer<UInt8>
    private var batchCapacity: Int
    /// Bytes of the finished words in `batch`.
    private var batchUsed = 0
    /// The finished words in `batch`, whose table slots were asked for.
    private let pending: UnsafeMutablePointer<PendingWord>
    private var pendingCount = 0
    /// Words a batch holds: enough for their cache misses to overlap, few enough that their slots stay cached.
    private static let batchWords = 64

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
        batchCapacity = 16 << 10
        batch = .allocate(capacity: batchCapacity + 16)
        batch.initialize(repeating: 0, count: batchCapacity + 16)
        pending = .allocate(capacity: Self.batchWords)
        carryCapacity = 0
        carry = .allocate(capacity: 0)
    }

    deinit {
        asciiWordBytes.deallocate()
        asciiCaseClasses.deallocate()
        asciiBreaks.deallocate()
        batch.deallocate()
        pending.deallocate()
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

    /// Counts the words of `bytes[0..<count]`, which starts at a text's start or a break byte and ends at a
    /// text's end or just before a break byte.
    private mutating func scan(_ bytes: UnsafePointer<UInt8>, count: Int) throws(WordCountError) {
        lastWideEnd = -1
        let words = asciiWordBytes
        var word = batch + batchUsed
        var room = batchCapacity - batchUsed
        var length = 0
        var index = 0
        while index < count {
            let value = words[Int(bytes[index])]
            if value &- 1 < 0x7F {
                if length == room {
                    try makeRoom(wordLength: length, needed: length + 1)
                    word = batch + batchUsed
                    room = batchCapacity - batchUsed
                }
                word[length] = value
                length &+= 1
                index &+= 1
            } else if value == 0 {
                if length > 0 {
                    endWord(length: length)
                    word = batch + batchUsed
                    room = batchCapacity - batchUsed
                    length = 0
                }
                index &+= 1
            } else {
                index = try wideScalar(at: index, in: bytes, count: count, wordLength: &length)
                word = batch + batchUsed
                room = batchCapacity - batchUsed
            }
        }
        if length > 0 { endWord(length: length) }
        addBatch()
    }

    /// Finishes the word of `length` bytes being read: hashes it, asks for its table slot, and adds the batch
    /// to the table when it is full.
    @inline(__always)
    private mutating func endWord(length: Int) {
        let word = batch + batchUsed
        let head = WordTable.head(word, length: length)
        let hash = WordTable.hash(head: head, bytes: word, length: length)
        table.prefetch(hash: hash)
        pending[pendingCount] = PendingWord(start: batchUsed, length: length, head: head, hash: hash)
        pendingCount &+= 1
        batchUsed &+= length
        if pendingCount == Self.batchWords || batchCapacity - batchUsed < 256 { addBatch() }
    }

    /// Adds the finished words to the table and empties the batch.
    private mutating func addBatch() {
        for number in 0..<pendingCount {
            let word = pending[number]
            table.add(batch + word.start, length: word.length, head: word.head, hash: word.hash, count: 1)
        }
        pendingCount = 0
        batchUsed = 0
    }

    /// Makes room for the word being read (`wordLength` bytes so far) to reach `needed` bytes: adds the finished
    /// words and moves it to the batch's start, and grows the batch if that is not enough.
    ///
    /// - Throws: `WordCountError.wordTooLong` when `needed` passes `maximumWordLength`.
    private mutating func makeRoom(wordLength: Int, needed: Int) throws(WordCountError) {
        guard needed <= Self.maximumWordLength else { throw .wordTooLong }
        if batchUsed > 0 {
            let start = batchUsed
            addBatch()
            UnsafeMutableRawPointer(batch).copyMemory(from: batch + start, byteCount: wordLength)
        }
        guard needed > batchCapacity else { return }
        let capacity = min(max(needed, batchCapacity * 2), Self.maximumWordLength)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + 16)
        grown.initialize(repeating: 0, count: capacity + 16)
        grown.update(from: batch, count: wordLength)
        batch.deallocate()
        batch = grown
        batchCapacity = capacity
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
                endWord(length: length)
                length = 0
            }
            return end
        }
        // A lower-case form is at most three scalars of four bytes.
        if length + 12 > batchCapacity - batchUsed {
            try makeRoom(wordLength: length, needed: min(length + 12, Self.maximumWordLength))
        }
        let word = batch + batchUsed
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
        guard length <= Self.maximumWordLength else { throw .wordTooLong }
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
