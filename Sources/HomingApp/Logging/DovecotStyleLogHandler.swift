import Foundation
import HomingConfig
import Logging

/// Log lines in the spirit of Dovecot's: `<time> lmtp(<user>)<<session>>: Info: <message>` in a
/// file or on standard error; `lmtp(<user>)<<session>>: <message>` (the level as the priority,
/// and as a prefix for warnings and errors) to syslog; and to the systemd journal with the
/// user, session and message id as fields of their own.
public struct DovecotStyleLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let output: LogOutput

    public init(label: String, output: LogOutput = .standardError, logLevel: Logger.Level = .info) {
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
        var record = LogRecord(level: event.level, label: label, message: "\(event.message)")
        if let user = all.removeValue(forKey: "user") { record.user = "\(user)" }
        if let session = all.removeValue(forKey: "session") { record.session = "\(session)" }
        // The message id is in the text already (`msgid=<...>: ...`); it is a field of its own
        // only where fields exist (the journal).
        if let messageID = all.removeValue(forKey: "msgid") { record.messageID = "\(messageID)" }
        record.extra = all.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        output.write(record)
    }
}

/// One log event, taken apart for the destinations.
public struct LogRecord: Sendable {
    public var level: Logger.Level
    /// The process label (`lmtp`, `homing`, `config`).
    public var label: String
    public var message: String
    public var user: String?
    public var session: String?
    public var messageID: String?
    /// Other metadata, sorted by key.
    public var extra: [(String, String)] = []

    public init(level: Logger.Level, label: String, message: String) {
        self.level = level
        self.label = label
        self.message = message
    }

    /// `lmtp(user)<session>`.
    public var prefix: String {
        var prefix = label
        if let user { prefix += "(\(user))" }
        if let session { prefix += "<\(session)>" }
        return prefix
    }

    /// Dovecot's name for the level.
    public var levelName: String {
        switch level {
        case .trace, .debug: return "Debug"
        case .info, .notice: return "Info"
        case .warning: return "Warning"
        case .error: return "Error"
        case .critical: return "Fatal"
        }
    }

    /// The message with the other metadata, ` (key=value ...)`.
    public var text: String {
        guard !extra.isEmpty else { return message }
        return message + " (" + extra.map { "\($0.0)=\($0.1)" }.joined(separator: " ") + ")"
    }

    /// The line for a file or standard error (without the time stamp).
    public var fileLine: String { "\(prefix): \(levelName): \(text)" }

    /// The message for syslog: no `Info:` (the priority says it), other levels named, as
    /// Dovecot writes to syslog.
    public var syslogMessage: String {
        level == .info || level == .notice ? "\(prefix): \(text)" : "\(prefix): \(levelName): \(text)"
    }

    /// The syslog priority of the level.
    public var syslogSeverity: Int32 {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }
}
