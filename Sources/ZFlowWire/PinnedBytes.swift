import Foundation

/// Bytes at an address that stays fixed for the object's lifetime, so unpacked objects may point into them.
///
/// Small values are copied into an allocation of their own (a small `Data` may store its bytes inline, at no
/// fixed address); large ones keep their `Data`, whose single heap allocation does not move while it lives
/// unmodified.
public final class PinnedBytes: @unchecked Sendable {
    /// The bytes.
    public let buffer: UnsafeRawBufferPointer
    private let owner: Data?
    private let allocation: UnsafeMutableRawBufferPointer?

    /// Pins a copy of, or a reference to, `data`.
    public init(_ data: Data) {
        if data.count >= 1024 {
            owner = data
            allocation = nil
            buffer = data.withUnsafeBytes { $0 }
        } else {
            let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 8)
            data.copyBytes(to: memory)
            allocation = memory
            owner = nil
            buffer = UnsafeRawBufferPointer(rebasing: memory[0..<data.count])
        }
    }

    deinit { allocation?.deallocate() }
}
