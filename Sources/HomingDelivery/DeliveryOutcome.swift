/// Why a recipient is refused for good: the client must not retry (a 5xx in LMTP).
public enum RefusalReason: Sendable, Hashable, CustomStringConvertible {
    /// The userdb does not know the user. `lookedUp` is the address without its detail, case
    /// as sent (`alice@example.com` for `Alice+news@example.com`... case kept).
    case noSuchUser(lookedUp: String)
    /// The user's quota is full (`message` is `quota_exceeded_message`).
    case mailboxFull(message: String)
    /// The message is larger than `quota_max_mail_size` allows (`message` is the storage's
    /// explanation, which the reply carries).
    case messageTooLarge(message: String)
    /// A Sieve script rejected the message at protocol level (`ereject`), with this reason: one
    /// line of printable ASCII.
    case rejected(reason: String)

    public var description: String {
        switch self {
        case .noSuchUser(let name): return "user doesn't exist: \(name)"
        case .mailboxFull(let message): return "mailbox full: \(message)"
        case .messageTooLarge(let message): return "message too large: \(message)"
        case .rejected(let reason): return "rejected: \(reason)"
        }
    }
}

/// Why a recipient could not be delivered to now: the client should retry (a 4xx in LMTP).
public enum DeferralReason: Sendable, Hashable, CustomStringConvertible {
    /// The userdb could not answer (down, timed out).
    case userdbUnavailable
    /// The userdb answered with values delivery cannot use (a uid not permitted, a relative
    /// home, a mail location that does not parse...), or the configuration lacks one.
    case unusableUser
    /// The quota is full and `quota_full_tempfail = yes` makes that temporary.
    case mailboxFull(message: String)
    /// The disk or the file system quota is full.
    case diskFull
    /// `lmtp_user_concurrency_limit` deliveries to the user are already running.
    case concurrencyLimit
    /// Anything else that may work on the next try (an I/O error, a failed spool).
    case internalError

    public var description: String {
        switch self {
        case .userdbUnavailable: return "userdb unavailable"
        case .unusableUser: return "unusable userdb data"
        case .mailboxFull(let message): return "mailbox full (temporary): \(message)"
        case .diskFull: return "disk full"
        case .concurrencyLimit: return "too many concurrent deliveries"
        case .internalError: return "temporary internal error"
        }
    }
}

/// Why a recipient was not delivered to: for good, or for now.
public enum DeliveryFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// Permanent: do not retry.
    case refused(RefusalReason)
    /// Temporary: retry later.
    case deferred(DeferralReason)

    /// Whether the client should retry.
    public var isTemporary: Bool {
        if case .deferred = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .refused(let reason): return "\(reason)"
        case .deferred(let reason): return "\(reason)"
        }
    }
}

/// The answer to "may this recipient be delivered to?" (LMTP's RCPT).
public enum RecipientVerdict: Sendable {
    /// Yes: this is the user.
    case accepted(DeliveryUser)
    /// No, for this reason.
    case failed(DeliveryFailure)
}

/// What became of one accepted recipient's copy of a message.
public enum DeliveryOutcome: Sendable, Hashable {
    /// Stored durably (fsynced, in `new/` or `cur/`) in these mailboxes; empty when the user's
    /// Sieve script discarded the message. Either way the recipient is done.
    case stored(mailboxes: [String])
    /// The recipient is identical to the one at this (earlier) position of the list, which got
    /// the message (`LocalDelivery.duplicates(in:)`): nothing more was stored, and it is answered
    /// as that recipient is.
    case duplicate(ofRecipientAt: Int)
    /// Not delivered.
    case failed(DeliveryFailure)
}
