import Foundation
import Testing
import ZFlowZMQ

/// Every wait in these tests is bounded by this (a failure shows as a timeout, never as a hang).
private let timeoutMilliseconds = 2000

/// Receives one message, waiting at most `timeout` ms; nil when nothing arrived in time.
private func receive(_ socket: ZMQSocket, timeout: Int = timeoutMilliseconds) throws -> [Data]? {
    var poller = ZMQPoller()
    poller.add(socket)
    guard try poller.poll(timeoutMilliseconds: timeout) == [0] else { return nil }
    return try socket.receive(dontWait: true)
}

/// Receives exactly `count` messages, each within the timeout.
private func receive(_ socket: ZMQSocket, count: Int) throws -> [[Data]] {
    var messages: [[Data]] = []
    for _ in 0..<count {
        guard let message = try receive(socket) else { break }
        messages.append(message)
    }
    return messages
}

private func text(_ string: String) -> Data { Data(string.utf8) }

/// `count` bytes of a pattern that differs at every offset modulo 251, so a shifted or torn copy shows.
private func pattern(_ count: Int) -> Data {
    let block = Data((0..<251).map { UInt8($0) })
    var data = Data(capacity: count + block.count)
    while data.count < count { data.append(block) }
    return data.prefix(count)
}

/// A ROUTER bound to `endpoint` and a DEALER with routing id `identity` connected to it.
private func routerDealer(_ context: ZMQContext, _ endpoint: String, identity: String) throws -> (router: ZMQSocket, dealer: ZMQSocket, endpoint: String) {
    let router = try ZMQSocket(context, .router)
    let bound = try router.bind(endpoint)
    let dealer = try ZMQSocket(context, .dealer)
    try dealer.setIdentity(identity)
    try dealer.connect(bound)
    return (router, dealer, bound)
}

@Suite("ZeroMQ sockets, poller and mailbox")
struct SocketTests {
    @Test("ROUTER/DEALER: multipart both ways, routing id as frame 0", arguments: ["inproc://router-dealer", "tcp://127.0.0.1:*"])
    func routerDealerMultipart(endpoint: String) throws {
        let context = ZMQContext()
        let (router, dealer, bound) = try routerDealer(context, endpoint, identity: "worker:alice")
        if endpoint.hasPrefix("tcp") {
            #expect(bound.hasPrefix("tcp://127.0.0.1:"))
            let port = Int(bound.split(separator: ":").last ?? "")
            #expect(port != nil && port! > 0 && port! < 65_536, "bind returns the chosen port: \(bound)")
        } else {
            #expect(bound == endpoint)
        }

        try dealer.send([Data([0x5A, 0x46, 0x01]), text("header"), Data(), text("last")])
        let received = try #require(try receive(router))
        #expect(received == [text("worker:alice"), Data([0x5A, 0x46, 0x01]), text("header"), Data(), text("last")])

        // Several messages keep their boundaries and order.
        for index in 0..<10 { try dealer.send([text("n"), text("\(index)")]) }
        let burst = try receive(router, count: 10)
        #expect(burst == (0..<10).map { [text("worker:alice"), text("n"), text("\($0)")] })

        // The ROUTER's reply, addressed by routing id, reaches the DEALER without the id.
        try router.send([text("worker:alice"), text("reply"), text("two")])
        #expect(try receive(dealer) == [text("reply"), text("two")])

        // A reply to an unknown routing id is dropped silently (no ROUTER_MANDATORY).
        try router.send([text("worker:nobody"), text("lost")])
        #expect(try dealer.receive(dontWait: true) == nil)
    }

