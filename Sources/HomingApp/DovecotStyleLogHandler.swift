import Foundation
import HomingConfig
import Logging
import Synchronization

/// Log lines in the spirit of Dovecot's: `<time> lmtp(<user>)<<session>>: Info: <message>`,
/// written to standard error or appended to the `log_path` file.
public struct DovecotStyleLogHandler: LogHandler {
    /// Where lines go. Shared by every copy of the handler.
    public final class Output: Sendable {
        private let fileDescriptor: Int32
        private let lock = Mutex<Void>(())

        /// Standard error.
        public static let standardError = Output(fileDescriptor: 2)

        private init(fileDescriptor: Int32) {
            self.fileDescriptor = fileDescriptor
        }

        /// Appends to `path` (created 0600 if missing). `syslog` and empty mean standard error.
        public static func forLogPath(_ path: String) throws -> Output {
            if path.isEmpty || path == "syslog" || path == "/dev/stderr" { return .standardError }
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            if fd < 0 {
                throw ConfigError("log_path \(path): \(String(cString: strerror(errno)))")
            }
            return Output(fileDescriptor: fd)
        }

        /// Writes `line` and a newline in one locked write loop (lines from threads never mix).
        public func write(_ line: String) {
            var bytes = Array(line.utf8)
            bytes.append(UInt8(ascii: "\n"))
            lock.withLock { _ in
                var offset = 0
                while offset < bytes.count {
                    let n = bytes.withUnsafeBytes { raw in
                        Foundation.write(fileDescriptor, raw.baseAddress.map { $0 + offset }, bytes.count - offset)
                    }
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let output: Output

    public init(label: String, output: Output = .standardError, logLevel: Logger.Level = .info) {
        self.label = label
        self.output = output
        self.logLevel = logLevel
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        var prefix = label
        if let user = all.removeValue(forKey: "user") { prefix += "(\(user))" }
        if let session = all.removeValue(forKey: "session") { prefix += "<\(session)>" }
        let level: String
        switch event.level {
        case .trace, .debug: level = "Debug"
        case .info, .notice: level = "Info"
        case .warning: level = "Warning"
        case .error: level = "Error"
        case .critical: level = "Fatal"
        }
        var line = "\(Self.timestamp()) \(prefix): \(level): \(event.message)"
        if !all.isEmpty {
            line += " (" + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + ")"
        }
        output.write(line)
    }

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
