/// One problem found while reading a configuration: an error (Homing will not start) or a
/// warning (something Homing ignores), with where it is and what to do.
public struct ConfigDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How serious the problem is.
    public enum Severity: String, Sendable, Hashable {
        case error, warning
    }

    public var severity: Severity
    /// Where the problem is (`file:line`), when it can be pinned to a line.
    public var location: ConfigLocation?
    /// What is wrong and, where possible, what to write instead.
    public var message: String

    public init(_ severity: Severity, _ message: String, at location: ConfigLocation? = nil) {
        self.severity = severity
        self.message = message
        self.location = location
    }

    /// `file:line: message`, as ``ConfigError`` prints.
    public var description: String {
        if let location { return "\(location): \(message)" }
        return message
    }

    /// The error as a ``ConfigError`` (for callers that throw the first one).
    public var asError: ConfigError { ConfigError(message, at: location) }
}

/// Every problem of a configuration, collected through the whole load instead of stopping at
/// the first one, so that `homing config --check` can list them all in one go.
///
/// Checks outside HomingConfig add theirs with ``add(_:)`` or ``error(_:at:)``, pointing at a
/// setting with ``LoadedConfiguration/location(ofSetting:inSection:)``.
public struct ConfigDiagnostics: Sendable, Hashable {
    /// Everything in the order found.
    public private(set) var all: [ConfigDiagnostic] = []

    public init(_ diagnostics: [ConfigDiagnostic] = []) {
        all = diagnostics
    }

    public mutating func add(_ diagnostic: ConfigDiagnostic) {
        guard !all.contains(diagnostic) else { return }
        all.append(diagnostic)
    }

    public mutating func add(contentsOf other: ConfigDiagnostics) {
        for diagnostic in other.all { add(diagnostic) }
    }

    /// Records an error.
    public mutating func error(_ message: String, at location: ConfigLocation? = nil) {
        add(ConfigDiagnostic(.error, message, at: location))
    }

    /// Records a ``ConfigError``.
    public mutating func error(_ error: ConfigError) {
        add(ConfigDiagnostic(.error, error.message, at: error.location))
    }

    /// Records a warning.
    public mutating func warning(_ message: String, at location: ConfigLocation? = nil) {
        add(ConfigDiagnostic(.warning, message, at: location))
    }

    /// The errors, in the order found.
    public var errors: [ConfigDiagnostic] { all.filter { $0.severity == .error } }
    /// The warnings, in the order found.
    public var warnings: [ConfigDiagnostic] { all.filter { $0.severity == .warning } }
    /// Whether any error was found.
    public var hasErrors: Bool { all.contains { $0.severity == .error } }
    /// The first error, for callers that stop at one.
    public var firstError: ConfigError? { errors.first?.asError }

    /// Errors first, then warnings, each group in the order found; one line each, prefixed with
    /// `Error: ` or `Warning: `.
    public var report: [String] {
        errors.map { "Error: \($0)" } + warnings.map { "Warning: \($0)" }
    }
}
