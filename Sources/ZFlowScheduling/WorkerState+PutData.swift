import ZFlowCore

extension WorkerState {
    /// Why a peer's `put-data` (a client's `scatter`) must be refused whole, or nil to store every item.
    ///
    /// Only clients and admins may store data (`principal` is nil without security, when anyone may); a stored
    /// or expected key is never overwritten, so no peer can replace a result others fetch; and the items together
    /// must fit in the memory limit, since they count against it like results do.
    public func refusalOfPut(_ items: [KeySize], from principal: Principal?, memoryLimit: UInt64?) -> ProtocolViolation? {
        if let principal, !principal.isClient {
            return ProtocolViolation(.forbidden, "put-data needs a client key; \(principal) is a worker")
        }
        if let taken = items.first(where: { tasks[$0.key] != nil }) {
            return ProtocolViolation(.forbidden, "put-data: key '\(taken.key)' is already held or expected here and is never overwritten")
        }
        var total: UInt64 = 0
        for item in items { total = total.addingReportingOverflow(item.nbytes).overflow ? .max : total + item.nbytes }
        if let memoryLimit, total > memoryLimit {
            return ProtocolViolation(.outOfRange, "put-data of \(total) bytes is more than this worker's memory limit of \(memoryLimit)")
        }
        return nil
    }
}
