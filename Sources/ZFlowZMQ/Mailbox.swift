import CZMQShim
import Foundation

/// A thread-safe queue that wakes a poll loop through an eventfd.
///
/// Any thread may `post`; only the loop thread `drain`s. The eventfd is signalled only when the queue goes
/// from empty to non-empty, so a burst of posts costs one wake-up.
public final class Mailbox<Item>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Item] = []
    /// The eventfd the loop polls (`ZMQPoller.add(fileDescriptor:)`).
    public let fileDescriptor: Int32

    /// Creates a mailbox with its own eventfd.
    public init() {
        fileDescriptor = czmq_eventfd()
        precondition(fileDescriptor >= 0, "eventfd failed: errno \(czmq_errno())")
    }

    deinit { Foundation.close(fileDescriptor) }

    /// Enqueues one item, waking the loop if the queue was empty.
    public func post(_ item: Item) {
        lock.lock()
        let wasEmpty = items.isEmpty
        items.append(item)
        lock.unlock()
        if wasEmpty { _ = czmq_eventfd_signal(fileDescriptor) }
    }

    /// Enqueues several items with at most one wake-up.
    public func post(contentsOf batch: [Item]) {
        guard !batch.isEmpty else { return }
        lock.lock()
        let wasEmpty = items.isEmpty
        items.append(contentsOf: batch)
        lock.unlock()
        if wasEmpty { _ = czmq_eventfd_signal(fileDescriptor) }
    }

    /// Takes every queued item, in order, and clears the wake-up signal.
    public func drain() -> [Item] {
        _ = czmq_eventfd_drain(fileDescriptor)
        lock.lock()
        defer { lock.unlock() }
        let taken = items
        items.removeAll(keepingCapacity: true)
        return taken
    }
}
