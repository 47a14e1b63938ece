import CZMQShim
import Foundation
import ZFlow
import ZFlowZMQ

/// The raw ZeroMQ floors beside ZFlow's workloads: the same messages over the same kind of sockets, with no ZFlow
/// in between. Each party runs on its own thread with its own context (so its own I/O thread, as separate
/// processes have).
extension Benchmarks {
    /// The floor under `transfer`: one PUSH → PULL message of the same size over loopback TCP.
    func rawPush(megabytes: Int, curve: Bool = false, frames frameCount: Int = 1) throws -> BenchResult {
        let size = megabytes << 20
        let context = ZMQContext()
        let pull = try ZMQSocket(context, .pull)
        try pull.setOption64(ZMQ_MAXMSGSIZE, -1)
        let serverKeys = try CurveKeyPair.generate()
        let clientKeys = try CurveKeyPair.generate()
        if curve { try pull.makeCurveServer(secretKey: serverKeys.secretKey, domain: "bench") }
        let endpoint = try pull.bind("tcp://127.0.0.1:*")
        let go = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let payload = (0..<frameCount).map { _ in Data(repeating: 0xAB, count: size / frameCount) }
        let rounds = runs + 1
        let sender = Thread {
            defer { done.signal() }
            guard let push = try? ZMQSocket(context, .push),
                !curve || (try? push.makeCurveClient(serverKey: serverKeys.publicKey, keys: clientKeys)) != nil,
                (try? push.connect(endpoint)) != nil
            else { return }
            for _ in 0..<rounds {
                go.wait()
                try? push.send(payload)
            }
            go.wait()
            push.close()
        }
        sender.start()
        defer {
            go.signal()
            done.wait()
            pull.close()
        }
        var poller = ZMQPoller()
        poller.add(pull)
        var samples: [Double] = []
        for round in 0..<rounds {
            let start = ContinuousClock.now
            go.signal()
            guard try !poller.poll(timeoutMilliseconds: 60_000).isEmpty, let frames = try pull.receive(dontWait: true) else {
                throw ClientError.timedOut(seconds: 60)
            }
            let elapsed = Self.seconds(since: start)
            precondition(frames.reduce(0) { $0 + $1.count } == size, "short message")
            if round > 0 { samples.append(Double(size) / elapsed / 1e9) }
        }
        let framing = frameCount == 1 ? "" : " in \(frameCount) frames"
        return BenchResult(
            name: "zmq-push\(curve ? "-curve" : "")-\(megabytes)MiB\(frameCount == 1 ? "" : "-\(frameCount)frames")",
            detail: "raw ZeroMQ PUSH -> PULL of one \(megabytes) MiB message\(framing)\(curve ? ", CURVE" : "")",
            unit: "GB/s", samples: samples)
    }

    /// One hop each way: round trips client DEALER → echo ROUTER → client (the issue's "one loopback round trip").
    func rawRoundTrip(count: Int = 1000, warmUp: Int = 50) throws -> BenchResult {
        let endpoints = ProbeEndpoints()
        let bye = Data("bye".utf8)
        let ready = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let echoThread = Thread {
            defer { finished.signal() }
            let context = ZMQContext()
            guard let echo = try? ZMQSocket(context, .router), (try? echo.setOption(ZMQ_RCVTIMEO, 10_000)) != nil,
                let bound = try? echo.bind("tcp://127.0.0.1:*")
            else {
                ready.signal()
                return
            }
            endpoints.front = bound
            ready.signal()
            // Bounded: the client's last message is `bye`; the 10 s receive timeout ends a stalled run.
            while let frames = try? echo.receive(), frames.count == 2, frames[1] != bye { try? echo.send(frames) }
            echo.close()
        }
        echoThread.start()
        ready.wait()
        guard let endpoint = endpoints.front else { throw ClientError.timedOut(seconds: 0) }
        let clientContext = ZMQContext()
        let client = try ZMQSocket(clientContext, .dealer)
        try client.setOption(ZMQ_RCVTIMEO, 10_000)
        try client.connect(endpoint)
        defer {
            try? client.send([bye])
            finished.wait()
            client.close()
        }
        return try Self.pingRoundTrips(
            sendingOn: client, receivingOn: client, count: count, warmUp: warmUp, name: "zmq-rtt",
            detail: "raw ZeroMQ round trip DEALER -> ROUTER -> DEALER (2 hops)")
    }

