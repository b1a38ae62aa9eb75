/// A warning about a script: something Pigeonhole accepts but flags (an unknown date part, an
/// edit of a protected header, options a notification method ignores), found while compiling
/// or while running.
///
/// `description` follows Pigeonhole's wording, `line N: warning: message.`
public struct SieveWarning: Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is.
    public var location: SieveSourceLocation
    /// The message for people, without the `line N: warning:` prefix.
    public var message: String

    /// Creates a warning at `location` with `message`.
    public init(at location: SieveSourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    /// `line N: warning: message.`, as Pigeonhole prints it.
    public var description: String { "line \(location.line): warning: \(message)." }
}
