/// Sends a message out (Sieve `redirect`, `reject`, `vacation`): through `sendmail_path` or
/// `submission_host`. Implementations block the calling thread: call them from a thread pool,
/// never from an event loop.
public protocol MailSubmitter: Sendable {
    /// Submits `message` from `sender` (empty for the null sender `<>`) to `recipients`.
    /// Throws `SubmissionError` when the message was not accepted (the caller logs it).
    func submit(_ message: OutgoingMessage, from sender: String, to recipients: [String])
        throws(SubmissionError)
}
