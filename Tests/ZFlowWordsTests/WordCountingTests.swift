import Foundation
import Testing
@testable import ZFlowWords

/// ZFlow's word counting against its definition, the reference `words()` of `shared/bench/dask_wordcount.py`
/// (Python 3.11, Unicode 14.0): hand-checked texts, the Unicode tables against Swift's own scalar properties,
/// streamed counting against whole-text counting, and the encoded form of counts.
@Suite("Word counting")
struct WordCountingTests {
    // MARK: - The corpus

    /// Each corpus text gives exactly the words, counts, total and distinct count that the reference gives.
    @Test(arguments: unicodeCorpus)
    func eachCorpusTextGivesExactlyTheReferenceWords(_ sample: CorpusCase) throws {
        let counts = try WordCounts(counting: sample.bytes)
        #expect(byteEntries(counts.entries) == byteEntries(sample.expected))
        #expect(counts.totalWords == sample.expected.reduce(0) { $0 + $1.count })
        #expect(counts.distinctWords == sample.expected.count)
        for (word, count) in sample.expected { #expect(counts.count(of: word) == count, "\(ByteEntry(word, count))") }
    }

    /// A long text generated from all the corpus's kinds of fragment gives the reference's total, distinct count
    /// and most frequent words (ties in byte order: "the" before a lone combining acute).
    @Test func aGeneratedMixedTextGivesTheReferenceTotalsAndTopWords() throws {
        let text = mixedText(seed: 42, fragments: 5000)
        let counts = try WordCounts(counting: text)
        // Checked against the reference: 17,720 bytes, 1,303 words, 744 distinct.
        #expect(text.count == 17_720)
        #expect(counts.totalWords == 1303 && counts.distinctWords == 744)
        let top: [(word: String, count: Int)] = [
            ("t", 41), ("don", 36), ("ω", 30), ("café", 26), ("the", 21), ("\u{301}", 21),
        ]
        #expect(counts.top(6).map { ByteEntry($0.word, $0.count) } == top.map { ByteEntry($0.word, $0.count) })
    }

    /// `count(of:)` compares UTF-8 bytes, so canonically equivalent spellings (equal as Swift `String`s) are
    /// different words; `top` orders ties by bytes and takes nothing for a limit of 0 or less.
    @Test func countOfAndTopCompareWordsByTheirBytes() throws {
        let counts = try WordCounts(counting: "café café b b b cafe\u{301}")
        #expect(counts.count(of: "café") == 2 && counts.count(of: "cafe\u{301}") == 1 && counts.count(of: "cafe") == 0)
        let top = counts.top(3).map { ByteEntry($0.word, $0.count) }
        #expect(top == [ByteEntry("b", 3), ByteEntry("café", 2), ByteEntry("cafe\u{301}", 1)])
        #expect(counts.top(0).isEmpty && counts.top(-1).isEmpty && counts.top(10).count == 3)
    }

    // MARK: - The Unicode tables

    /// The tables are Unicode 14.0, Python 3.11's, and their `word` bit is exactly "a letter, mark or number, or
    /// U+0027" by Swift's general categories, for every scalar Unicode 14.0 had (Unicode changed no such category
    /// membership from 14.0 to 17.0, Swift 6.3's version, for a scalar of 14.0); newer scalars are separators.
    @Test func onlyLettersMarksNumbersAndTheApostropheAreWordScalars() {
        #expect(WordTables.unicodeVersion == "14.0.0")
        let tables = WordTables.shared
        var checked = 0
        var wrong: [UInt32] = []
        var newerButClassed: [UInt32] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            guard isFromUnicode14(scalar) else {
                if tables.classOf(value) != 0 { newerButClassed.append(value) }
                continue
            }
            checked += 1
            let isWord = value == 0x27 || isLetterMarkOrNumber(scalar.properties.generalCategory)
            if (tables.classOf(value) & WordTables.word != 0) != isWord { wrong.append(value) }
        }
        // 282,230 assigned scalars (no surrogates) and 66 noncharacters, which have an age but no category.
        #expect(checked == 282_296)
        #expect(wrong.isEmpty, "\(hexList(wrong))")
        #expect(newerButClassed.isEmpty, "\(hexList(newerButClassed))")
    }

