import CZMQShim
import ZFlowZMQ

extension ZMQSocket {
    /// The options every ZFlow socket sets: queues of `highWaterMark` messages each way (0: unbounded; the
    /// outboxes bound each message's size), reconnection with exponential backoff from 100 ms to 5 s while a
    /// peer is away and, where given, the largest accepted frame.
    func configureForZFlow(maxMessageSize: Int64? = nil, highWaterMark: Int32 = 0) throws(ZMQError) {
        try setOption(ZMQ_SNDHWM, highWaterMark)
        try setOption(ZMQ_RCVHWM, highWaterMark)
        try setOption(ZMQ_RECONNECT_IVL_MAX, 5000)
        if let maxMessageSize { try setOption64(ZMQ_MAXMSGSIZE, maxMessageSize) }
    }
}
