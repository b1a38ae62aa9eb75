import HomingLMTP
import HomingMaildir

/// Where one copy of a message is to be stored.
public struct StoreAction: Sendable, Hashable {
    /// The mailbox (`INBOX`, `lists`, `Archive/2026`).
    public var mailbox: String
    /// Maildir info flags for the stored file (`S` for \Seen...); empty stores into `new/`.
    public var flags: String
    /// Create the mailbox if it does not exist (`lda_mailbox_autocreate`, Sieve `:create`).
    public var create: Bool

    public init(mailbox: String, flags: String = "", create: Bool = false) {
        self.mailbox = mailbox
        self.flags = flags
        self.create = create
    }
}

/// What is to become of one recipient's copy of the message.
public struct DeliveryPlan: Sendable {
    /// The copies to store, in order.
    public var actions: [StoreAction]
    /// Refuse the message for this recipient instead (nothing is stored).
    public var refusal: DeliveryRefusal?
    /// Work to do only once every copy is stored (blocking; run on a delivery thread), such as
    /// recording Sieve's duplicate tracking: a delivery that fails with a 4xx is retried by
    /// the client and must then not look like a duplicate.
    public var afterStore: [@Sendable () -> Void] = []

    /// Creates a plan that stores `actions`.
    public init(actions: [StoreAction]) {
        self.actions = actions
    }
}

/// A recipient refused after the message was received (Sieve's `ereject`).
public struct DeliveryRefusal: Sendable, Hashable {
    /// The reply for the recipient.
    public var reply: LMTPReply
    /// Why, for the log line.
    public var reason: String

    /// Creates a refusal.
    public init(reply: LMTPReply, reason: String) {
        self.reply = reply
        self.reason = reason
    }
}

/// What plugins know about the message being delivered.
public struct DeliveryMessage: Sendable {
    /// The spooled message (LF line ends), without Homing's trace headers.
    public var spool: SpooledMessage
    /// `Message-ID`, `Subject`, `From` as found in the header.
    public var headers: [String: String]
    /// The envelope.
    public var transaction: LMTPTransactionContext

    public init(spool: SpooledMessage, headers: [String: String], transaction: LMTPTransactionContext) {
        self.spool = spool
        self.headers = headers
        self.transaction = transaction
    }
}

/// A `mail_plugins` entry hooked into delivery: the seam the quota and Sieve plugins use.
/// Every hook has a default that changes nothing.
public protocol DeliveryPlugin: Sendable {
    /// The name in `mail_plugins` (`quota`, `sieve`).
    var name: String { get }

    /// At RCPT time, after the userdb lookup: a reply refuses the recipient
    /// (quota's `lmtp_rcpt_check_quota`), `nil` lets it through.
    func checkRecipient(_ recipient: LMTPRecipient, user: DeliveryUser) async -> LMTPReply?

    /// Decides where the message goes for this user. `plan` is what earlier plugins decided,
    /// starting with the user's default mailbox; no actions stores nothing (Sieve's `discard`),
    /// a refusal answers the recipient with that reply instead (Sieve's `ereject`).
    func plan(
        _ plan: DeliveryPlan, for user: DeliveryUser, recipient: LMTPRecipient, message: DeliveryMessage
    ) async -> DeliveryPlan

    /// Stores one copy: call `store` to write it (through the plugins after this one), or do
    /// not, and refuse with a reply. Runs blocking on a delivery thread, never on an event
    /// loop; plugins wrap each other in `mail_plugins` order. The quota plugin checks and
    /// accounts here, around the write, under the user's `maildirsize` lock. `size` is the size
    /// the copy will have (`S=`). Work for after every copy is stored goes in
    /// ``DeliveryPlan/afterStore``.
    func storeCopy(
        _ action: StoreAction, size: Int, for user: DeliveryUser, recipient: LMTPRecipient,
        store: () throws(MaildirStoreFailure) -> StoreCopyOutcome
    ) throws(MaildirStoreFailure) -> StoreCopyOutcome
}

extension DeliveryPlugin {
    public func checkRecipient(_ recipient: LMTPRecipient, user: DeliveryUser) async -> LMTPReply? { nil }

    public func plan(
        _ plan: DeliveryPlan, for user: DeliveryUser, recipient: LMTPRecipient, message: DeliveryMessage
    ) async -> DeliveryPlan { plan }

    public func storeCopy(
        _ action: StoreAction, size: Int, for user: DeliveryUser, recipient: LMTPRecipient,
        store: () throws(MaildirStoreFailure) -> StoreCopyOutcome
    ) throws(MaildirStoreFailure) -> StoreCopyOutcome {
        try store()
    }
}

/// What became of one copy a plugin was asked to store.
public enum StoreCopyOutcome: Sendable {
    /// Written durably.
    case stored(StoredMail)
    /// Refused with this reply (quota exceeded); nothing was written. `reason` is for the log
    /// line (`save failed to INBOX: <reason>`).
    case refused(LMTPReply, reason: String)
}
