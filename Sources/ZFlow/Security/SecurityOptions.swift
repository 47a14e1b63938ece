import ArgumentParser
import Foundation
import ZFlowCore

/// The security flags every ZFlow program shares: `--security DIR` (or `ZFLOW_SECURITY`) and `--identity NAME`
/// (or `ZFLOW_IDENTITY`).
public struct SecurityOptions: ParsableArguments, Sendable {
    /// The security directory.
    @Option(help: "The cluster's security directory (zflow keygen DIR): CURVE on every connection (default: $ZFLOW_SECURITY).")
    public var security: String?

    /// The identity to connect with.
    @Option(help: "Which identity of the security directory to connect with (a key file's name; default: $ZFLOW_IDENTITY, else the role's default).")
    public var identity: String?

    /// Parsed by swift-argument-parser.
    public init() {}

    /// The security directory from the flags or the environment; nil when neither names one.
    public var directory: SecurityDirectory? {
        let environment = SecurityDirectory.fromEnvironment
        guard let path = security ?? environment?.path else { return nil }
        return SecurityDirectory(path, identity: identity ?? environment?.identity)
    }

    /// Checks that the directory exists when one is named.
    public func validate() throws {
        if let directory, !FileManager.default.fileExists(atPath: directory.path) {
            throw ValidationError("--security: no directory \(directory.path) (zflow keygen \(directory.path) makes one)")
        }
    }

    /// Exits with a one-line reason when a server may not bind `host` (`BindPolicy`); prints the warning when
    /// it may only because of `insecure` (`--insecure`).
    func checkBind(program: String, host: String, insecure: Bool) throws {
        if let refusal = BindPolicy.refusal(program: program, host: host, secure: directory != nil, insecure: insecure) {
            FileHandle.standardError.write(Data((refusal + "\n").utf8))
            throw ExitCode(64)
        }
        if let warning = BindPolicy.warning(program: program, host: host, secure: directory != nil) {
            FileHandle.standardError.write(Data((warning + "\n").utf8))
        }
    }
}