    /// The tables lower-case each scalar of Unicode 14.0 (`lowered`, or `expansion` for U+0130 İ) exactly as
    /// Swift's full `lowercaseMapping` does, and leave alone every scalar that Swift leaves alone. (No mapping of
    /// a 14.0 scalar changed up to 17.0, Swift 6.3's version: Changes_When_Lowercased in the `regex` module's
    /// 17.0 data is exactly the set of scalars that Python 3.11 lower-cases.)
    @Test func theTablesLowerCaseEveryScalarAsSwiftsLowercaseMappingDoes() {
        let tables = WordTables.shared
        var lowering = 0
        var wrong: [UInt32] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value), isFromUnicode14(scalar) else { continue }
            let bits = tables.classOf(value)
            let table: [UInt32] =
                bits & WordTables.expands != 0 ? tables.expansion(value).map(\.value)
                : bits & WordTables.lowers != 0 ? [tables.lowered(value)] : [value]
            let swift = scalar.properties.lowercaseMapping.unicodeScalars.map(\.value)
            if swift != [value] { lowering += 1 }
            if table != swift { wrong.append(value) }
        }
        #expect(lowering == 1433)  // 1,432 one-scalar mappings and U+0130 → i + U+0307, as in the generated data
        #expect(wrong.isEmpty, "\(hexList(wrong))")
        #expect(tables.expansion(0x130).map(\.value) == [0x69, 0x307])
    }

    /// The `caseIgnorable` bit is Swift's `isCaseIgnorable`, and the `cased` bit is `isCased` for scalars that are
    /// not case-ignorable (the generator reads both back from Python's final sigma, where ignorable wins), for
    /// every scalar of Unicode 14.0, ASCII included. Unicode 16.0 changed two of them, so a Swift with Unicode
    /// 16.0 or later (6.3 has 17.0) disagrees there, and only there: U+0295 ʕ went from Ll to Lo (no longer
    /// cased) and U+1171E AHOM CONSONANT SIGN MEDIAL RA from Mn to Mc (no longer case-ignorable). The tables keep
    /// 14.0's values, which are the reference's (found with the `regex` module's Unicode 17.0 data and Python
    /// 3.12/3.13's 15.0/15.1, which agree with 14.0 everywhere).
    @Test func theCasedAndCaseIgnorableBitsAreSwiftsPropertiesBarUnicode16sTwoChanges() {
        let tables = WordTables.shared
        var wrong: Set<UInt32> = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value), isFromUnicode14(scalar) else { continue }
            let bits = tables.classOf(value)
            let ignorable = scalar.properties.isCaseIgnorable
            let cased = scalar.properties.isCased && !ignorable
            if (bits & WordTables.caseIgnorable != 0) != ignorable || (bits & WordTables.cased != 0) != cased {
                wrong.insert(value)
            }
        }
        // U+1C89 CYRILLIC CAPITAL LETTER TJE is new in Unicode 16.0.
        let swiftHasUnicode16 = Unicode.Scalar(UInt32(0x1C89))?.properties.age != nil
        let expectedChanges: Set<UInt32> = swiftHasUnicode16 ? [0x0295, 0x1171E] : []
        #expect(wrong == expectedChanges, "\(hexList(wrong.sorted()))")
        #expect(tables.classOf(0x0295) == WordTables.word | WordTables.cased)
        #expect(tables.classOf(0x1171E) == WordTables.word | WordTables.caseIgnorable)
    }

    /// The break bytes, where a streamed part may end, are the ASCII bytes that are neither in a word nor in the
    /// final sigma's context: all but letters, digits and the case-ignorable ' . : ^ `.
    @Test func breakBytesAreTheAsciiBytesOutsideWordsAndTheSigmaContext() {
        let kept = Set("'.0123456789:ABCDEFGHIJKLMNOPQRSTUVWXYZ^`abcdefghijklmnopqrstuvwxyz".utf8)
        let wrong = (UInt8(0)...255).filter { WordCounter.isBreak($0) != ($0 < 0x80 && !kept.contains($0)) }
        #expect(wrong.isEmpty, "\(wrong)")
    }

    // MARK: - Streaming

    /// Streaming each text in pieces of one fixed size (cutting words, scalars and sigma contexts anywhere) gives
    /// the same entries as counting it whole.
    @Test(arguments: [1, 2, 3, 7, 64])
    func streamingInFixedPiecesEqualsWholeTextCounting(pieceSize: Int) throws {
        for (index, text) in streamingTexts.enumerated() {
            let whole = try WordCounts(counting: text)
            let streamed = try streamedCounts(text) { pieceSize }
            #expect(byteEntries(streamed.entries) == byteEntries(whole.entries), "text \(index)")
            #expect(streamed.totalWords == whole.totalWords && streamed.distinctWords == whole.distinctWords)
        }
    }

    /// Streaming each text in pieces of random sizes (some empty, some of hundreds of bytes; seeded, so the same
    /// on every run) gives the same entries as counting it whole.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func streamingAtRandomSplitPointsEqualsWholeTextCounting(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        for (index, text) in streamingTexts.enumerated() {
            let whole = try WordCounts(counting: text)
            let streamed = try streamedCounts(text) { random.next(8) == 0 ? random.next(700) : random.next(12) }
            #expect(byteEntries(streamed.entries) == byteEntries(whole.entries), "text \(index)")
            #expect(streamed.totalWords == whole.totalWords && streamed.distinctWords == whole.distinctWords)
        }
    }

    /// `endText` ends a streamed text: no word and no final sigma decision spans it, and one counter goes on
    /// counting the next text (as the reference counts the texts apart).
    @Test func endTextSeparatesStreamedTexts() throws {
        var counter = WordCounter()
        for text in ["ab", "cd", "ΑΣ", "Α", "ab"] {
            try Array(text.utf8).withUnsafeBytes { try counter.append($0) }
            try counter.endText()
        }
        let counts = try counter.counts()
        let expected: [(word: String, count: Int)] = [("ab", 2), ("cd", 1), ("ας", 1), ("α", 1)]
        #expect(byteEntries(counts.entries) == byteEntries(expected))
    }

    /// A run of 1 MiB without a break byte, streamed in 4 KiB pieces (a three-byte pattern, so pieces end inside
    /// Ω's two bytes), is kept whole and counted as one lower-cased word of 1 MiB.
    @Test func aBreaklessMebibyteStreamedIn4KiBPiecesIsOneWord() throws {
        let repeats = 349_525
        let text = Array(repeatElement(Array("Ωa".utf8), count: repeats).joined()) + Array("B".utf8)
        #expect(text.count == 1 << 20)
        let counts = try streamedCounts(text) { 4096 }
        #expect(counts.totalWords == 1 && counts.distinctWords == 1)
        let word = Array(repeatElement(Array("ωa".utf8), count: repeats).joined()) + Array("b".utf8)
        #expect(counts.entries.map { Array($0.word.utf8) } == [word])
        #expect(counts.entries.first?.count == 1)
    }

    // MARK: - Encoding and merging

    /// Encoded counts decode to the same counts (directly and through `Codable`), and the encoding is the
    /// documented one: length, word bytes, count, in LEB128.
    @Test func encodedCountsRoundTrip() throws {
        let counts = try WordCounts(counting: mixedText(seed: 42, fragments: 5000))
        let decoded = try WordCounts(encoded: counts.encoded)
        #expect(decoded.encoded == counts.encoded)
        #expect(decoded.totalWords == counts.totalWords && decoded.distinctWords == counts.distinctWords)
        #expect(byteEntries(decoded.entries) == byteEntries(counts.entries))
        let viaJSON = try JSONDecoder().decode(WordCounts.self, from: JSONEncoder().encode(counts))
        #expect(byteEntries(viaJSON.entries) == byteEntries(counts.entries))

        let three = try WordCounts(counting: "a A a")
        #expect(three.encoded == Data([0x01, 0x61, 0x03]))
        // 300 = 0b10_0101100: 0xAC (low seven bits, more to come), then 0x02.
        let accented = try WordCounts(counting: String(repeating: "É ", count: 300))
        #expect(accented.encoded == Data([0x02, 0xC3, 0xA9, 0xAC, 0x02]))
        #expect(WordCounts().encoded.isEmpty && WordCounts().totalWords == 0)
    }

    /// Merging sums the counts word by word: merging the counts of several texts equals counting the texts joined
    /// with newlines; merging nothing gives no words, one part gives that part, a part twice doubles each count.
    @Test func mergingSumsCountsLikeCountingTheJoinedTexts() throws {
        let texts = ([1, 2, 3] as [UInt64]).map { mixedText(seed: $0, fragments: 500) }
        let parts = try texts.map { try WordCounts(counting: $0) }
        let merged = try WordCounts.merged(parts)
        let joined = try WordCounts(counting: Array(texts.joined(separator: [0x0A])))
        #expect(byteEntries(merged.entries) == byteEntries(joined.entries))
        // Checked against the reference: 381 words, 255 distinct.
        #expect(merged.totalWords == 381 && merged.distinctWords == 255 && joined.totalWords == 381)

        let none = try WordCounts.merged([])
        let single = try WordCounts.merged([parts[0]])
        #expect(none.totalWords == 0 && none.distinctWords == 0 && single.encoded == parts[0].encoded)
        let doubled = try WordCounts.merged([parts[0], parts[0]])
        #expect(byteEntries(doubled.entries) == byteEntries(parts[0].entries.map { ($0.word, $0.count * 2) }))
    }

    /// Malformed encodings are refused with `malformedCounts`, never trapped on.
    @Test func malformedEncodingsAreRefused() {
        let cases: [(reason: String, bytes: [UInt8])] = [
            ("a length cut off inside its LEB128 bytes", [0x81]),
            ("a count cut off inside its LEB128 bytes", [0x01, 0x61, 0x80]),
            ("a missing count", [0x01, 0x61]),
            ("a word length past the end", [0x05, 0x61, 0x62, 0x01]),
            ("a good entry, then a length past the end", [0x01, 0x61, 0x01, 0x02, 0x62]),
            ("a count of 0", [0x01, 0x61, 0x00]),
            ("an empty word (length 0)", [0x00, 0x01]),
            ("a ten-byte count of 2^64 - 1", [0x01, 0x61, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            ("a ten-byte count of 2^63", [0x01, 0x61, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            ("an eleven-byte number", [0x01, 0x61, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
        ]
        for (reason, bytes) in cases {
            let error = #expect(throws: WordCountError.self, "\(reason)") { try WordCounts(encoded: Data(bytes)) }
            #expect(isMalformed(error), "\(reason): \(String(describing: error))")
        }
    }

    /// Counts that sum past `Int.max`, across parts or within one encoding, throw `countOverflow`; a count of
    /// exactly `Int.max` is fine.
    @Test func countsPastIntMaxThrowCountOverflow() throws {
        let intMax: [UInt8] = Array(repeating: 0xFF, count: 8) + [0x7F]  // 2^63 - 1 in LEB128
        let full = try WordCounts(encoded: Data([0x01, 0x61] + intMax))
        #expect(full.totalWords == Int.max && full.count(of: "a") == Int.max)
        let oneMoreA = try WordCounts(encoded: Data([0x01, 0x61, 0x01]))
        let oneB = try WordCounts(encoded: Data([0x01, 0x62, 0x01]))
        #expect(throws: WordCountError.countOverflow) { try WordCounts.merged([full, oneMoreA]) }
        #expect(throws: WordCountError.countOverflow) { try WordCounts.merged([oneB, full]) }  // only the total
        let twoEntries: [UInt8] = [0x01, 0x61] + intMax + [0x01, 0x62, 0x01]
        #expect(throws: WordCountError.countOverflow) { try WordCounts(encoded: Data(twoEntries)) }
        let withEmpty = try WordCounts.merged([full, WordCounts()])
        #expect(withEmpty.totalWords == Int.max)
    }
}

// MARK: - Cases and helpers

/// A short text (UTF-8 bytes, possibly invalid) and the words it must give, each with its count.
struct CorpusCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let expected: [(word: String, count: Int)]

    init(_ name: String, _ text: String, _ expected: KeyValuePairs<String, Int>) {
        self.init(name, bytes: Array(text.utf8), expected)
    }

    init(_ name: String, bytes: [UInt8], _ expected: KeyValuePairs<String, Int>) {
        self.name = name
        self.bytes = bytes
        self.expected = expected.map { ($0.key, $0.value) }
    }

    var testDescription: String { name }
}

/// Hand-made texts with their exact words, every one checked against the reference (`collections.Counter(
/// dask_wordcount.words(data.decode("utf-8", errors="replace")))`, Python 3.11.7, Unicode 14.0.0). The expected
/// words are keyed by spelling: "é" (U+00E9) and "e\u{301}" are different keys, as in Python.
let unicodeCorpus: [CorpusCase] = [
    CorpusCase("precomposed and combining accents are distinct words", "café Café CAFÉ cafe\u{301} CAFE\u{301}",
               ["café": 3, "cafe\u{301}": 2]),
    CorpusCase("CJK runs end only at punctuation", "中文字符 日本語，한국어。中文字符", ["中文字符": 2, "日本語": 1, "한국어": 1]),
    CorpusCase("Cyrillic upper and lower case", "Москва МОСКВА москва Ёж ёж", ["москва": 3, "ёж": 2]),
    CorpusCase("sigma at the end of a word", "ΟΔΟΣ ΟΔΟΣ", ["οδος": 2]),
    CorpusCase("sigma before a full stop and the end", "ΟΔΟΣ.", ["οδος": 1]),
    CorpusCase("sigma before a full stop and a cased letter", "ΟΔΟΣ.ΑΒ", ["οδοσ": 1, "αβ": 1]),
    CorpusCase("sigma before a colon and a cased letter", "ΟΔΟΣ:ΑΒ", ["οδοσ": 1, "αβ": 1]),
    CorpusCase("sigma before a space and a cased letter", "ΟΔΟΣ ΑΒ", ["οδος": 1, "αβ": 1]),
    CorpusCase("sigma before combining marks", "ΟΔΟΣ\u{301} ΟΔΟΣ\u{301}Α", ["οδος\u{301}": 1, "οδοσ\u{301}α": 1]),
    CorpusCase("sigma alone", "Σ", ["σ": 1]),
    CorpusCase("sigma next to apostrophes", "Α'Σ 'Σ ΑΣ'Α", ["α'ς": 1, "'σ": 1, "ασ'α": 1]),
    CorpusCase("sigma after a Latin letter and after a digit", "AΣ 1Σ", ["aς": 1, "1σ": 1]),
    CorpusCase("sigma after a circled letter, a cased separator", "ⒶΣ", ["ς": 1]),
    CorpusCase("Turkish dotted and dotless i", "İstanbul ISTANBUL ısı IŞIK",
               ["i\u{307}stanbul": 1, "istanbul": 1, "ısı": 1, "işik": 1]),
    CorpusCase("digits of other scripts", "٣٤٥ ١٢ ۱۲ १२३ ١٢", ["٣٤٥": 1, "١٢": 2, "۱۲": 1, "१२३": 1]),
    CorpusCase("superscripts, fractions, Roman numerals and circled digits", "x² ½ ¾ Ⅻ ⅻ ① ⓪",
               ["x²": 1, "½": 1, "¾": 1, "ⅻ": 2, "①": 1, "⓪": 1]),
    // Emoji, skin tones and the zero-width joiner separate; a variation selector and a keycap mark are marks.
    CorpusCase("emoji and joiners are separators", "a👍b 👩\u{200D}💻 c\u{200D}d e\u{FE0F} 1\u{FE0F}\u{20E3} 👍🏻",
               ["a": 1, "b": 1, "c": 1, "d": 1, "e\u{FE0F}": 1, "1\u{FE0F}\u{20E3}": 1]),
    CorpusCase("underscores are separators", "snake_case __init__ _", ["snake": 1, "case": 1, "init": 1]),
    CorpusCase("only the ASCII apostrophe is in words", "don't don\u{2019}t ''",
               ["don't": 1, "don": 1, "t": 1, "''": 1]),
    CorpusCase("a soft hyphen is a separator", "co\u{AD}op", ["co": 1, "op": 1]),
    CorpusCase("a text of separators only", "👍 — Ⓐⓐ _ … \u{2019} \u{200D}\u{AD}", [:]),
    CorpusCase("lone FF bytes", bytes: [0x61, 0x62, 0xFF, 0x63, 0x64, 0xFF], ["ab": 1, "cd": 1]),
    CorpusCase("a sequence cut off before a letter", bytes: [0xC3, 0x61, 0x20, 0x63, 0x61, 0x66, 0xC3, 0xA9],
               ["a": 1, "café": 1]),
    CorpusCase("an encoded surrogate", bytes: [0x78, 0xED, 0xA0, 0x80, 0x79], ["x": 1, "y": 1]),
    CorpusCase("an overlong solidus", bytes: [0x78, 0xC0, 0xAF, 0x79], ["x": 1, "y": 1]),
    CorpusCase("a scalar past U+10FFFF", bytes: [0x78, 0xF4, 0x90, 0x80, 0x80, 0x79], ["x": 1, "y": 1]),
    CorpusCase("sharp s, small and capital", "straße STRASSE ẞ ß", ["straße": 1, "strasse": 1, "ß": 2]),
    CorpusCase("a ligature is a lower-case letter", "ﬃ oﬃce", ["ﬃ": 1, "oﬃce": 1]),
    CorpusCase("the ohm sign lowers to omega", "Ω\u{2126} ω", ["ωω": 1, "ω": 1]),
    CorpusCase("a circled letter is a separator", "aⒶb ⓐ", ["a": 1, "b": 1]),
    CorpusCase("mathematical bold letters stay as they are", "𝐀𝐁 𝐚", ["𝐀𝐁": 1, "𝐚": 1]),
]

/// The fragments of generated texts: words of many scripts, every kind of separator, invalid bytes.
let mixedFragments: [[UInt8]] = mixedWords.map { Array($0.utf8) } + invalidFragments

private let mixedWords: [String] = [
    "Hello", "WORLD", "the", " ", " ", "\n", ".", ":", ",", "'", "_", "-", "don't", "don\u{2019}t", "café",
    "cafe\u{301}", "CAFÉ", "ΟΔΟΣ", "Σ", "αβγ", "İ", "ı", "Straße", "ẞ", "ﬃ", "Ω", "\u{2126}", "Ⓐ", "𝐀", "中文",
    "日本語", "Москва", "١٢٣", "१२", "²", "½", "Ⅻ", "👍", "\u{200D}", "\u{AD}", "\u{301}",
]

private let invalidFragments: [[UInt8]] = [
    [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82],
]

/// `fragments` fragments picked by a seeded generator (the reference was run on the same bytes).
func mixedText(seed: UInt64, fragments: Int) -> [UInt8] {
    var random = SeededGenerator(seed: seed)
    var text: [UInt8] = []
    for _ in 0..<fragments { text += mixedFragments[random.next(mixedFragments.count)] }
    return text
}

/// The texts streamed: the corpus texts, all of them joined by newlines, and a generated one.
let streamingTexts: [[UInt8]] = {
    let corpus = unicodeCorpus.map(\.bytes)
    let joined: [UInt8] = Array(corpus.joined(separator: [0x0A]))
    return corpus + [joined, mixedText(seed: 42, fragments: 5000)]
}()

/// A 64-bit linear congruential generator (Knuth's MMIX constants): the same numbers on every run and platform.
struct SeededGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    /// A number in `0..<bound`.
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }
}

/// The counts of `text` appended in pieces of the sizes `nextPieceSize` gives, then ended.
func streamedCounts(_ text: [UInt8], nextPieceSize: () -> Int) throws -> WordCounts {
    var counter = WordCounter()
    try text.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        var start = 0
        while start < raw.count {
            let end = min(raw.count, start + nextPieceSize())
            try counter.append(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
            start = end
        }
    }
    try counter.endText()
    return try counter.counts()
}

/// A word as UTF-8 bytes, with its count; printed with non-ASCII scalars spelled out, since precomposed and
/// combining forms look alike.
struct ByteEntry: Equatable, CustomStringConvertible {
    let bytes: [UInt8]
    let count: Int
    init(_ word: String, _ count: Int) {
        bytes = Array(word.utf8)
        self.count = count
    }

    var description: String {
        let word = String(decoding: bytes, as: UTF8.self).unicodeScalars
            .map { $0.isASCII ? String($0) : "\\u{\(String($0.value, radix: 16, uppercase: true))}" }.joined()
        return "\"\(word)\": \(count)"
    }
}

/// Entries in byte order, compared as Python compares strings (a `[String: Int]` would merge canonically
/// equivalent words).
func byteEntries(_ entries: [(word: String, count: Int)]) -> [ByteEntry] {
    entries.map { ByteEntry($0.word, $0.count) }.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
}

/// Whether Unicode 14.0 had assigned `scalar` (ages never change; noncharacters have one too).
func isFromUnicode14(_ scalar: Unicode.Scalar) -> Bool {
    guard let age = scalar.properties.age else { return false }
    return age.major < 14 || (age.major == 14 && age.minor == 0)
}

func isLetterMarkOrNumber(_ category: Unicode.GeneralCategory) -> Bool {
    switch category {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .nonspacingMark,
        .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber:
        true
    default:
        false
    }
}

func isMalformed(_ error: WordCountError?) -> Bool {
    if case .malformedCounts? = error { true } else { false }
}

func hexList(_ values: [UInt32]) -> String {
    values.prefix(50).map { "U+" + String($0, radix: 16, uppercase: true) }.joined(separator: " ")
}
