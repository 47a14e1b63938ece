import Foundation
import ZFlowCore
import ZFlowWire
import ZFlowZMQ

/// Workers that register and offer no function, from one process: a scheduler with thousands of registered
/// workers, for tests of what clients then do (they must not connect to all of them).
enum FakeWorkers {
    /// Registers `count` workers with `scheduler` (plaintext), prints `registered N`, and keeps them until
    /// standard input closes.
    static func run(count: Int, scheduler: String) throws {
        // libzmq allows 1,023 sockets per context.
        let contexts = (0..<(count / 1000 + 1)).map { _ in ZMQContext() }
        var sockets: [ZMQSocket] = []
        for index in 0..<count {
            let socket = try ZMQSocket(contexts[index / 1000], .dealer)
            try socket.setIdentity("worker:fake-\(index)")
            try socket.connect(scheduler)
            let registration = WorkerRegistration(
                name: WorkerID("fake-\(index)"), nthreads: 1, functions: [], address: PeerAddress("tcp://127.0.0.1:1"),
                heartbeatInterval: .seconds(60))
            try socket.send(OperationWriter.frames([WorkerToScheduler.register(registration)]), dontWait: true)
            sockets.append(socket)
        }
        print("registered \(count)")
        fflush(nil)
        while FileHandle.standardInput.availableData.count > 0 {}
        for socket in sockets { socket.close() }
    }
}