    /// Round trips through a broker: client DEALER → broker ROUTER → echo DEALER → broker. With `replyDirect`
    /// the echo answers on its own ROUTER, to which the client has connected a second DEALER — ZFlow's `latency`
    /// path exactly (`submit` → scheduler → `compute-task` → worker → `push-result` → client, 3 hops); without,
    /// it answers back through the broker (4 hops).
    func rawBrokerRoundTrip(replyDirect: Bool, count: Int = 1000, warmUp: Int = 50) throws -> BenchResult {
        let endpoints = ProbeEndpoints()
        let ready = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let bye = Data("bye".utf8)
        let hello = Data("hello".utf8)
        let broker = Thread {
            defer { finished.signal() }
            let context = ZMQContext()
            guard let front = try? ZMQSocket(context, .router), let back = try? ZMQSocket(context, .router),
                let frontEndpoint = try? front.bind("tcp://127.0.0.1:*"), let backEndpoint = try? back.bind("tcp://127.0.0.1:*")
            else {
                ready.signal()
                return
            }
            endpoints.front = frontEndpoint
            endpoints.back = backEndpoint
            ready.signal()
            var echoIdentity = Data()
            var poller = ZMQPoller()
            poller.add(front)
            poller.add(back)
            // Bounded: the client's last message is `bye`; the 10 s poll timeout ends a stalled run.
            while let ready = try? poller.poll(timeoutMilliseconds: 10_000), !ready.isEmpty {
                if ready.contains(1), let frames = try? back.receive(dontWait: true), frames.count == 2 {
                    echoIdentity = frames[0]
                    if frames[1] != hello { try? front.send([Data("client".utf8), frames[1]]) }
                }
                if ready.contains(0), let frames = try? front.receive(dontWait: true), frames.count == 2 {
                    try? back.send([echoIdentity, frames[1]])
                    if frames[1] == bye { break }
                }
            }
            front.close()
            back.close()
        }
        broker.start()
        ready.wait()
        guard let front = endpoints.front, let back = endpoints.back else { throw ClientError.timedOut(seconds: 0) }
        let echoReady = DispatchSemaphore(value: 0)
        let echo = Thread {
            defer { finished.signal() }
            let context = ZMQContext()
            guard let socket = try? ZMQSocket(context, .dealer), (try? socket.setOption(ZMQ_RCVTIMEO, 10_000)) != nil,
                (try? socket.connect(back)) != nil, let peer = try? ZMQSocket(context, .router),
                (try? peer.setOption(ZMQ_RCVTIMEO, 10_000)) != nil, let peerEndpoint = try? peer.bind("tcp://127.0.0.1:*")
            else {
                echoReady.signal()
                return
            }
            endpoints.peer = peerEndpoint
            echoReady.signal()
            try? socket.send([hello])
            if replyDirect {
                // The client says hello on its peer DEALER once connected, so replies to it are not dropped.
                guard let greeting = try? peer.receive(), greeting.count == 2 else { return }
                try? peer.send(greeting)
            }
            while let frames = try? socket.receive(), let body = frames.last, body != bye {
                if replyDirect { try? peer.send([Data("client".utf8), body]) } else { try? socket.send([body]) }
            }
            socket.close()
            peer.close()
        }
        echo.start()
        echoReady.wait()
        let context = ZMQContext()
        let client = try ZMQSocket(context, .dealer)
        try client.setIdentity("client")
        try client.setOption(ZMQ_RCVTIMEO, 10_000)
        try client.connect(front)
        // The second DEALER, to the echo's ROUTER, only on the 3-hop path.
        let direct = replyDirect ? try ZMQSocket(context, .dealer) : nil
        defer {
            try? client.send([bye])
            finished.wait()
            finished.wait()
            client.close()
            direct?.close()
        }
        guard let peerEndpoint = endpoints.peer else { throw ClientError.timedOut(seconds: 0) }
        if let direct {
            try direct.setIdentity("client")
            try direct.setOption(ZMQ_RCVTIMEO, 10_000)
            try direct.connect(peerEndpoint)
            try direct.send([hello])
            guard try direct.receive() != nil else { throw ClientError.timedOut(seconds: 10) }
        }
        Thread.sleep(forTimeInterval: 0.2)  // lets the echo's hello reach the broker; not measured
        return try Self.pingRoundTrips(
            sendingOn: client, receivingOn: direct ?? client, count: count, warmUp: warmUp,
            name: replyDirect ? "zmq-path-rtt" : "zmq-broker-rtt",
            detail: replyDirect
                ? "raw ZeroMQ along ZFlow's latency path: broker, then a direct reply (3 hops)"
                : "raw ZeroMQ round trip through a ROUTER broker (4 hops)")
    }

    /// Times `count` round trips of a small message sent on one socket and answered on another (after `warmUp`
    /// unmeasured ones).
    private static func pingRoundTrips(
        sendingOn sender: ZMQSocket, receivingOn receiver: ZMQSocket, count: Int, warmUp: Int, name: String,
        detail: String
    ) throws -> BenchResult {
        var samples: [Double] = []
        for index in 0..<(warmUp + count) {
            let start = ContinuousClock.now
            try sender.send([Data("ping".utf8)])
            guard try receiver.receive() != nil else { throw ClientError.timedOut(seconds: 10) }
            if index >= warmUp { samples.append(Self.seconds(since: start) * 1e6) }
        }
        return latencyResult(name: name, detail: detail, samples: samples)
    }
}

/// The bound endpoints of a probe's serving threads, handed to the threads that connect.
private final class ProbeEndpoints: @unchecked Sendable {
    var front: String?
    var back: String?
    var peer: String?
}
