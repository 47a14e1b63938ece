/// Words on their way into a `WordTable`, a batch at a time: each finished word is hashed and its table slot
/// prefetched at once, and the batch is added when it holds `words` words, so that the cache misses of a batch
/// overlap instead of coming one after another.
///
/// The words lie back to back in one buffer with 16 spare bytes after its capacity (the table reads whole
/// eight-byte words); a word is written at `next` and then finished. Noncopyable, like the table.
struct WordBatch: ~Copyable {
    private struct PendingWord {
        var start: Int
        var length: Int
        var head: UInt64
        var hash: UInt32
        var count: Int
    }

    private var bytes: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes of the finished words.
    private var used = 0
    private let pending: UnsafeMutablePointer<PendingWord>
    private var pendingCount = 0
    /// Words a batch holds: enough for their cache misses to overlap, few enough that their slots stay cached.
    static let words = 64

    /// An empty batch with a 16 KiB buffer.
    init() {
        capacity = 16 << 10
        bytes = .allocate(capacity: capacity + 16)
        bytes.initialize(repeating: 0, count: capacity + 16)
        pending = .allocate(capacity: Self.words)
    }

    deinit {
        bytes.deallocate()
        pending.deallocate()
    }

    /// Where the next word is written.
    var next: UnsafeMutablePointer<UInt8> { bytes + used }

    /// The bytes the next word may take without `makeRoom`.
    var room: Int { capacity - used }

    /// Finishes the word of `length` bytes (at least 1) written at `next`, seen `count` times.
    @inline(__always)
    mutating func finish(length: Int, count: Int = 1, into table: inout WordTable) {
        let word = bytes + used
        let head = WordTable.head(word, length: length)
        let hash = table.hash(head: head, bytes: word, length: length)
        table.prefetch(hash: hash)
        pending[pendingCount] = PendingWord(start: used, length: length, head: head, hash: hash, count: count)
        pendingCount &+= 1
        used &+= length
        if pendingCount == Self.words || capacity - used < 256 { flush(into: &table) }
    }

    /// Copies `word` (1 to `WordTable.maximumWordLength` bytes) in and finishes it.
    mutating func append(_ word: UnsafeRawBufferPointer, count: Int, into table: inout WordTable) throws(WordCountError) {
        if word.count > room { try makeRoom(wordLength: 0, needed: word.count, into: &table) }
        UnsafeMutableRawPointer(bytes + used).copyMemory(from: word.baseAddress!, byteCount: word.count)
        finish(length: word.count, count: count, into: &table)
    }

    /// Adds the finished words to the table and empties the batch.
    mutating func flush(into table: inout WordTable) {
        for number in 0..<pendingCount {
            let word = pending[number]
            table.add(bytes + word.start, length: word.length, head: word.head, hash: word.hash, count: word.count)
        }
        pendingCount = 0
        used = 0
    }

    /// Makes room for the word being written at `next` (`wordLength` bytes so far) to reach `needed` bytes: adds
    /// the finished words and moves it to the buffer's start, and grows the buffer if that is not enough.
    ///
    /// - Throws: `WordCountError.wordTooLong` when `needed` passes `WordTable.maximumWordLength`.
    mutating func makeRoom(wordLength: Int, needed: Int, into table: inout WordTable) throws(WordCountError) {
        guard needed <= WordTable.maximumWordLength else { throw .wordTooLong }
        if used > 0 {
            let start = used
            flush(into: &table)
            UnsafeMutableRawPointer(bytes).copyMemory(from: bytes + start, byteCount: wordLength)
        }
        guard needed > capacity else { return }
        let grownCapacity = min(max(needed, capacity * 2), WordTable.maximumWordLength)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: grownCapacity + 16)
        grown.initialize(repeating: 0, count: grownCapacity + 16)
        grown.update(from: bytes, count: wordLength)
        bytes.deallocate()
        bytes = grown
        capacity = grownCapacity
    }
}
