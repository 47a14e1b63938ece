import CCrashReport
import Foundation
import ZFlowCore

/// The worker's side of crash reports: executor threads that trap tell the loop which run crashed, before the
/// process dies.
///
/// A fatal-signal handler (in C, `CCrashReport`: only async-signal-safe calls) writes a fixed record into
/// `reports`; the loop polls its read end, sends `task-crashed` to the scheduler, and then `acknowledge()`s, which
/// lets the trapping thread go on dying (it waits one second at most).
final class CrashReporter: @unchecked Sendable {
    /// What the handler reported: the run that crashed and the signal.
    struct Report: Equatable {
        let run: RunID
        let signal: Int32
    }

    /// The read end the loop polls.
    let fileDescriptor: Int32
    private let reportWrite: Int32
    private let ackRead: Int32
    private let ackWrite: Int32

    /// Opens the pipes and installs the handler (once per process).
    ///
    /// - Throws: `CocoaError` when no pipe can be made.
    init() throws {
        var reports: [Int32] = [0, 0]
        var acks: [Int32] = [0, 0]
        guard pipe(&reports) == 0, pipe(&acks) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "pipe: errno \(errno)"])
        }
        for descriptor in reports + acks { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(reports[0], F_SETFL, O_NONBLOCK)
        fileDescriptor = reports[0]
        reportWrite = reports[1]
        ackRead = acks[0]
        ackWrite = acks[1]
        zflow_crash_install()
    }

    deinit {
        for descriptor in [fileDescriptor, reportWrite, ackRead, ackWrite] { close(descriptor) }
    }

    /// Registers the calling executor thread; returns its slot (-1: not reported).
    func registerThread() -> Int32 { zflow_crash_register_thread(reportWrite, ackRead) }

    /// Frees the calling thread's slot.
    func unregisterThread(_ slot: Int32) { zflow_crash_unregister_thread(slot) }

    /// Records what the thread in `slot` runs (nil: nothing).
    @inline(__always)
    func setRun(_ slot: Int32, _ run: RunID?) { zflow_crash_set_run(slot, run?.rawValue ?? 0) }

    /// The reports waiting in the pipe.
    func takeReports() -> [Report] {
        var reports: [Report] = []
        var record = zflow_crash_record()
        while read(fileDescriptor, &record, MemoryLayout<zflow_crash_record>.size) == MemoryLayout<zflow_crash_record>.size {
            reports.append(Report(run: RunID(record.run), signal: record.signal))
        }
        return reports
    }

    /// Lets every waiting trapping thread go on dying.
    func acknowledge() {
        var byte: UInt8 = 1
        _ = write(ackWrite, &byte, 1)
    }
}
