import HomingDelivery

/// What became of the message, in dovecot-lda's terms.
public enum LDAOutcome: Sendable, Hashable {
    /// Stored (or discarded by the user's Sieve script): exit 0.
    case delivered
    /// The user does not exist: exit 67 (EX_NOUSER).
    case noSuchUser
    /// Refused for good (a full mailbox without `quota_full_tempfail`, a message over
    /// `quota_max_mail_size`, a Sieve `ereject`): with `-e` the reason goes to standard error and
    /// the exit status is 77 (EX_NOPERM); without it a rejection is sent to the sender and the
    /// exit status is 0 (75 if it cannot be sent).
    case refused(reason: String, mailboxFull: Bool)
    /// Anything that may work later: exit 75 (EX_TEMPFAIL); with `-e` the reason also goes to
    /// standard error, so that the MTA can log it.
    case deferred(reason: String)
}

/// The exit statuses of `homing deliver`, dovecot-lda's (sysexits.h), and the one place where
/// delivery outcomes become them, as ``LMTPDeliveryReplies`` is for LMTP.
public enum LDAExitStatus {
    public static let ok: Int32 = 0
    /// EX_USAGE: a bad command line.
    public static let usage: Int32 = 64
    /// EX_NOUSER.
    public static let noUser: Int32 = 67
    /// EX_TEMPFAIL: Postfix defers the message.
    public static let temporaryFailure: Int32 = 75
    /// EX_NOPERM: `-e` and a permanent refusal: Postfix bounces the message with the reason.
    public static let refused: Int32 = 77
    /// EX_CONFIG.
    public static let configError: Int32 = 78

    /// The outcome of the one recipient's delivery.
    public static func outcome(for outcome: DeliveryOutcome) -> LDAOutcome {
        switch outcome {
        case .stored, .duplicate: return .delivered
        case .failed(let failure): return self.outcome(for: failure)
        }
    }

    /// The outcome of a failure, with the text dovecot-lda gives for it.
    public static func outcome(for failure: DeliveryFailure) -> LDAOutcome {
        switch failure {
        case .refused(.noSuchUser): return .noSuchUser
        case .refused(.mailboxFull(let message)): return .refused(reason: message, mailboxFull: true)
        case .refused(.messageTooLarge(let message)): return .refused(reason: message, mailboxFull: false)
        case .refused(.rejected(let reason)): return .refused(reason: reason, mailboxFull: false)
        case .deferred(.mailboxFull(let message)): return .deferred(reason: message)
        case .deferred(.diskFull): return .deferred(reason: "Not enough disk space")
        case .deferred(.concurrencyLimit): return .deferred(reason: "Too many concurrent deliveries for user")
        case .deferred(.userdbUnavailable), .deferred(.unusableUser), .deferred(.internalError):
            return .deferred(reason: "Temporary internal error")
        }
    }

    /// What `homing deliver` does for an outcome: its exit status (before any rejection is
    /// sent), the line for standard error, and whether a rejection goes to the sender.
    public static func action(for outcome: LDAOutcome, rejectionsToStandardError: Bool)
        -> (status: Int32, standardError: String?, sendsRejection: Bool)
    {
        switch outcome {
        case .delivered: return (ok, nil, false)
        case .noSuchUser: return (noUser, nil, false)
        case .deferred(let reason): return (temporaryFailure, rejectionsToStandardError ? reason : nil, false)
        case .refused(let reason, _):
            return rejectionsToStandardError ? (refused, reason, false) : (ok, nil, true)
        }
    }
}
