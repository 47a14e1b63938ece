import Foundation
import ZFlowZMQ

/// The thread that owns a process role's sockets: it sets them up, reports whether that worked, runs its
/// loop until `stop()`, and can be waited for.
final class LoopThread<Started: Sendable>: @unchecked Sendable {
    /// Posted to by `stop()`; the loop polls its file descriptor and returns when it fires.
    let control = Mailbox<Void>()
    private let name: String
    private let started = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var startResult: Result<Started, Error>?

    init(name: String) { self.name = name }

    /// Runs `setUp` on a new thread, then `loop` with what it returned.
    ///
    /// - Returns: what `setUp` returned, once it has.
    /// - Throws: what `setUp` threw; the loop then never runs.
    func start<Resources>(
        setUp: @escaping @Sendable () throws -> (Started, Resources), loop: @escaping @Sendable (Resources) -> Void
    ) throws -> Started {
        let thread = Thread { [self] in
            defer { finished.signal() }
            let resources: Resources
            do {
                let (value, made) = try setUp()
                startResult = .success(value)
                resources = made
            } catch {
                startResult = .failure(error)
                started.signal()
                return
            }
            started.signal()
            loop(resources)
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
        started.wait()
        return try startResult!.get()
    }

    /// Asks the loop to stop; returns at once.
    func stop() { control.post(()) }

    /// Blocks until the loop has returned, or until `setUp` failed; call it only after `start`.
    func waitUntilStopped() {
        finished.wait()
        finished.signal()
    }
}
