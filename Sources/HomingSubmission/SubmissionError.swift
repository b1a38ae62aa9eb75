/// A message that could not be submitted.
public struct SubmissionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Whether trying again later may succeed (sendmail exit 75, SMTP 4xx, connection refused).
    public var isTemporary: Bool
    /// What went wrong, for people (the sendmail exit status and output, the SMTP reply).
    public var message: String

    /// Creates an error.
    public init(temporary: Bool, _ message: String) {
        self.isTemporary = temporary
        self.message = message
    }

    public var description: String { message }
}
