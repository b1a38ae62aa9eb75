/// A message's envelope and where it came from, as the delivery core sees it: an LMTP
/// transaction, or a command line (`homing deliver`). Nothing here is protocol-specific beyond
/// the name written into the `Received:` header and the sender's delivery status notification
/// request (RFC 3461's `RET=` and `ENVID=`, which any front end may pass on).
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
    /// Whether each stored copy starts with the trace headers (`Return-Path`, `Delivered-To`,
    /// `Received`), as Dovecot's LMTP server writes them. `false` for `homing deliver`: like
    /// dovecot-lda it adds none (the MTA's `local` or `pipe` agent has added its own).
    public var addsTraceHeaders: Bool
    /// What a delivery status notification should return of the message (RFC 3461 `RET=`),
    /// `nil` when the sender did not say.
    public var notificationReturn: NotificationReturn?
    /// The sender's envelope id (RFC 3461 `ENVID=`, xtext decoded), quoted in notifications.
    public var envelopeID: String?
    /// The longest a lock may be waited for (seconds) in this delivery, below
    /// `mail_max_lock_timeout`: a proxy's `XCLIENT TIMEOUT=N` makes it N-1 (at least 1), as
    /// Dovecot's lmtp does, so that a copy does not end after the proxy gave up; `nil`: no such
    /// limit.
    public var lockTimeoutLimit: Int?

    /// Creates an envelope.
    public init(
        sessionID: String, sender: String, receivedProtocol: String = "LMTP", clientName: String? = nil,
        remoteIP: String? = nil, localIP: String? = nil, addsTraceHeaders: Bool = true,
        notificationReturn: NotificationReturn? = nil, envelopeID: String? = nil, lockTimeoutLimit: Int? = nil
    ) {
        self.sessionID = sessionID
        self.sender = sender
        self.receivedProtocol = receivedProtocol
        self.clientName = clientName
        self.remoteIP = remoteIP
        self.localIP = localIP
        self.addsTraceHeaders = addsTraceHeaders
        self.notificationReturn = notificationReturn
        self.envelopeID = envelopeID
        self.lockTimeoutLimit = lockTimeoutLimit
    }
}

/// One envelope recipient as the client gave it.
public struct EnvelopeRecipient: Sendable, Hashable {
    /// The mailbox the message is for, as the client sent it (without a source route; a quoted
    /// local part unquoted): what is looked up, and what `Delivered-To:` shows.
    public var address: String
    /// The original recipient the client passed on (LMTP's `ORCPT=`, dovecot-lda's `-a`),
    /// decoded, if any.
    public var originalAddress: String?
    /// The address type of ``originalAddress`` (`rfc822`, `utf-8`), for notifications; `nil`
    /// means `rfc822`.
    public var originalAddressType: String?
    /// The id that names this recipient in log lines (LMTP's reply id, `<session>:R2`).
    public var logID: String
    /// When the sender wants to hear about this recipient (RFC 3461 `NOTIFY=`): `nil` when not
    /// said, an empty set for `NEVER`.
    public var notify: NotifyConditions?

    /// Creates a recipient.
    public init(
        address: String, originalAddress: String? = nil, logID: String, originalAddressType: String? = nil,
        notify: NotifyConditions? = nil
    ) {
        self.address = address
        self.originalAddress = originalAddress
        self.originalAddressType = originalAddressType
        self.logID = logID
        self.notify = notify
    }

    /// The original recipient when there is one, else the address: what Dovecot calls the
    /// original recipient (`ORCPT`, falling back to the RCPT address) in `Delivered-To` with
    /// `lmtp_hdr_delivery_address = original`, Sieve's `orig_to` and `%{to_envelope}` of
    /// `deliver_log_format`.
    public var originalOrFinalAddress: String { originalAddress ?? address }
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
