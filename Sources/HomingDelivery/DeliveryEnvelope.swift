/// A message's envelope and where it came from, as the delivery core sees it: an LMTP
/// transaction, or (later) a command line. Nothing here is protocol-specific beyond the name
/// written into the `Received:` header.
public struct DeliveryEnvelope: Sendable, Hashable {
    /// The session's id (22 characters of base64 for LMTP): the `id` of the `Received:` header
    /// and the `session` of log lines.
    public var sessionID: String
    /// The envelope sender without brackets; empty for the null sender `<>`.
    public var sender: String
    /// The protocol the message arrived over, for `Received: ... with <protocol>` (`LMTP`).
    public var receivedProtocol: String
    /// The name the client gave (LHLO's argument), `nil` when it gave none.
    public var clientName: String?
    /// The client's IP address for TCP connections, `nil` on a unix socket.
    public var remoteIP: String?
    /// The local IP address for TCP connections, `nil` on a unix socket.
    public var localIP: String?

    /// Creates an envelope.
    public init(
        sessionID: String, sender: String, receivedProtocol: String = "LMTP", clientName: String? = nil,
        remoteIP: String? = nil, localIP: String? = nil
    ) {
        self.sessionID = sessionID
        self.sender = sender
        self.receivedProtocol = receivedProtocol
        self.clientName = clientName
        self.remoteIP = remoteIP
        self.localIP = localIP
    }
}

/// One envelope recipient as the client gave it.
public struct EnvelopeRecipient: Sendable, Hashable {
    /// The mailbox the message is for, as the client sent it (without a source route; a quoted
    /// local part unquoted): what is looked up, and what `Delivered-To:` shows.
    public var address: String
    /// The original recipient the client passed on (LMTP's `ORCPT=`), decoded, if any.
    public var originalAddress: String?
    /// The id that names this recipient in log lines (LMTP's reply id, `<session>:R2`).
    public var logID: String

    /// Creates a recipient.
    public init(address: String, originalAddress: String? = nil, logID: String) {
        self.address = address
        self.originalAddress = originalAddress
        self.logID = logID
    }
}

/// A recipient accepted for delivery: what the client asked for and who that is.
public struct AcceptedRecipient: Sendable {
    /// The recipient as given.
    public var recipient: EnvelopeRecipient
    /// The user it resolved to.
    public var user: DeliveryUser

    /// Pairs a recipient with its user.
    public init(recipient: EnvelopeRecipient, user: DeliveryUser) {
        self.recipient = recipient
        self.user = user
    }
}
