#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The machine's host name (`gethostname`), read once: Dovecot's default for `hostname`, and
/// the host part of maildir file names.
public enum SystemHostName {
    /// The full host name, `localhost` when the system has none.
    public static let full: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }()
}

extension HomingSettings {
    /// The host name Homing introduces itself with (greeting, LHLO, `Received:`, Sieve's
    /// environment): `hostname`, else the system's.
    public var effectiveHostname: String {
        if let hostname, !hostname.isEmpty { return hostname }
        return SystemHostName.full
    }
}
