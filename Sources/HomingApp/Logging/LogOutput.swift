import Foundation
import HomingConfig
import Synchronization

/// Where log lines go: a file (or standard error), syslog, or the systemd journal. Shared by
/// every copy of the handler; ``reopen()`` (SIGUSR1) opens a log file again after logrotate
/// renamed it.
public final class LogOutput: Sendable {
    private enum Destination: Sendable {
        case file(path: String?, descriptor: Int32, note: String?)
        case syslog(DatagramLogSocket)
        case journal(DatagramLogSocket)
    }

    private let destination: Destination
    private let lock = Mutex<Void>(())

    private init(_ destination: Destination) {
        self.destination = destination
    }

    /// Standard error.
    public static let standardError = LogOutput(.file(path: nil, descriptor: 2, note: nil))

    /// The output `log_path` names: a file (appended, created 0600), `/dev/stderr` for
    /// standard error, or empty / `syslog` for syslog (facility `mail`, as Dovecot's default
    /// `syslog_facility`), which under systemd (`JOURNAL_STREAM` set) is the journal; with no
    /// syslog daemon listening (a container), standard error, and ``description`` says why.
    public static func forLogPath(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigError) -> LogOutput
    {
        switch path {
        case "/dev/stderr":
            return .standardError
        case "", "syslog":
            if environment["JOURNAL_STREAM"] != nil || environment["HOMING_JOURNAL_SOCKET"] != nil {
                let socket = environment["HOMING_JOURNAL_SOCKET"] ?? "/run/systemd/journal/socket"
                if let journal = DatagramLogSocket(path: socket) { return LogOutput(.journal(journal)) }
            }
            let socket = environment["HOMING_SYSLOG_SOCKET"] ?? "/dev/log"
            guard let syslog = DatagramLogSocket(path: socket) else {
                return LogOutput(.file(path: nil, descriptor: 2, note: "no syslog daemon listens on \(socket)"))
            }
            return LogOutput(.syslog(syslog))
        default:
            return LogOutput(.file(path: path, descriptor: try openLogFile(path), note: nil))
        }
    }

    private static func openLogFile(_ path: String) throws(ConfigError) -> Int32 {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 {
            let code = errno
            let hint = code == ENOENT ? ": create the directory or change log_path" : ""
            throw ConfigError("log_path \(path): \(String(cString: strerror(code)))\(hint)")
        }
        return fd
    }

    /// What the output is, for the start-up line.
    public var description: String {
        switch destination {
        case .file(nil, _, nil): return "standard error"
        case .file(nil, _, let note?): return "standard error (\(note))"
        case .file(let path?, _, _): return path
        case .syslog: return "syslog"
        case .journal: return "the systemd journal"
        }
    }

    /// Opens the log file again by its name (after logrotate moved it away); the new file
    /// takes the old descriptor's place, so writers never see a closed descriptor. Does nothing
    /// for standard error, syslog and the journal.
    public func reopen() throws(ConfigError) {
        guard case .file(let path?, let descriptor, _) = destination else { return }
        let fresh = try Self.openLogFile(path)
        lock.withLock { _ in
            _ = dup2(fresh, descriptor)
            _ = close(fresh)
        }
    }

    /// Writes one record (lines from threads never mix).
    public func write(_ record: LogRecord) {
        switch destination {
        case .file(_, let descriptor, _):
            var bytes = Array("\(Self.timestamp()) \(record.fileLine)".utf8)
            bytes.append(UInt8(ascii: "\n"))
            lock.withLock { _ in Self.writeAll(bytes, to: descriptor) }
        case .syslog(let socket):
            // RFC 3164 as glibc's syslog(3) writes it: <PRI>Mmm dd hh:mm:ss ident[pid]: message.
            let priority = 2 * 8 + record.syslogSeverity  // facility mail
            socket.send(Array("<\(priority)>\(Self.timestamp()) homing[\(getpid())]: \(record.syslogMessage)".utf8))
        case .journal(let socket):
            socket.send(JournalEntry.encode(record))
        }
    }

    /// Whether lines go to standard error.
    public var isStandardError: Bool {
        if case .file(nil, _, _) = destination { return true }
        return false
    }

    /// Writes a plain line (the CLI's messages on standard error).
    public func write(_ line: String) {
        guard case .file(_, let descriptor, _) = destination else { return }
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        lock.withLock { _ in Self.writeAll(bytes, to: descriptor) }
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Foundation.write(descriptor, raw.baseAddress.map { $0 + offset }, bytes.count - offset)
            }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
    }

    /// `Dec 03 06:10:02` in local time.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var tm = tm()
        var seconds = now.tv_sec
        localtime_r(&seconds, &tm)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%b %d %H:%M:%S", &tm)
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A connected unix datagram socket (`/dev/log`, the journal's socket).
final class DatagramLogSocket: Sendable {
    private let descriptor: Int32

    /// Connects to `path`; `nil` when nothing listens there.
    init?(path: String) {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            return nil
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            return nil
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Sends one datagram; a full or gone log daemon loses the line rather than block delivery.
    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { raw in
            Foundation.send(descriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
        }
    }
}

/// The systemd journal's native protocol: `FIELD=value` lines, and for a value with a newline
/// the field name, a newline, its length as 64-bit little-endian, and the bytes.
enum JournalEntry {
    static func encode(_ record: LogRecord) -> [UInt8] {
        var fields: [(String, String)] = [
            ("MESSAGE", record.syslogMessage), ("PRIORITY", String(record.syslogSeverity)),
            ("SYSLOG_IDENTIFIER", "homing"), ("SYSLOG_FACILITY", "2"),
        ]
        if let user = record.user { fields.append(("USER", user)) }
        if let session = record.session { fields.append(("SESSION", session)) }
        if let messageID = record.messageID { fields.append(("MSGID", messageID)) }
        var out: [UInt8] = []
        for (name, value) in fields {
            out += Array(name.utf8)
            let bytes = Array(value.utf8)
            if bytes.contains(UInt8(ascii: "\n")) {
                out.append(UInt8(ascii: "\n"))
                var length = UInt64(bytes.count).littleEndian
                withUnsafeBytes(of: &length) { out += $0 }
                out += bytes
            } else {
                out.append(UInt8(ascii: "="))
                out += bytes
            }
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }
}
