// libFuzzer target for everything a peer can make a ZFlow process decode: each operation direction and the
// Codable decoder for task arguments. scripts/fuzz.sh builds it with coverage instrumentation, AddressSanitizer
// and -DFUZZING, and runs it for a bounded time; a normal build makes a stub that says so.
import Foundation
import ZFlowCore
import ZFlowWire

/// Feeds one input to the decoder its first byte selects; returns normally whatever the bytes are.
func decodeAnything(_ input: Data) {
    guard let selector = input.first else { return }
    let body = input.dropFirst()
    let header = Data(body)
    let signature = Data(ProtocolVersion.signature)
    // Also as two frames, the second standing for a payload frame a header may refer to.
    let middle = body.startIndex + body.count / 2
    let framings = [[signature, header], [signature, Data(body[..<middle]), Data(body[middle...])]]
    let decoder = OperationDecoder()
    for frames in framings {
        switch selector % 7 {
        case 0: _ = try? decoder.decode(WorkerToScheduler.self, frames: frames)
        case 1: _ = try? decoder.decode(SchedulerToWorker.self, frames: frames)
        case 2: _ = try? decoder.decode(ClientToScheduler.self, frames: frames)
        case 3: _ = try? decoder.decode(SchedulerToClient.self, frames: frames)
        case 4: _ = try? decoder.decode(PeerRequest.self, frames: frames)
        case 5: _ = try? decoder.decode(PeerReply.self, frames: frames)
        default:
            _ = try? MessagePackDecoder().decode([String: [Int]].self, from: header)
            // The fast paths for task arguments and results.
            _ = PlainScalars.array(header)
            _ = PlainScalars.value(header)
        }
    }
}

#if FUZZING
/// libFuzzer's driver (from the fuzzer runtime without `main` that scripts/fuzz.sh links).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The program's entry point (SwiftPM links an executable's `main` to `<module>_main`): hands control to
/// libFuzzer's driver with the decoder as the input callback.
@_cdecl("zflow_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in
        decodeAnything(data.map { Data(bytes: $0, count: size) } ?? Data())
        return 0
    }
}
#else
/// Without `-sanitize=fuzzer` there is nothing to run: say how to fuzz.
@main
enum FuzzDecoderStub {
    static func main() {
        FileHandle.standardError.write(Data("zflow-fuzz: build and run it with scripts/fuzz.sh [SECONDS]\n".utf8))
        exit(64)
    }
}
#endif
