/// A message a Sieve action wants sent (vacation reply, rejection MDN, redirected copy), as
/// bytes: HomingSieve knows nothing of sendmail or SMTP; the delivery code hands this to a
/// `MailSubmitter`.
public struct SieveOutgoingMail: Sendable, Hashable {
    /// The envelope sender (MAIL FROM / `sendmail -f`), empty for the null sender `<>`.
    public var sender: String
    /// The envelope recipients.
    public var recipients: [String]
    /// The message (or, with `appendOriginal`, the header lines to put before the original),
    /// with CRLF line ends.
    public var content: [UInt8]
    /// Whether the delivered message itself follows `content` (a redirect sends the original
    /// without loading it into memory).
    public var appendOriginal: Bool

    /// Creates a message to send.
    public init(sender: String, recipients: [String], content: [UInt8], appendOriginal: Bool = false) {
        self.sender = sender
        self.recipients = recipients
        self.content = content
        self.appendOriginal = appendOriginal
    }
}
