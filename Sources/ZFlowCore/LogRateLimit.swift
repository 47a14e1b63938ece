/// Decides which of a stream of similar log lines are written: at most `burst` per `window`, and when a window
/// with suppressed lines ends, one line saying how many were left out.
///
/// Pure: the caller passes the time. Used for refused connections, which a stranger can cause at will.
public struct LogRateLimit: Sendable, Equatable {
    /// Lines written per window at most.
    public let burst: Int
    /// The window's length.
    public let window: Interval
    private var windowStart: Instant?
    private var written = 0
    private var suppressed = 0

    /// A limit of `burst` lines per `window`.
    public init(burst: Int = 5, window: Interval = .seconds(10)) {
        self.burst = burst
        self.window = window
    }

    /// Whether the line for an event at `now` is written, and how many lines of the window before were left out
    /// (to be reported first; 0 when none).
    public mutating func admit(now: Instant) -> (write: Bool, leftOut: Int) {
        var leftOut = 0
        if windowStart.map({ now - $0 >= window }) ?? true {
            leftOut = suppressed
            windowStart = now
            written = 0
            suppressed = 0
        }
        guard written < burst else {
            suppressed += 1
            return (false, leftOut)
        }
        written += 1
        return (true, leftOut)
    }
}
