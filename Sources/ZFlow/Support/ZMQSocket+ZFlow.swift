import CZMQShim
import ZFlowZMQ

extension ZMQSocket {
    /// The options every ZFlow socket sets: unbounded queues (the outboxes already bound each message) and,
    /// where given, the largest accepted frame.
    func configureForZFlow(maxMessageSize: Int64? = nil) throws(ZMQError) {
        try setOption(ZMQ_SNDHWM, 0)
        if let maxMessageSize { try setOption64(ZMQ_MAXMSGSIZE, maxMessageSize) }
    }
}
