/// Where a task stands in line, on the scheduler and on the worker: user priority first (larger runs earlier),
/// then the submitting client's submission count (earlier first, per client, so clients that submit at the
/// same time take turns), then the task's place in its submitted graph (depth-first, so a reduction finishes
/// one branch before starting the next).
///
/// `a < b` means `a` runs before `b`.
public struct TaskPriority: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// `priority:` as the user gave it; larger runs earlier.
    public var user: Int
    /// How many `submit` operations the submitting client sent before this task's.
    public var generation: UInt64
    /// The task's position in a depth-first walk of the graph it was submitted with.
    public var graphOrder: UInt64

    /// Describes a place in line.
    public init(user: Int = 0, generation: UInt64 = 0, graphOrder: UInt64 = 0) {
        self.user = user
        self.generation = generation
        self.graphOrder = graphOrder
    }

    /// True when `lhs` runs before `rhs`.
    public static func < (lhs: TaskPriority, rhs: TaskPriority) -> Bool {
        if lhs.user != rhs.user { return lhs.user > rhs.user }
        if lhs.generation != rhs.generation { return lhs.generation < rhs.generation }
        return lhs.graphOrder < rhs.graphOrder
    }

    /// `(user, generation, graphOrder)`.
    public var description: String { "(\(user), \(generation), \(graphOrder))" }
}
