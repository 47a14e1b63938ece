import Foundation

/// Words and how often each occurs, in a compact form that travels between workers as one byte string.
///
/// `encoded` holds one entry per distinct word: the word's length in bytes (LEB128), its lower-cased UTF-8
/// bytes, its count (LEB128, at least 1). Decoding checks every length and count, so a malformed value is an
/// error, never a trap.
public struct WordCounts: Sendable, Codable, CustomStringConvertible {
    /// The entries, as described above.
    public let encoded: Data
    /// All words counted (the sum of the counts).
    public let totalWords: Int
    /// Distinct words.
    public let distinctWords: Int

    /// No words.
    public init() {
        encoded = Data()
        totalWords = 0
        distinctWords = 0
    }

    /// The counts of a table.
    ///
    /// - Throws: `WordCountError.countOverflow` when a count or the total went past `Int.max`.
    init(table: borrowing WordTable) throws(WordCountError) {
        guard let total = table.total else { throw .countOverflow }
        var bytes = [UInt8]()
        bytes.reserveCapacity(table.wordBytes + table.distinct * 4)
        table.forEach { word, count in
            Self.appendNumber(word.count, to: &bytes)
            bytes.append(contentsOf: word)
            Self.appendNumber(count, to: &bytes)
        }
        encoded = Data(bytes)
        totalWords = total
        distinctWords = table.distinct
    }

    /// Reads encoded entries, checking them: lengths and counts in range, words of well-formed UTF-8, no word
    /// twice, a total that fits in `Int`.
    ///
    /// - Throws: `WordCountError.malformedCounts` or `.countOverflow`.
    public init(encoded: Data) throws(WordCountError) {
        var entries = 0
        var total = 0
        var hashes = HashSet64(expected: encoded.count / 8)
        var collided = false
        try Self.forEachEntry(in: encoded) { (word, count) throws(WordCountError) in
            guard Self.isWellFormedUTF8(word) else { throw .malformedCounts("a word that is not well-formed UTF-8") }
            let (sum, overflow) = total.addingReportingOverflow(count)
            guard !overflow else { throw .countOverflow }
            total = sum
            entries += 1
            if !hashes.insert(HashSet64.hash(word)) { collided = true }
        }
        // Equal 64-bit hashes: rare, and settled by comparing the words themselves.
        if collided {
            var table = WordTable(expectedDistinct: entries)
            var batch = WordBatch()
            try Self.forEachEntry(in: encoded) { (word, count) throws(WordCountError) in
                try batch.append(word, count: count, into: &table)
            }
            batch.flush(into: &table)
            guard table.distinct == entries else { throw .malformedCounts("a word listed twice") }
        }
        self.encoded = encoded
        totalWords = total
        distinctWords = entries
    }

