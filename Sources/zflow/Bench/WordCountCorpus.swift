import Foundation

/// The deterministic text corpus of `zflow bench wordcount`: words drawn from a Zipf distribution over a
/// vocabulary of made-up words (a share of them accented Latin, Greek, Cyrillic or Han), in sentences with
/// capitals, punctuation, numbers and line breaks; half the bytes in two large files, half in many small ones.
struct WordCountCorpus {
    /// The seed of every random choice.
    var seed: UInt64 = 0x5EED
    /// Distinct words in the vocabulary.
    var vocabulary = 50_000

    /// Writes about `megabytes` (10^6 bytes) of text into `directory` (created); returns the files' paths.
    func write(megabytes: Int, into directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var random = SplitMix64(seed: seed)
        let words = makeVocabulary(&random)
        let sampler = ZipfSampler(count: words.count)
        let total = megabytes * 1_000_000
        let largeFiles = 2
        let smallFileBytes = 100_000
        var sizes = [Int](repeating: total / 4, count: largeFiles)
        sizes += [Int](repeating: smallFileBytes, count: max(0, total / 2 / smallFileBytes))
        var paths: [String] = []
        for (index, size) in sizes.enumerated() {
            let path = "\(directory)/\(index < largeFiles ? "large" : "small")-\(String(format: "%05d", index)).txt"
            var text = [UInt8]()
            text.reserveCapacity(size + 64)
            var sentenceStart = true
            while text.count < size {
                var word = words[sampler.sample(&random)]
                let roll = random.next() % 1000
                if roll < 20 {
                    word = Array(String(random.next() % 1000).utf8)
                } else if sentenceStart || roll < 30 {
                    word = Self.capitalized(word, allCaps: roll < 30 && !sentenceStart)
                }
                text += word
                sentenceStart = false
                let punctuation = random.next() % 100
                if punctuation < 7 {
                    text += Array(". ".utf8)
                    sentenceStart = true
                    if random.next() % 4 == 0 { text.append(0x0A) }
                } else if punctuation < 15 {
                    text += Array(", ".utf8)
                } else if punctuation < 16, random.next() % 4 == 0 {
                    text += Array("'s ".utf8)
                } else {
                    text.append(0x20)
                }
            }
            text.append(0x0A)
            try Data(text).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        return paths
    }

    /// Made-up words of one to four syllables, all distinct, shortest first; one in six is not ASCII.
    private func makeVocabulary(_ random: inout SplitMix64) -> [[UInt8]] {
        let onsets = ["", "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "st", "tr", "ch", "sh", "th"]
        let vowels = ["a", "e", "i", "o", "u", "ea", "ou", "y"]
        let codas = ["", "", "n", "r", "s", "t", "l", "nd", "ng"]
        let accented: [Character: Character] = ["a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "y": "ÿ"]
        let greek = Array("αβγδεζηθικλμνξοπρστυφχψω")
        let cyrillic = Array("абвгдежзийклмнопрстуфхцчшщыэюя")
        var seen = Set<String>()
        var words: [[UInt8]] = []
        while words.count < vocabulary {
            let syllables = 1 + Int(random.next() % 4)
            var word = ""
            for _ in 0..<syllables {
                word += onsets[Int(random.next() % UInt64(onsets.count))] + vowels[Int(random.next() % UInt64(vowels.count))]
                    + codas[Int(random.next() % UInt64(codas.count))]
            }
            switch random.next() % 24 {
            case 0: word = String(word.map { accented[$0] ?? $0 })
            case 1: word = String((0..<word.count).map { _ in greek[Int(random.next() % UInt64(greek.count))] })
            case 2: word = String((0..<word.count).map { _ in cyrillic[Int(random.next() % UInt64(cyrillic.count))] })
            case 3: word = String((0..<(1 + syllables)).map { _ in Character(Unicode.Scalar(0x4E00 + UInt32(random.next() % 2000))!) })
            default: break
            }
            if seen.insert(word).inserted { words.append(Array(word.utf8)) }
        }
        // As in real text, the most frequent words are the shortest (the sort is stable: still deterministic).
        return words.enumerated().sorted { ($0.element.count, $0.offset) < ($1.element.count, $1.offset) }.map(\.element)
    }

    private static func capitalized(_ word: [UInt8], allCaps: Bool) -> [UInt8] {
        let text = String(decoding: word, as: UTF8.self)
        return Array((allCaps ? text.uppercased() : text.prefix(1).uppercased() + text.dropFirst()).utf8)
    }
}

/// A small, fast, seeded generator (SplitMix64), so the corpus is the same on every machine.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// Draws ranks 0..<count with probability proportional to 1 / (rank + 1) (Zipf's law, exponent 1).
struct ZipfSampler {
    private let cumulative: [Double]

    init(count: Int) {
        var total = 0.0
        cumulative = (0..<count).map { rank in
            total += 1 / Double(rank + 1)
            return total
        }
    }

    func sample(_ random: inout SplitMix64) -> Int {
        let target = Double(random.next() >> 11) / Double(1 << 53) * cumulative[cumulative.count - 1]
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