    @Test("two DEALERs are told apart by their routing ids")
    func twoDealers() throws {
        let context = ZMQContext()
        let (router, alice, bound) = try routerDealer(context, "inproc://two-dealers", identity: "client:a")
        let bob = try ZMQSocket(context, .dealer)
        try bob.setIdentity("client:b")
        try bob.connect(bound)
        try alice.send([text("from a")])
        try bob.send([text("from b")])
        let messages = try receive(router, count: 2)
        #expect(Set(messages) == [[text("client:a"), text("from a")], [text("client:b"), text("from b")]])
        try router.send([text("client:b"), text("to b")])
        try router.send([text("client:a"), text("to a")])
        #expect(try receive(bob) == [text("to b")])
        #expect(try receive(alice) == [text("to a")])
    }

    @Test("a 1 MiB frame (zero-copy path) round-trips byte-exact, between other frames", arguments: ["inproc://big-frames", "tcp://127.0.0.1:*"])
    func largeFrames(endpoint: String) throws {
        #expect(1 << 20 >= ZMQSocket.zeroCopyThreshold)
        let context = ZMQContext()
        let (router, dealer, _) = try routerDealer(context, endpoint, identity: "w")
        let big = pattern(1 << 20)
        let threshold = pattern(ZMQSocket.zeroCopyThreshold)  // exactly at the threshold
        let below = pattern(ZMQSocket.zeroCopyThreshold - 1)

        try dealer.send([text("head"), big, text("tail")])
        try dealer.send([big])
        try dealer.send([threshold, below, threshold])
        let received = try receive(router, count: 3)
        try #require(received.count == 3)
        #expect(received[0].count == 4, "the frames after a large one belong to the same message")
        #expect(received[0] == [text("w"), text("head"), big, text("tail")])
        #expect(received[1] == [text("w"), big])
        #expect(received[2] == [text("w"), threshold, below, threshold])

        // The other way, and a received large frame forwarded as-is.
        try #require(received[1].count == 2)
        try router.send([text("w"), received[1][1], big, text("end")])
        let reply = try #require(try receive(dealer))
        #expect(reply == [big, big, text("end")])
        // The received Data stays valid after more receives reuse the socket's message.
        try router.send([text("w"), text("small")])
        #expect(try receive(dealer) == [text("small")])
        #expect(reply[0] == big)
    }

    @Test("a large Data slice is sent from its own bytes, not its base's start")
    func largeSlice() throws {
        let context = ZMQContext()
        let (router, dealer, _) = try routerDealer(context, "inproc://slice", identity: "w")
        let base = pattern(300_000)
        let slice = base[1000..<200_000]
        try dealer.send([slice])
        let received = try #require(try receive(router))
        #expect(received.count == 2)
        #expect(received.last.map(Array.init) == Array(slice))
    }

    @Test("receive(dontWait:) returns nil on an empty socket")
    func receiveEmpty() throws {
        let context = ZMQContext()
        let (router, dealer, _) = try routerDealer(context, "inproc://empty", identity: "w")
        #expect(try router.receive(dontWait: true) == nil)
        #expect(try dealer.receive(dontWait: true) == nil)
        let unconnected = try ZMQSocket(context, .dealer)
        #expect(try unconnected.receive(dontWait: true) == nil)
        // And a poll with a timeout reports nothing.
        var poller = ZMQPoller()
        poller.add(router)
        #expect(try poller.poll(timeoutMilliseconds: 10) == [])
    }

    @Test("binding a tcp port already bound throws EADDRINUSE")
    func addressInUse() throws {
        let context = ZMQContext()
        let first = try ZMQSocket(context, .router)
        let bound = try first.bind("tcp://127.0.0.1:*")
        let second = try ZMQSocket(context, .router)
        let error = #expect(throws: ZMQError.self) { _ = try second.bind(bound) }
        #expect(error?.errno == EADDRINUSE)
        #expect(error?.description.contains("zmq_bind") == true)
        // The same inproc name twice in one context fails too.
        _ = try first.bind("inproc://taken")
        #expect(throws: ZMQError.self) { _ = try second.bind("inproc://taken") }
    }

