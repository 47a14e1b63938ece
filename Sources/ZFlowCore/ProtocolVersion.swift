/// The wire protocol's name and version (`ZFLOW/3`).
public enum ProtocolVersion {
    /// The version this build speaks; `register` carries it and a mismatch is refused.
    public static let current: Int = 3
    /// The bytes of frame 0 of every message: signature `ZF` then the version byte.
    public static let signature: [UInt8] = [0x5A, 0x46, UInt8(current)]
}
