/// A point on a monotonic clock, in nanoseconds since an arbitrary origin.
///
/// The state machines never read a clock: the shells read one and pass `Instant`s in events.
public struct Instant: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: UInt64
    /// Wraps a nanosecond count.
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
    /// The clock's origin.
    public static let zero = Instant(nanoseconds: 0)
    /// The instant as seconds, for logs.
    public var description: String { "\(Double(nanoseconds) / 1e9)s" }
    /// Orders instants in time.
    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
    /// The instant `interval` later.
    public static func + (lhs: Instant, rhs: Interval) -> Instant {
        Instant(nanoseconds: lhs.nanoseconds &+ rhs.nanoseconds)
    }
    /// The time from `rhs` to `lhs`, or zero when `rhs` is later.
    public static func - (lhs: Instant, rhs: Instant) -> Interval {
        Interval(nanoseconds: lhs.nanoseconds >= rhs.nanoseconds ? lhs.nanoseconds - rhs.nanoseconds : 0)
    }
}

/// A length of time in nanoseconds.
public struct Interval: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The length in nanoseconds.
    public var nanoseconds: UInt64
    /// Wraps a nanosecond count.
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
    /// A length in milliseconds.
    public static func milliseconds(_ value: UInt64) -> Interval {
        Interval(nanoseconds: value.multipliedReportingOverflow(by: 1_000_000).overflow ? .max : value * 1_000_000)
    }
    /// A length in seconds.
    public static func seconds(_ value: Double) -> Interval {
        let nanoseconds = value * 1e9
        guard nanoseconds.isFinite, nanoseconds > 0 else { return Interval(nanoseconds: nanoseconds > 0 ? .max : 0) }
        return Interval(nanoseconds: nanoseconds >= 1.8e19 ? .max : UInt64(nanoseconds))
    }
    /// The length in milliseconds, rounded down.
    public var milliseconds: UInt64 { nanoseconds / 1_000_000 }
    /// The length in seconds.
    public var seconds: Double { Double(nanoseconds) / 1e9 }
    /// The length as seconds, for logs.
    public var description: String { "\(seconds)s" }
    /// Orders lengths.
    public static func < (lhs: Interval, rhs: Interval) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
    /// The sum of two lengths (saturating).
    public static func + (lhs: Interval, rhs: Interval) -> Interval {
        let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(rhs.nanoseconds)
        return Interval(nanoseconds: overflow ? .max : sum)
    }
    /// `count` times the length.
    public static func * (lhs: Interval, rhs: UInt64) -> Interval {
        let (product, overflow) = lhs.nanoseconds.multipliedReportingOverflow(by: rhs)
        return Interval(nanoseconds: overflow ? .max : product)
    }
}
