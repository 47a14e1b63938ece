import CZMQShim
import Foundation

/// A thread-safe queue that wakes a poll loop through an eventfd.
///
/// Any thread may `post`; only the loop thread `drain`s. The eventfd is signalled at most once between two
/// drains, so a burst of posts costs one wake-up. Items that can wait (`postLazily`) do not wake a loop that has
/// said it will look again soon by itself (`setLooksSoon`).
public final class Mailbox<Item>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Item] = []
    /// The eventfd was signalled since the last drain.
    private var signalled = false
    /// The loop will drain within a short bound whether signalled or not.
    private var looksSoon = false
    /// The eventfd the loop polls (`ZMQPoller.add(fileDescriptor:)`).
    public let fileDescriptor: Int32

    /// Creates a mailbox with its own eventfd.
    public init() {
        fileDescriptor = czmq_eventfd()
        precondition(fileDescriptor >= 0, "eventfd failed: errno \(czmq_errno())")
    }

    deinit { Foundation.close(fileDescriptor) }

    /// Enqueues one item, waking the loop unless it was woken since its last drain.
    public func post(_ item: Item) {
        underLock {
            items.append(item)
            return true
        }
    }

    /// Enqueues an item that can wait for the loop's next look: it wakes the loop only when nothing else has
    /// and the loop has not said it looks again soon. Order with `post`ed items is kept.
    public func postLazily(_ item: Item) {
        underLock {
            items.append(item)
            return !looksSoon
        }
    }

    /// Enqueues several items with at most one wake-up.
    public func post(contentsOf batch: [Item]) {
        guard !batch.isEmpty else { return }
        underLock {
            items.append(contentsOf: batch)
            return true
        }
    }

    /// The loop says whether it will drain soon without being woken (it holds a timer). Turning it off while
    /// lazy items wait wakes the loop, so they are not left behind.
    public func setLooksSoon(_ soon: Bool) {
        underLock {
            looksSoon = soon
            return !soon && !items.isEmpty
        }
    }

    /// Runs `change` under the lock; when it asks for a wake-up, the eventfd is signalled unless it was since the
    /// last drain.
    private func underLock(_ change: () -> Bool) {
        lock.lock()
        let wake = change() && !signalled
        if wake { signalled = true }
        lock.unlock()
        if wake { _ = czmq_eventfd_signal(fileDescriptor) }
    }

    /// Takes every queued item, in order, and clears the wake-up signal.
    public func drain() -> [Item] {
        _ = czmq_eventfd_drain(fileDescriptor)
        lock.lock()
        defer { lock.unlock() }
        signalled = false
        let taken = items
        items.removeAll(keepingCapacity: true)
        return taken
    }
}
