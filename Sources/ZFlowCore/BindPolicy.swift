/// Where a ZFlow server may listen: loopback always; any other interface only with security, or when the user
/// says `--insecure` knowingly.
public enum BindPolicy {
    /// Whether `host` names only this machine (`127.0.0.0/8`, `::1`, `localhost`).
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Why a server of `program` may not bind `host`, or nil when it may.
    ///
    /// - Parameters:
    ///   - secure: it runs with a security directory (CURVE on every socket).
    ///   - insecure: the user asked for plaintext on a real network (`--insecure`).
    public static func refusal(program: String, host: String, secure: Bool, insecure: Bool) -> String? {
        guard !isLoopback(host), !secure, !insecure else { return nil }
        return "\(program): refusing to listen on \(host) without security: anyone who reaches it could run code; "
            + "pass --security DIR (zflow keygen DIR makes one), or --insecure to accept that"
    }

    /// The warning a server prints on every start when it listens beyond loopback without security.
    public static func warning(program: String, host: String, secure: Bool) -> String? {
        guard !isLoopback(host), !secure else { return nil }
        return "\(program): WARNING: listening on \(host) without security (--insecure): anyone who reaches it can run code here"
    }
}