    @Test("malformed endpoints throw", arguments: ["not an endpoint", "tcp://", "tcp://127.0.0.1", "bogus://x", "tcp://127.0.0.1:notaport", ""])
    func malformedEndpoints(endpoint: String) throws {
        let context = ZMQContext()
        let socket = try ZMQSocket(context, .dealer)
        #expect(throws: ZMQError.self) { try socket.connect(endpoint) }
        #expect(throws: ZMQError.self) { _ = try socket.bind(endpoint) }
    }

    @Test("the poller reports a readable socket and an eventfd, by index")
    func poller() throws {
        let context = ZMQContext()
        let (router, dealer, _) = try routerDealer(context, "inproc://poller", identity: "w")
        let mailbox = Mailbox<Int>()
        var poller = ZMQPoller()
        let socketIndex = poller.add(router)
        let fdIndex = poller.add(fileDescriptor: mailbox.fileDescriptor)
        #expect((socketIndex, fdIndex) == (0, 1))
        #expect(try poller.poll(timeoutMilliseconds: 0) == [])

        try dealer.send([text("ping")])
        #expect(try poller.poll(timeoutMilliseconds: timeoutMilliseconds) == [socketIndex])
        // Level-triggered: still readable until received.
        #expect(try poller.poll(timeoutMilliseconds: 0) == [socketIndex])

        mailbox.post(1)
        #expect(try poller.poll(timeoutMilliseconds: timeoutMilliseconds) == [socketIndex, fdIndex])
        #expect(try router.receive(dontWait: true) == [text("w"), text("ping")])
        #expect(try poller.poll(timeoutMilliseconds: timeoutMilliseconds) == [fdIndex])
        #expect(mailbox.drain() == [1])
        #expect(try poller.poll(timeoutMilliseconds: 0) == [])

        poller.removeAll()
        #expect(try poller.poll(timeoutMilliseconds: 0) == [])
    }

    @Test("mailbox: the eventfd wakes a poller once per burst and drain clears it")
    func mailboxWakes() throws {
        let mailbox = Mailbox<String>()
        var poller = ZMQPoller()
        poller.add(fileDescriptor: mailbox.fileDescriptor)
        #expect(try poller.poll(timeoutMilliseconds: 0) == [])
        #expect(mailbox.drain() == [])

        mailbox.post("a")
        mailbox.post("b")
        mailbox.post(contentsOf: ["c", "d"])
        mailbox.post(contentsOf: [])
        #expect(try poller.poll(timeoutMilliseconds: timeoutMilliseconds) == [0])
        #expect(mailbox.drain() == ["a", "b", "c", "d"])
        #expect(try poller.poll(timeoutMilliseconds: 0) == [])

        // A post from another thread wakes a poller blocked in poll.
        let poster = Thread {
            Thread.sleep(forTimeInterval: 0.02)
            mailbox.post("late")
        }
        poster.start()
        let start = ContinuousClock.now
        #expect(try poller.poll(timeoutMilliseconds: timeoutMilliseconds) == [0])
        #expect(ContinuousClock.now - start < .milliseconds(timeoutMilliseconds))
        #expect(mailbox.drain() == ["late"])
        mailbox.post(contentsOf: ["x"])
        #expect(try poller.poll(timeoutMilliseconds: timeoutMilliseconds) == [0])
        #expect(mailbox.drain() == ["x"])
    }

