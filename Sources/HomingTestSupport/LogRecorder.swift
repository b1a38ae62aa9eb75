import Logging
import Synchronization

/// Log lines a test can look at: hand ``logger`` to the code under test, then read
/// ``messages(at:)`` or ``lines``.
public final class LogRecorder: Sendable {
    /// One logged message.
    public struct Line: Sendable, Hashable {
        public var level: Logger.Level
        public var message: String

        public init(level: Logger.Level, message: String) {
            self.level = level
            self.message = message
        }
    }

    private let storage = Mutex<[Line]>([])

    public init() {}

    /// Records a line.
    public func append(_ line: Line) {
        storage.withLock { $0.append(line) }
    }

    /// Every line so far, in order.
    public var lines: [Line] {
        storage.withLock { $0 }
    }

    /// The messages logged at `level`, in order.
    public func messages(at level: Logger.Level) -> [String] {
        lines.filter { $0.level == level }.map(\.message)
    }

    /// A logger at `trace` level that records into this recorder.
    public var logger: Logger {
        var logger = Logger(label: "homing.test") { _ in RecordingLogHandler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }
}

/// The log handler behind ``LogRecorder/logger``.
struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        recorder.append(LogRecorder.Line(level: event.level, message: "\(event.message)"))
    }
}
