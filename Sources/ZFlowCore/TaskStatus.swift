/// The state of a task on the scheduler.
public enum TaskStatus: String, Hashable, Sendable, CaseIterable, Codable {
    /// Its result is not held anywhere and nobody wants it now, but a task computed from it still exists:
    /// the definition is kept so the result can be recomputed if that task's result is lost.
    case released
    /// Known, but some dependency is not in memory yet.
    case waiting
    /// Ready to run, with no dependencies and no restrictions, held on the scheduler in priority order until a
    /// worker has room (queuing: workers hold only about `saturation × nthreads` such tasks at once).
    case queued
    /// Ready to run, but no worker is connected, none of the workers its restriction names, or none
    /// with the resources it needs.
    case noWorker = "no-worker"
    /// Assigned to a worker, which is fetching its inputs or running it.
    case processing
    /// Its result is held by at least one worker.
    case memory
    /// It failed, or a dependency failed; the error is kept for whoever asks.
    case erred
}

/// The state of a task on a worker.
public enum WorkerTaskStatus: String, Hashable, Sendable, CaseIterable {
    /// Assigned, but dependencies are still being fetched.
    case waiting
    /// A dependency to be fetched from a peer, not yet requested.
    case fetch
    /// A dependency whose fetch request is in flight.
    case flight
    /// Inputs are present; waiting for a free thread.
    case ready
    /// Running on an executor thread.
    case executing
    /// Its result is held here.
    case memory
    /// It failed here; the error was reported to the scheduler.
    case error
    /// A dependency that no holder had; the scheduler was told and will reassign the dependents.
    case missing
}