    @Test("mailbox: lazy posts wake only a loop that will not look soon; urgent posts and order are kept")
    func mailboxLazyPosts() throws {
        let mailbox = Mailbox<String>()
        var poller = ZMQPoller()
        poller.add(fileDescriptor: mailbox.fileDescriptor)

        // Nothing pending and no promise: a lazy post wakes the loop like any other.
        mailbox.postLazily("a")
        #expect(try poller.poll(timeoutMilliseconds: timeoutMilliseconds) == [0])
        #expect(mailbox.drain() == ["a"])

        // The loop holds a timer: lazy posts wait unsignalled.
        mailbox.setLooksSoon(true)
        mailbox.postLazily("b")
        mailbox.postLazily("c")
        #expect(try poller.poll(timeoutMilliseconds: 0) == [])
        // An urgent post still wakes it, behind the lazy ones.
        mailbox.post("d")
        #expect(try poller.poll(timeoutMilliseconds: timeoutMilliseconds) == [0])
        #expect(mailbox.drain() == ["b", "c", "d"])
        #expect(try poller.poll(timeoutMilliseconds: 0) == [])

        // Dropping the promise with lazy items waiting wakes the loop for them.
        mailbox.postLazily("e")
        #expect(try poller.poll(timeoutMilliseconds: 0) == [])
        mailbox.setLooksSoon(false)
        #expect(try poller.poll(timeoutMilliseconds: timeoutMilliseconds) == [0])
        #expect(mailbox.drain() == ["e"])
        mailbox.setLooksSoon(false)
        #expect(try poller.poll(timeoutMilliseconds: 0) == [], "nothing waiting: no wake-up")
    }

    @Test("mailbox: 4 threads × 1,000 posts all drained, each thread's items in order")
    func mailboxConcurrentPosts() throws {
        struct Item: Sendable, Equatable {
            var thread: Int
            var sequence: Int
        }
        let threads = 4
        let perThread = 1000
        let mailbox = Mailbox<Item>()
        let started = DispatchGroup()
        let go = DispatchSemaphore(value: 0)
        for thread in 0..<threads {
            started.enter()
            Thread {
                started.leave()
                go.wait()
                for sequence in 0..<perThread {
                    if sequence % 100 == 99 {
                        mailbox.post(contentsOf: [Item(thread: thread, sequence: sequence)])
                    } else {
                        mailbox.post(Item(thread: thread, sequence: sequence))
                    }
                }
            }.start()
        }
        #expect(started.wait(timeout: .now() + .seconds(2)) == .success)
        for _ in 0..<threads { go.signal() }

        // Drain concurrently with the posters, as the loop thread would.
        var poller = ZMQPoller()
        poller.add(fileDescriptor: mailbox.fileDescriptor)
        var drained: [Item] = []
        let deadline = ContinuousClock.now + .seconds(3)
        while drained.count < threads * perThread, ContinuousClock.now < deadline {
            if try poller.poll(timeoutMilliseconds: 100).isEmpty { continue }
            drained += mailbox.drain()
        }
        #expect(drained.count == threads * perThread)
        for thread in 0..<threads {
            #expect(drained.filter { $0.thread == thread }.map(\.sequence) == Array(0..<perThread))
        }
        // Nothing is left, and no wake-up is left pending without items.
        #expect(mailbox.drain() == [])
        #expect(try poller.poll(timeoutMilliseconds: 0) == [])
    }

    @Test("sending with dontWait at the high-water mark fails with wouldBlock instead of blocking")
    func sendHighWaterMark() throws {
        let context = ZMQContext()
        let dealer = try ZMQSocket(context, .dealer)
        try dealer.setOption(ZMQ_SNDHWM_VALUE, 1)
        // No peer: a DEALER with no connection blocks (or refuses with dontWait) at once.
        let error = #expect(throws: ZMQError.self) { try dealer.send([text("x")], dontWait: true) }
        #expect(error?.wouldBlock == true)
    }

    @Test("close is idempotent and the version is readable")
    func closeAndVersion() throws {
        let context = ZMQContext()
        let socket = try ZMQSocket(context, .pair)
        socket.close()
        socket.close()
        #expect(ZMQContext.version.split(separator: ".").count == 3)
        #expect(ZMQContext.version.hasPrefix("4."))
    }
}

/// `ZMQ_SNDHWM` (23 in zmq.h); the test target does not import the C module.
private let ZMQ_SNDHWM_VALUE: Int32 = 23
