import Foundation
import ZFlowCore

/// The monotonic clock the shells read; the state machines only ever see its `Instant`s.
enum MonotonicClock {
    /// Now, in nanoseconds since boot.
    static func now() -> Instant { Instant(nanoseconds: DispatchTime.now().uptimeNanoseconds) }
}
