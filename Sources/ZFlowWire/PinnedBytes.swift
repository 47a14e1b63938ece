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

    /// A `Data` over `bytes` without copying them, when they lie inside this object's large buffer; it keeps
    /// this object alive. Nil for small values (copying those is cheaper than sharing).
    public func sharedData(_ bytes: UnsafeRawBufferPointer) -> Data? {
        guard owner != nil, let start = bytes.baseAddress, let base = buffer.baseAddress,
            start >= base, start + bytes.count <= base + buffer.count, bytes.count > 0
        else { return nil }
        return Data(
            bytesNoCopy: UnsafeMutableRawPointer(mutating: start), count: bytes.count,
            deallocator: .custom { [self] _, _ in withExtendedLifetime(self) {} })
    }
}