    /// Whether `bytes` are well-formed UTF-8.
    private static func isWellFormedUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return true }
        var index = 0
        while index < bytes.count {
            if base[index] < 0x80 {
                index += 1
                continue
            }
            let (scalar, size) = WordCounter.decode(base, at: index, count: bytes.count)
            guard scalar != WordCounter.invalid else { return false }
            index += size
        }
        return true
    }

    /// Counts the words of a text given as UTF-8 bytes.
    public init(counting bytes: some Sequence<UInt8>) throws(WordCountError) {
        var counter = WordCounter()
        let array = Array(bytes)
        let failure = array.withUnsafeBytes { raw -> WordCountError? in
            do throws(WordCountError) {
                try counter.count(text: raw)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        self = try counter.counts()
    }

    /// Counts the words of a text.
    public init(counting text: String) throws(WordCountError) {
        try self.init(counting: text.utf8)
    }

    /// The sum of several counts.
    ///
    /// - Throws: `WordCountError.countOverflow` when a sum does not fit in `Int`.
    public static func merged(_ parts: [WordCounts]) throws(WordCountError) -> WordCounts {
        if parts.count == 1 { return parts[0] }
        var table = WordTable(expectedDistinct: parts.map(\.distinctWords).max() ?? 0)
        var batch = WordBatch()
        for part in parts {
            try forEachEntry(in: part.encoded) { (word, count) throws(WordCountError) in
                try batch.append(word, count: count, into: &table)
            }
        }
        batch.flush(into: &table)
        return try WordCounts(table: table)
    }

    /// Every distinct word with its count, in no particular order.
    ///
    /// Words are compared by their bytes, as Python compares strings: `café` with a precomposed `é` and with
    /// `e` and a combining accent are two words here, though Swift's `String` (and so a `[String: Int]`
    /// dictionary) holds them equal.
    public var entries: [(word: String, count: Int)] {
        var result: [(word: String, count: Int)] = []
        result.reserveCapacity(distinctWords)
        // The entries were checked when this value was made.
        try? Self.forEachEntry(in: encoded) { (word, count) throws(WordCountError) in
            result.append((String(decoding: word, as: UTF8.self), count))
        }
        return result
    }

    /// How often `word` (compared by its UTF-8 bytes) occurs.
    public func count(of word: String) -> Int {
        let bytes = Array(word.utf8)
        var found = 0
        try? Self.forEachEntry(in: encoded) { (candidate, count) throws(WordCountError) in
            if found == 0, candidate.elementsEqual(bytes) { found = count }
        }
        return found
    }

    /// The `limit` most frequent words, most frequent first (ties in the order of their bytes).
    ///
    /// A small `limit` keeps only the best words seen so far, so the top ten of a large count make ten strings,
    /// not one per distinct word.
    public func top(_ limit: Int) -> [(word: String, count: Int)] {
        guard limit > 0 else { return [] }
        typealias Entry = (word: [UInt8], count: Int)
        func precedes(_ count: Int, _ word: some Sequence<UInt8>, _ other: Entry) -> Bool {
            count != other.count ? count > other.count : word.lexicographicallyPrecedes(other.word)
        }
        var best: [Entry] = []
        if limit <= 64 && limit < distinctWords {
            try? Self.forEachEntry(in: encoded) { (word, count) throws(WordCountError) in
                if best.count == limit, let last = best.last, !precedes(count, word, last) { return }
                let position = best.firstIndex { !precedes($0.count, $0.word, (Array(word), count)) } ?? best.count
                best.insert((Array(word), count), at: position)
                if best.count > limit { best.removeLast() }
            }
        } else {
            best.reserveCapacity(distinctWords)
            try? Self.forEachEntry(in: encoded) { (word, count) throws(WordCountError) in best.append((Array(word), count)) }
            best.sort { precedes($0.count, $0.word, $1) }
            best = Array(best.prefix(limit))
        }
        return best.map { (String(decoding: $0.word, as: UTF8.self), $0.count) }
    }

    /// `N words, M distinct`.
    public var description: String { "\(totalWords) words, \(distinctWords) distinct" }

    /// Encodes as one byte string.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(encoded)
    }

    /// Decodes one byte string, checking every entry.
    public init(from decoder: Decoder) throws {
        let data = try decoder.singleValueContainer().decode(Data.self)
        do {
            try self.init(encoded: data)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    // MARK: - Encoding

    private static func appendNumber(_ value: Int, to bytes: inout [UInt8]) {
        var rest = UInt64(value)
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Calls `body` with each entry's word and count, checking the encoding as it goes.
    private static func forEachEntry(
        in data: Data, _ body: (UnsafeRawBufferPointer, Int) throws(WordCountError) -> Void
    ) throws(WordCountError) {
        let failure = data.withUnsafeBytes { bytes -> WordCountError? in
            do throws(WordCountError) {
                var index = 0
                func number() throws(WordCountError) -> Int {
                    var value: UInt64 = 0
                    var shift: UInt64 = 0
                    while true {
                        guard index < bytes.count else { throw .malformedCounts("an entry ends early") }
                        let byte = bytes[index]
                        index += 1
                        guard shift < 63 || (shift == 63 && byte <= 1) else { throw .malformedCounts("a number is too long") }
                        value |= UInt64(byte & 0x7F) << shift
                        if byte < 0x80 { break }
                        shift += 7
                    }
                    guard value <= UInt64(Int.max) else { throw .malformedCounts("a number does not fit in Int") }
                    return Int(value)
                }
                while index < bytes.count {
                    let length = try number()
                    guard length > 0, length <= WordTable.maximumWordLength, length <= bytes.count - index else {
                        throw .malformedCounts("a word length of \(length) at byte \(index)")
                    }
                    let word = UnsafeRawBufferPointer(rebasing: bytes[index..<index + length])
                    index += length
                    let count = try number()
                    guard count > 0 else { throw .malformedCounts("a count of 0") }
                    try body(word, count)
                }
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }
}

/// A set of 64-bit hashes (open addressing, linear probing), to find a word listed twice without keeping words.
private struct HashSet64: ~Copyable {
    private var slots: UnsafeMutablePointer<UInt64>
    private var mask: Int
    private var count = 0
    private var holdsZero = false

    init(expected: Int) {
        var capacity = 64
        while capacity < expected * 2 { capacity <<= 1 }
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
    }

    deinit { slots.deallocate() }

    /// Adds `value`; false when it was there already.
    mutating func insert(_ value: UInt64) -> Bool {
        if value == 0 {
            defer { holdsZero = true }
            return !holdsZero
        }
        var index = Int(truncatingIfNeeded: value >> 20) & mask
        while slots[index] != 0 {
            if slots[index] == value { return false }
            index = (index + 1) & mask
        }
        slots[index] = value
        count += 1
        if count * 2 > mask { grow() }
        return true
    }

    private mutating func grow() {
        let old = slots
        let oldCapacity = mask + 1
        mask = oldCapacity * 2 - 1
        slots = .allocate(capacity: oldCapacity * 2)
        slots.initialize(repeating: 0, count: oldCapacity * 2)
        for position in 0..<oldCapacity where old[position] != 0 {
            var index = Int(truncatingIfNeeded: old[position] >> 20) & mask
            while slots[index] != 0 { index = (index + 1) & mask }
            slots[index] = old[position]
        }
        old.deallocate()
    }

    /// A 64-bit hash of a word's bytes (eight-byte parts mixed by multiplication; no read past the end).
    static func hash(_ word: UnsafeRawBufferPointer) -> UInt64 {
        var mixed = UInt64(truncatingIfNeeded: word.count) &* 0x9E37_79B9_7F4A_7C15
        var offset = 0
        while offset < word.count {
            var part: UInt64 = 0
            if word.count - offset >= 8 {
                part = word.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            } else {
                for byte in (offset..<word.count).reversed() { part = part << 8 | UInt64(word[byte]) }
            }
            mixed = (mixed ^ part ^ (mixed >> 29)) &* 0xBF58_476D_1CE4_E5B9
            offset += 8
        }
        return mixed ^ (mixed >> 32)
    }
}
