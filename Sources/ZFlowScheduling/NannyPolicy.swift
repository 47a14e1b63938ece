import ZFlowCore

/// How a supervised worker process ended.
public enum WorkerExit: Equatable, Sendable {
    /// It exited with this status (0: it was stopped cleanly; 3: the scheduler refused it, perhaps for a while,
    /// as when its old self still holds its name; 64: bad flags; 77: the scheduler refused its key).
    case exited(Int32)
    /// A signal killed it (SIGKILL from the kernel's OOM killer or an operator, SIGSEGV, …).
    case signalled(Int32)
    /// The nanny stopped it because its memory passed the terminate threshold.
    case overMemory
}

/// What the nanny does after its worker ended.
public enum NannyDecision: Equatable, Sendable {
    /// Start the worker again after this delay.
    case restart(after: Interval)
    /// Stop supervising and exit with this status.
    case giveUp(status: Int32, reason: String)
}

/// The nanny's restart rules, without processes or clocks: a worker that dies is restarted after a delay that
/// doubles from `initialDelay` up to `maximumDelay` (and starts over once a worker ran `stableUptime`), at most
/// `maximumRestarts` times in a row; a clean exit or bad flags end supervision.
public struct NannyPolicy: Sendable {
    /// Restarts allowed without a stable run in between.
    public var maximumRestarts: Int
    /// The first restart's delay.
    public var initialDelay: Interval = .milliseconds(500)
    /// The longest delay.
    public var maximumDelay: Interval = .seconds(10)
    /// A worker that ran this long resets the count and the delay.
    public var stableUptime: Interval = .seconds(60)
    /// Restarts since the last stable run.
    public private(set) var restarts = 0
    private var delay: Interval?

    /// A policy allowing `maximumRestarts` restarts in a row.
    public init(maximumRestarts: Int) { self.maximumRestarts = maximumRestarts }

    /// Decides what follows a worker's end after it ran for `uptime`.
    public mutating func decide(_ exit: WorkerExit, uptime: Interval) -> NannyDecision {
        switch exit {
        case .exited(0):
            return .giveUp(status: 0, reason: "the worker stopped cleanly")
        case .exited(64):
            return .giveUp(status: 64, reason: "the worker's flags are wrong")
        case .exited(77):
            return .giveUp(status: 77, reason: "the scheduler refused the worker's key: restarting would not help")
        default:
            break
        }
        if uptime >= stableUptime {
            restarts = 0
            delay = nil
        }
        guard restarts < maximumRestarts else {
            return .giveUp(status: 1, reason: "the worker died \(restarts + 1) times in a row; giving up")
        }
        restarts += 1
        let next = delay.map { min($0 * 2, maximumDelay) } ?? initialDelay
        delay = next
        return .restart(after: next)
    }
}
