/// Why a vacation action sends nothing (RFC 5230 section 4.5/4.6, RFC 3834 section 2).
public enum SieveVacationSkipReason: Sendable, Hashable, CustomStringConvertible {
    /// The envelope sender is `<>`: the message is a bounce or another automatic message.
    case nullSender
    /// The sender is a system address (`MAILER-DAEMON`, `LISTSERV`, `majordomo`, `owner-*`,
    /// `*-request*`).
    case systemAddress(String)
    /// The sender is one of the user's own addresses.
    case ownAddress(String)
    /// The message has `Auto-Submitted` with a value other than `no`.
    case autoSubmitted(String)
    /// The message has `Precedence: bulk`, `list` or `junk`.
    case precedence(String)
    /// The message has a mailing list header (`List-Id`, `List-Post`...).
    case mailingList(header: String)
    /// None of the user's addresses is in `To`, `Cc`, `Bcc`, `Resent-To` or `Resent-Cc`.
    case notAddressed(recipient: String)
    /// A response with the same handle went to this sender within the period.
    case alreadyReplied(String)

    /// A sentence for the log, in Pigeonhole's words where it has them.
    public var description: String {
        switch self {
        case .nullSender:
            return "discarding vacation response to message with null sender <>"
        case .systemAddress(let sender):
            return "discarding vacation response to message from <\(sender)> (system address)"
        case .ownAddress(let sender):
            return "discarded vacation reply to own address <\(sender)>"
        case .autoSubmitted(let value):
            return "discarding vacation response to auto-submitted message (Auto-Submitted: \(value))"
        case .precedence(let value):
            return "discarding vacation response to precedence=\(value) message"
        case .mailingList(let header):
            return "discarding vacation response to mailinglist message (\(header) header)"
        case .notAddressed(let recipient):
            return "discarding vacation response for implicitly delivered message; "
                + "no known (envelope) recipient address found in message headers (recipient=<\(recipient)>)"
        case .alreadyReplied(let sender):
            return "discarded duplicate vacation response to <\(sender)>"
        }
    }
}

/// Whether to answer a message with a vacation reply.
public enum SieveVacationDecision: Sendable, Hashable {
    /// Reply to this address (the envelope sender), unless the tracking store says a reply was
    /// already sent within the period (see `SieveVacationResponder.trackingKey`).
    case respond(to: String)
    /// Send nothing, for this reason.
    case skip(SieveVacationSkipReason)
}

/// The result of `SieveVacationResponder.prepare`.
public enum SieveVacationOutcome: Sendable, Hashable {
    /// Submit `mail`; after success record `trackingKey` for the request's period.
    case send(SieveOutgoingMail, trackingKey: String)
    /// Send nothing; log the reason.
    case skip(SieveVacationSkipReason)
}
