import CPrefetch

/// A hash table from words (byte strings) to counts, built for one thread counting fast: one array of 24-byte
/// slots with linear probing, so that finding a word costs one cache line. A word of up to eight bytes (most
/// words) is kept in its slot and compared with one integer comparison; a longer one is kept in an arena of
/// bytes and found by its hash and length first.
///
/// A scanner hands words over in batches: `prefetch` each word's slot first, then `add` them, so that the
/// cache misses of a batch overlap instead of coming one after another.
///
/// A noncopyable struct, so that its owner mutates it in place without runtime exclusivity checks.
struct WordTable: ~Copyable {
    private struct Slot {
        /// A word of up to eight bytes, zero-padded; for a longer word, where its bytes start in the arena.
        var key: UInt64
        var count: Int
        var hash: UInt32
        /// The word's length in bytes; 0 for an empty slot.
        var length: UInt32
    }

    private var slots: UnsafeMutablePointer<Slot>
    private var mask: Int
    /// Words longer than eight bytes, with eight spare bytes at the end (whole eight-byte loads read past a
    /// word's end).
    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity: Int
    private var arenaUsed = 0
    /// Distinct words.
    private(set) var distinct = 0
    /// Whether some count went past `Int.max` (the counts are then wrong; `WordCounts` refuses them).
    private(set) var overflowed = false
    /// Mixed into every hash, different for each table, so that a text cannot be made of words that all land
    /// in one run of slots.
    private let seed = UInt64.random(in: 0...UInt64.max)

    /// The longest word, in bytes, that a table takes; the scanner refuses text with a longer one.
    static let maximumWordLength = 1 << 30

