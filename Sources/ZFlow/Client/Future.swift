import Foundation
import ZFlowCore
import ZFlowWire

/// A handle on the result of a task that runs on the cluster.
///
/// Pass it as an argument to another `submit` to build a graph: the value moves worker to worker, never
/// through the client. When the last handle for a key is released, the cluster frees the result.
public final class Future<T: Codable & Sendable>: TaskArgument, TaskReferenceValue, Hashable, @unchecked Sendable,
    CustomStringConvertible
{
    /// A future stands for its result type.
    public typealias Value = T

    /// The task's key.
    public let key: TaskKey
    /// The key the future refers to inside another task's arguments.
    public var referencedKey: TaskKey { key }
    /// The client that holds it.
    public let client: Client

    init(key: TaskKey, client: Client) {
        self.key = key
        self.client = client
        client.retainHandle(key)
    }

    deinit { client.releaseHandle(key) }

    /// Waits for the task and returns its result.
    ///
    /// - Parameter timeout: how long to wait at most (nil: forever).
    /// - Throws: `TaskError` when the task failed, `ClientError` when it was cancelled, timed out or its
    ///   result could not be fetched.
    public func result(timeout: Duration? = nil) async throws -> T {
        try await client.gather([self], timeout: timeout)[0]
    }

    /// Whether the task has finished, failed or been cancelled, without waiting.
    public var status: FutureStatus { client.status(of: key) }

    /// Cancels the task and everything that depends on it.
    public func cancel() async { await client.cancel([self]) }

    /// Encodes the future as a reference to its result (only inside task arguments).
    public func encode(to encoder: any Encoder) throws {
        guard let references = encoder as? any TaskReferenceEncoder else {
            throw EncodingError.invalidValue(
                self, .init(codingPath: encoder.codingPath, debugDescription: "a Future can only be encoded as a task argument"))
        }
        references.encodeReference(key)
    }

    /// Futures are equal when they name the same key.
    public static func == (lhs: Future, rhs: Future) -> Bool { lhs.key == rhs.key }
    /// Hashes the key.
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
    /// `Future<T>(key)`.
    public var description: String { "Future<\(T.self)>(\(key))" }
}

/// Where a future's task is, as far as the client knows.
public enum FutureStatus: String, Sendable, Hashable {
    /// Not finished yet.
    case pending
    /// Its result is in memory on the cluster.
    case finished
    /// It failed.
    case erred
    /// It was cancelled.
    case cancelled
}
