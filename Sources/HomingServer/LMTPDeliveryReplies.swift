import HomingDelivery
import HomingLMTP

/// The LMTP replies for the delivery core's outcomes, byte for byte as Dovecot's `lmtp-local`
/// answers (this is the only place where delivery results become protocol text).
public enum LMTPDeliveryReplies {
    /// The reply for a recipient that was not, or cannot be, delivered to.
    ///
    /// | failure | reply |
    /// | --- | --- |
    /// | no such user | `550 5.1.1 <rcpt> User doesn't exist: <looked-up name>` |
    /// | mailbox full | `552 5.2.2 <rcpt> <quota_exceeded_message>` |
    /// | mailbox full, `quota_full_tempfail` | `452 4.2.2 <rcpt> <quota_exceeded_message>` |
    /// | message too large for the quota | `552 5.2.3 <rcpt> <message>` |
    /// | rejected by Sieve (`ereject`) | `550 5.7.1 <rcpt> <reason>` |
    /// | disk full | `452 4.3.1 <rcpt> Insufficient system storage` |
    /// | concurrency limit | `451 4.3.0 <rcpt> Too many concurrent deliveries for user` |
    /// | anything else temporary | `451 4.3.0 <rcpt> Temporary internal error` |
    public static func reply(for failure: DeliveryFailure, path: String) -> LMTPReply {
        switch failure {
        case .refused(.noSuchUser(let lookedUp)):
            return LMTPReply(550, "5.1.1", "<\(path)> User doesn't exist: \(lookedUp)")
        case .refused(.mailboxFull(let message)):
            return LMTPReply(552, "5.2.2", "<\(path)> \(message)")
        case .refused(.messageTooLarge(let message)):
            return LMTPReply(552, "5.2.3", "<\(path)> \(message)")
        case .refused(.rejected(let reason)):
            return LMTPReply(550, "5.7.1", "<\(path)> \(reason)")
        case .deferred(.mailboxFull(let message)):
            return LMTPReply(452, "4.2.2", "<\(path)> \(message)")
        case .deferred(.diskFull):
            return LMTPReply(452, "4.3.1", "<\(path)> Insufficient system storage")
        case .deferred(.concurrencyLimit):
            return LMTPReply(451, "4.3.0", "<\(path)> Too many concurrent deliveries for user")
        case .deferred(.userdbUnavailable), .deferred(.unusableUser), .deferred(.internalError):
            return LMTPReply(451, "4.3.0", "<\(path)> Temporary internal error")
        }
    }

    /// The end-of-data reply outcome for one recipient.
    public static func outcome(for outcome: DeliveryOutcome, path: String) -> LMTPDeliveryOutcome {
        switch outcome {
        case .stored: return .saved
        case .duplicate(let first): return .duplicate(ofRecipientAt: first)
        case .failed(let failure): return .failed(reply(for: failure, path: path))
        }
    }
}
