import Foundation

/// Signal handling for ZFlow's executables.
public enum ProcessSignals {
    /// Unblocks every signal: a child spawned from a Swift-concurrency thread inherits a mask with SIGTERM
    /// blocked. Executables call this first thing in `main`.
    public static func unblockAll() {
        var all = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_UNBLOCK, &all, nil)
    }

    /// Calls `handler` once on the first SIGINT or SIGTERM (instead of dying), on a background thread.
    public static func onTermination(_ handler: @escaping @Sendable (Int32) -> Void) {
        let fired = OnceFlag()
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if fired.claim() { handler(number) }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Calls `handler` when standard input reaches end of file: a parent that gave the process a pipe has died.
    public static func onStandardInputClosed(_ handler: @escaping @Sendable () -> Void) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 256)
            while true {
                let count = read(0, &buffer, buffer.count)
                if count > 0 || (count < 0 && errno == EINTR) { continue }
                break
            }
            handler()
        }
        thread.name = "zflow-stdin-watch"
        thread.start()
    }

    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
}

/// A flag that can be claimed once, from any thread.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false
    /// True for the first caller only.
    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if claimed { return false }
        claimed = true
        return true
    }
}
