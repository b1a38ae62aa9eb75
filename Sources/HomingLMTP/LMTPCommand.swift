/// A parsed LMTP command (RFC 2033 on RFC 5321, with CHUNKING from RFC 3030).
public enum LMTPCommand: Sendable, Hashable {
    /// `LHLO <name>`: the argument as sent.
    case lhlo(String)
    /// `MAIL FROM:<path> [parameters]`.
    case mail(LMTPMailCommand)
    /// `RCPT TO:<path> [parameters]`.
    case rcpt(LMTPRcptCommand)
    /// `DATA`.
    case data
    /// `BDAT <size> [LAST]`.
    case bdat(size: Int, last: Bool)
    /// `RSET`.
    case rset
    /// `NOOP [string]`.
    case noop
    /// `VRFY <string>`: always answered `252 2.3.3 Try RCPT instead`.
    case vrfy
    /// `QUIT`.
    case quit
    /// `XCLIENT attribute=value ...`: the attributes, or the reply refusing their syntax. The
    /// syntax reply is only sent to a client allowed to use XCLIENT (Dovecot checks the
    /// transaction state and the client's trust first).
    case xclient(Result<LMTPXClientAttributes, LMTPCommandError>)
}

/// The arguments of `MAIL FROM`.
public struct LMTPMailCommand: Sendable, Hashable {
    /// The reverse path between the brackets, as sent; empty for the null sender `<>`.
    public var reversePath: String
    /// `BODY=` upper-cased (`7BIT` or `8BITMIME`), if given.
    public var body: String?
    /// `SIZE=` (the size the client announces), if given.
    public var size: Int?
    /// `SMTPUTF8` was given.
    public var smtpUTF8: Bool
    /// `RET=` (DSN), if given.
    public var notificationReturn: LMTPReturn?
    /// `ENVID=` (DSN), xtext decoded, if given.
    public var envelopeID: String?

    /// Creates the arguments of a `MAIL FROM` command.
    public init(
        reversePath: String, body: String? = nil, size: Int? = nil, smtpUTF8: Bool = false,
        notificationReturn: LMTPReturn? = nil, envelopeID: String? = nil
    ) {
        self.reversePath = reversePath
        self.body = body
        self.size = size
        self.smtpUTF8 = smtpUTF8
        self.notificationReturn = notificationReturn
        self.envelopeID = envelopeID
    }
}

/// The arguments of `RCPT TO`.
public struct LMTPRcptCommand: Sendable, Hashable {
    /// The forward path between the brackets, exactly as sent (source route included).
    public var path: String
    /// The mailbox: no source route, quoted local part unquoted when it needs no quotes.
    public var address: String
    /// `ORCPT=`, decoded, if given.
    public var originalRecipient: LMTPOriginalRecipient?
    /// `NOTIFY=` (DSN), if given.
    public var notify: LMTPNotify?
    /// `XRCPTFORWARD=` (a trusted proxy's forwarded fields), if given.
    public var forwardFields: LMTPForwardFields?

    /// Creates the arguments of a `RCPT TO` command.
    public init(
        path: String, address: String, originalRecipient: LMTPOriginalRecipient? = nil, notify: LMTPNotify? = nil,
        forwardFields: LMTPForwardFields? = nil
    ) {
        self.path = path
        self.address = address
        self.originalRecipient = originalRecipient
        self.notify = notify
        self.forwardFields = forwardFields
    }
}

/// A command the parser refused, with the reply to send.
public struct LMTPCommandError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reply for the client (`500 5.5.1 Unknown command`, `501 5.5.4 Invalid FROM: ...`).
    public var reply: LMTPReply

    /// Creates a refusal answered with `reply`.
    public init(_ reply: LMTPReply) {
        self.reply = reply
    }

    public var description: String { "LMTP command refused: \(reply)" }
}
