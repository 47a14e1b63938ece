import CZMQShim

/// Waits until any of a set of sockets or file descriptors is readable.
public struct ZMQPoller {
    private var items: [zmq_pollitem_t] = []

    /// Creates an empty poller.
    public init() {}

    /// Watches a socket for input; returns its index.
    @discardableResult
    public mutating func add(_ socket: ZMQSocket) -> Int {
        items.append(zmq_pollitem_t(socket: socket.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0))
        return items.count - 1
    }

    /// Watches a file descriptor (an eventfd, a pipe) for input; returns its index.
    @discardableResult
    public mutating func add(fileDescriptor: Int32) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: Int16(ZMQ_POLLIN), revents: 0))
        return items.count - 1
    }

    /// Removes every watched item.
    public mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for input.
    ///
    /// - Returns: the indexes that are readable, or whose descriptor reported an error (a closed pipe
    ///   shows as `ZMQ_POLLERR`, not `ZMQ_POLLIN`).
    public mutating func poll(timeoutMilliseconds: Int) throws(ZMQError) -> [Int] {
        let count = items.count
        let ready = try items.withUnsafeMutableBufferPointer { (buffer) throws(ZMQError) -> Int32 in
            try zmqCall("zmq_poll") { zmq_poll(buffer.baseAddress, Int32(count), timeoutMilliseconds) }
        }
        guard ready > 0 else { return [] }
        var readable: [Int] = []
        for index in items.indices where items[index].revents & Int16(ZMQ_POLLIN | ZMQ_POLLERR) != 0 {
            readable.append(index)
        }
        return readable
    }
}
