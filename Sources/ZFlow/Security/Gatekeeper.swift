import Foundation
import Logging
import ZFlowCore
import ZFlowZMQ

/// The ZAP handler of one process's CURVE servers: lets in the keys a security directory lists, re-reading the
/// list whenever a role folder changes, and logs refusals (rate-limited: a stranger can cause them at will).
final class Gatekeeper: @unchecked Sendable {
    private let handler: ZAPHandler

    /// Starts answering for every CURVE server of `context`; start it before binding them.
    ///
    /// - Throws: `SecurityError` when the directory's keys cannot be read now, `ZMQError` when binding fails.
    init(context: ZMQContext, directory: SecurityDirectory, logger: Logger) throws {
        let cache = try AccessListCache(directory: directory, logger: logger)
        handler = try ZAPHandler(context: context) { request in
            let decision = cache.current(logger: logger).decide(request)
            if case .deny(let reason) = decision { cache.logRefusal(request, reason: reason, logger: logger) }
            return decision
        }
    }

    /// Stops answering; call after closing the CURVE servers.
    func stop() { handler.stop() }
}

/// The access list last read, and the refusal log's limit; touched by the ZAP thread only.
private final class AccessListCache: @unchecked Sendable {
    let directory: SecurityDirectory
    var list: AccessList
    var stamps: [Date?]
    var refusals = LogRateLimit()

    init(directory: SecurityDirectory, logger: Logger) throws(SecurityError) {
        self.directory = directory
        stamps = directory.folderStamps()
        let (list, problems) = directory.accessList()
        for problem in problems { logger.error("security: \(problem)") }
        guard !list.principals.isEmpty else {
            throw SecurityError("\(directory.path) lists no usable public key in workers/, clients/ or admins/")
        }
        self.list = list
    }

    /// The list, read again when a role folder changed since the last read; a list that cannot be read keeps
    /// the previous one (and says so).
    func current(logger: Logger) -> AccessList {
        let now = directory.folderStamps()
        guard now != stamps else { return list }
        stamps = now
        let problems: [String]
        (list, problems) = directory.accessList()
        for problem in problems { logger.error("security: \(problem)") }
        logger.info("security: re-read \(directory.path): \(list.principals.count) keys accepted")
        return list
    }

    func logRefusal(_ request: ZAPRequest, reason: String, logger: Logger) {
        let (write, leftOut) = refusals.admit(now: MonotonicClock.now())
        if leftOut > 0 { logger.warning("security: \(leftOut) more connections refused") }
        guard write else { return }
        logger.warning("security: refused a connection from \(request.address) (\(request.domain)): \(reason)")
    }
}