    /// An empty table sized for about `expectedDistinct` words.
    init(expectedDistinct: Int = 4096) {
        var capacity = 64
        while capacity * 7 < expectedDistinct * 10 { capacity <<= 1 }
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(key: 0, count: 0, hash: 0, length: 0), count: capacity)
        arenaCapacity = 4096
        arena = .allocate(capacity: arenaCapacity + 8)
        arena.initialize(repeating: 0, count: arenaCapacity + 8)
    }

    deinit {
        slots.deallocate()
        arena.deallocate()
    }

    /// Adds `count` occurrences of the word in `bytes[0..<length]` (`length` from 1 to `maximumWordLength`);
    /// `bytes` must be readable for `length + 8` bytes (whole eight-byte loads), as a scratch buffer is.
    @inline(__always)
    mutating func add(_ bytes: UnsafePointer<UInt8>, length: Int, count: Int = 1) {
        let head = Self.head(bytes, length: length)
        add(bytes, length: length, head: head, hash: hash(head: head, bytes: bytes, length: length), count: count)
    }

    /// Starts bringing the slot where a word of this hash would be into the cache.
    @inline(__always)
    func prefetch(hash: UInt32) {
        zflow_prefetch_for_write(slots + (Int(hash) & mask))
    }

    /// `add` with the word's `head` and `hash` already computed.
    @inline(__always)
    mutating func add(_ bytes: UnsafePointer<UInt8>, length: Int, head: UInt64, hash: UInt32, count: Int) {
        var index = Int(hash) & mask
        while true {
            let slot = slots + index
            let slotLength = Int(slot.pointee.length)
            if slotLength == 0 {
                insert(at: index, bytes: bytes, length: length, head: head, hash: hash, count: count)
                return
            }
            if slotLength == length
                && (length <= 8
                    ? slot.pointee.key == head
                    : slot.pointee.hash == hash && Self.equal(arena + Int(slot.pointee.key), bytes, length))
            {
                let (sum, overflow) = slot.pointee.count.addingReportingOverflow(count)
                slot.pointee.count = sum
                if overflow { overflowed = true }
                return
            }
            index = (index + 1) & mask
        }
    }

    /// All words counted (the sum of the counts); nil when it does not fit in `Int`.
    var total: Int? {
        guard !overflowed else { return nil }
        var total = 0
        for index in 0...mask where slots[index].length != 0 {
            let (sum, overflow) = total.addingReportingOverflow(slots[index].count)
            guard !overflow else { return nil }
            total = sum
        }
        return total
    }

    /// Calls `body` with each distinct word and its count.
    func forEach(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) rethrows {
        for index in 0...mask where slots[index].length != 0 {
            var slot = slots[index]
            let length = Int(slot.length)
            if length <= 8 {
                try withUnsafeBytes(of: &slot.key) { key in
                    try body(UnsafeBufferPointer(start: key.baseAddress!.assumingMemoryBound(to: UInt8.self), count: length), slot.count)
                }
            } else {
                try body(UnsafeBufferPointer(start: arena + Int(slot.key), count: length), slot.count)
            }
        }
    }

    /// The bytes of all distinct words together (an upper bound).
    var wordBytes: Int { arenaUsed + distinct * 8 }

    private mutating func insert(at index: Int, bytes: UnsafePointer<UInt8>, length: Int, head: UInt64, hash: UInt32, count: Int) {
        var key = head
        if length > 8 {
            if arenaUsed + length > arenaCapacity { growArena(toHold: arenaUsed + length) }
            (arena + arenaUsed).update(from: bytes, count: length)
            key = UInt64(arenaUsed)
            arenaUsed += length
        }
        slots[index] = Slot(key: key, count: count, hash: hash, length: UInt32(length))
        distinct += 1
        if distinct * 10 > (mask + 1) * 7 { growSlots() }
    }

    private mutating func growArena(toHold needed: Int) {
        var capacity = arenaCapacity
        while capacity < needed { capacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + 8)
        grown.initialize(repeating: 0, count: capacity + 8)
        grown.update(from: arena, count: arenaUsed)
        arena.deallocate()
        arena = grown
        arenaCapacity = capacity
    }

    private mutating func growSlots() {
        let oldSlots = slots
        let oldCapacity = mask + 1
        let capacity = oldCapacity * 2
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(key: 0, count: 0, hash: 0, length: 0), count: capacity)
        mask = capacity - 1
        for old in 0..<oldCapacity where oldSlots[old].length != 0 {
            var index = Int(oldSlots[old].hash) & mask
            while slots[index].length != 0 { index = (index + 1) & mask }
            slots[index] = oldSlots[old]
        }
        oldSlots.deallocate()
    }

    /// The first eight bytes of a word, zero-padded (little-endian load, so equal words give equal heads).
    @inline(__always)
    static func head(_ bytes: UnsafePointer<UInt8>, length: Int) -> UInt64 {
        let loaded = UnsafeRawPointer(bytes).loadUnaligned(as: UInt64.self)
        return length >= 8 ? loaded : loaded & ((1 &<< UInt64(length &* 8)) &- 1)
    }

    /// A 32-bit hash of a word: its eight-byte parts and this table's seed mixed by multiplication.
    @inline(__always)
    func hash(head: UInt64, bytes: UnsafePointer<UInt8>, length: Int) -> UInt32 {
        var mixed = (head ^ seed ^ UInt64(truncatingIfNeeded: length)) &* 0x9E37_79B9_7F4A_7C15
        var offset = 8
        while offset < length {
            mixed = (mixed ^ (mixed >> 29) ^ Self.part(bytes, at: offset, length: length)) &* 0xBF58_476D_1CE4_E5B9
            offset += 8
        }
        return UInt32(truncatingIfNeeded: (mixed ^ (mixed >> 32)) >> 16 ^ mixed)
    }

    /// The eight bytes of a word from `offset`, zero-padded past its end.
    @inline(__always)
    private static func part(_ bytes: UnsafePointer<UInt8>, at offset: Int, length: Int) -> UInt64 {
        let loaded = UnsafeRawPointer(bytes + offset).loadUnaligned(as: UInt64.self)
        let remaining = length - offset
        return remaining >= 8 ? loaded : loaded & ((1 &<< UInt64(remaining &* 8)) &- 1)
    }

    /// Whether two words of `length` bytes are equal; both readable for eight bytes past their end.
    @inline(__always)
    private static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        var offset = 0
        while offset < length {
            if part(a, at: offset, length: length) != part(b, at: offset, length: length) { return false }
            offset += 8
        }
        return true
    }
}
