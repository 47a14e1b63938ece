/// A worker's memory limit as given on the command line: `64MiB`, `2GB`, `8e9` (bytes), `0.5` (that fraction of
/// the machine's memory), or `none`.
public enum MemoryLimit: Equatable, Sendable {
    /// No limit: results are never spilled.
    case none
    /// This many bytes.
    case bytes(UInt64)
    /// This fraction (0 < f ≤ 1) of the machine's memory.
    case fraction(Double)

    /// Parses `--memory-limit`; nil when the text is none of the accepted forms.
    public init?(parsing text: String) {
        let trimmed = text.trimmingWhitespace
        if trimmed.lowercased() == "none" || trimmed == "0" {
            self = .none
            return
        }
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9),
            ("TB", 1e12), ("B", 1),
        ]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            guard let number = Double(String(trimmed.dropLast(suffix.count)).trimmingWhitespace), number > 0,
                (number * scale).isFinite, number * scale < 1.8e19
            else { return nil }
            self = .bytes(UInt64(number * scale))
            return
        }
        guard let number = Double(trimmed), number > 0, number.isFinite, number < 1.8e19 else { return nil }
        self = number <= 1 ? .fraction(number) : .bytes(UInt64(number))
    }

    /// The limit in bytes on a machine with `physicalMemory` bytes; nil for `.none`.
    public func bytes(physicalMemory: UInt64) -> UInt64? {
        switch self {
        case .none: return nil
        case .bytes(let count): return count
        case .fraction(let share): return UInt64(Double(physicalMemory) * share)
        }
    }
}
