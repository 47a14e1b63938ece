import CZMQShim
import ZFlowZMQ

extension ZMQSocket {
    /// The options every ZFlow socket sets: unbounded queues (the outboxes already bound each message),
    /// reconnection with exponential backoff from 100 ms to 5 s while a peer is away and, where given, the
    /// largest accepted frame.
    func configureForZFlow(maxMessageSize: Int64? = nil) throws(ZMQError) {
        try setOption(ZMQ_SNDHWM, 0)
        try setOption(ZMQ_RECONNECT_IVL_MAX, 5000)
        if let maxMessageSize { try setOption64(ZMQ_MAXMSGSIZE, maxMessageSize) }
    }
}
