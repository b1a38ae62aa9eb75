import Glibc
import HomingConfig
import Synchronization

/// Maildir file names as Dovecot makes them:
/// `<unix time>.M<microseconds>P<pid>.<host>,S=<size>,W=<virtual size>[:2,<flags>]`.
///
/// Like Dovecot, uniqueness within the process comes from the time stamp itself: every name gets
/// a (seconds, microseconds) pair strictly greater than the previous one, shared by all threads.
public enum MaildirFileName {
    /// The last time stamp handed out, shared by every thread of the process.
    private static let lastStamp = Mutex<(seconds: Int, microseconds: Int)>((0, 0))

    /// The system host name (`gethostname`), escaped for a maildir name.
    public static let host: String = escapeHost(SystemHostName.full)

    /// Escapes `/` as `\057` and `:` as `\072`, the two characters a maildir name cannot hold.
    public static func escapeHost(_ host: String) -> String {
        var escaped = ""
        for character in host {
            switch character {
            case "/": escaped += "\\057"
            case ":": escaped += "\\072"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// `<seconds>.M<microseconds>P<pid>.<host>`.
    public static func base(seconds: Int, microseconds: Int, pid: Int32, host: String) -> String {
        "\(seconds).M\(microseconds)P\(pid).\(host)"
    }

    /// `<base>,S=<size>,W=<virtualSize>`.
    public static func withSizes(_ base: String, size: Int, virtualSize: Int) -> String {
        "\(base),S=\(size),W=\(virtualSize)"
    }

    /// The info suffix for maildir flags: `""` for none, else `:2,` + the flags sorted, each once.
    public static func info(flags: String) throws(MaildirError) -> String {
        if flags.isEmpty { return "" }
        let bytes = Array(flags.utf8)
        guard bytes.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
            throw .invalidFlags(flags)
        }
        return ":2," + String(decoding: Set(bytes).sorted(), as: UTF8.self)
    }

    /// A new unique base name for this process: the current time, bumped by one microsecond past
    /// the previous name when the clock has not moved on.
    public static func nextUniqueBase() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let current = (seconds: Int(now.tv_sec), microseconds: Int(now.tv_nsec) / 1000)
        let stamp = lastStamp.withLock { last in
            var next = current
            if (next.seconds, next.microseconds) <= (last.seconds, last.microseconds) {
                next = last
                next.microseconds += 1
                if next.microseconds == 1_000_000 {
                    next.seconds += 1
                    next.microseconds = 0
                }
            }
            last = next
            return next
        }
        return base(seconds: stamp.seconds, microseconds: stamp.microseconds, pid: getpid(), host: host)
    }
}
