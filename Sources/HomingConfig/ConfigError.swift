/// Where a setting or a problem sits: a file and a 1-based line number.
public struct ConfigLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// A configuration problem that stops start-up. Its description is `file:line: what is wrong`.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is, when it can be pinned to a line.
    public var location: ConfigLocation?
    /// What is wrong and, where possible, what to do, in words for an administrator.
    public var message: String

    public init(_ message: String, at location: ConfigLocation? = nil) {
        self.location = location
        self.message = message
    }

    public var description: String {
        if let location { return "\(location): \(message)" }
        return message
    }
}

/// Something in the configuration that Homing reads but does not act on (an IMAP setting, say).
/// Reported once per setting name at start, never fatal.
public struct ConfigWarning: Sendable, Hashable, CustomStringConvertible {
    public var location: ConfigLocation?
    public var message: String

    public init(_ message: String, at location: ConfigLocation? = nil) {
        self.location = location
        self.message = message
    }

    public var description: String {
        if let location { return "\(location): \(message)" }
        return message
    }
}
