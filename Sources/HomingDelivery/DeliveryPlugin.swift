import HomingMaildir

/// Where one copy of a message is to be stored.
public struct StoreAction: Sendable, Hashable {
    /// The mailbox (`INBOX`, `lists`, `Archive/2026`).
    public var mailbox: String
    /// Maildir info flags for the stored file (`S` for \Seen...); empty stores into `new/`.
    public var flags: String
    /// Create the mailbox if it does not exist (`lda_mailbox_autocreate`, Sieve `:create`).
    public var create: Bool
    /// IMAP keywords (`$Label1`, `Work`) to store with the copy, as Dovecot stores them
    /// (letters in the file name, named in the folder's `dovecot-keywords`).
    public var keywords: [String]
    /// A header to store instead of the received one (Sieve's `editheader`); `nil` stores the
    /// message as received. The trace headers still come first.
    public var header: HeaderReplacement?

    public init(
        mailbox: String, flags: String = "", create: Bool = false, keywords: [String] = [],
        header: HeaderReplacement? = nil
    ) {
        self.mailbox = mailbox
        self.flags = flags
        self.create = create
        self.keywords = keywords
        self.header = header
    }
}

/// What is to become of one recipient's copy of the message.
public struct DeliveryPlan: Sendable {
    /// A recipient refused after the message was received (Sieve's `ereject`).
    public struct Rejection: Sendable, Hashable {
        /// What the recipient is answered.
        public var failure: DeliveryFailure
        /// Why, for the log line (`refused: <reason>`).
        public var reason: String

        /// Creates a rejection.
        public init(failure: DeliveryFailure, reason: String) {
            self.failure = failure
            self.reason = reason
        }
    }

    /// The copies to store, in order.
    public var actions: [StoreAction]
    /// Refuse the message for this recipient instead (nothing is stored).
    public var rejection: Rejection?
    /// Work to do only once every copy is stored (blocking; run on a delivery thread), such as
    /// recording Sieve's duplicate tracking: a delivery that fails with a 4xx is retried by
    /// the client and must then not look like a duplicate.
    public var afterStore: [@Sendable () -> Void] = []

    /// Creates a plan that stores `actions`.
    public init(actions: [StoreAction]) {
        self.actions = actions
    }
}

/// What plugins know about the message being delivered to one recipient.
public struct DeliveryMessage: Sendable {
    /// The spooled message (LF line ends) as the client sent it, without the trace headers.
    public var spool: SpooledMessage
    /// `message-id`, `subject`, `from` as found in the header (names lower-cased).
    public var headers: [String: String]
    /// The envelope.
    public var envelope: DeliveryEnvelope
    /// The trace headers this recipient's stored copies start with (`Return-Path`,
    /// `Delivered-To`, `Received`), which `spool` does not hold. Dovecot adds them to the mail
    /// before any plugin sees it, so a plugin that passes the message on (Sieve's `redirect`)
    /// sends them in front of `spool`, as ``DeliveryHeaders/forwardedText`` (without
    /// `Return-Path`): downstream loop detection counts them.
    public var traceHeaders: DeliveryHeaders

    public init(
        spool: SpooledMessage, headers: [String: String], envelope: DeliveryEnvelope, traceHeaders: DeliveryHeaders
    ) {
        self.spool = spool
        self.headers = headers
        self.envelope = envelope
        self.traceHeaders = traceHeaders
    }
}

/// A `mail_plugins` entry hooked into delivery: the seam the quota and Sieve plugins use.
/// Plugins report outcomes (``DeliveryFailure``), never protocol replies: the protocol layer
/// turns those into its own answers. Every hook has a default that changes nothing.
public protocol DeliveryPlugin: Sendable {
    /// The name in `mail_plugins` (`quota`, `sieve`).
    var name: String { get }

    /// At RCPT time, after the userdb lookup: a failure refuses or defers the recipient
    /// (quota's `lmtp_rcpt_check_quota`), `nil` lets it through.
    func checkRecipient(_ recipient: EnvelopeRecipient, user: DeliveryUser) async -> DeliveryFailure?

    /// Decides where the message goes for this user. `plan` is what earlier plugins decided,
    /// starting with the user's default mailbox; no actions stores nothing (Sieve's `discard`),
    /// a rejection answers the recipient with that failure instead (Sieve's `ereject`).
    func plan(
        _ plan: DeliveryPlan, for user: DeliveryUser, recipient: EnvelopeRecipient, message: DeliveryMessage
    ) async -> DeliveryPlan

    /// Stores one copy: call `store` to write it (through the plugins after this one), or do
    /// not, and return a failure. Runs blocking on a delivery thread, never on an event
    /// loop; plugins wrap each other in `mail_plugins` order. The quota plugin checks and
    /// accounts here, around the write, under the user's `maildirsize` lock. `size` is the size
    /// the copy will have (`S=`: the trace headers, the header as edited, the body). Work for
    /// after every copy is stored goes in
    /// ``DeliveryPlan/afterStore``.
    func storeCopy(
        _ action: StoreAction, size: Int, for user: DeliveryUser, recipient: EnvelopeRecipient,
        store: () throws(StoreFailure) -> StoreCopyOutcome
    ) throws(StoreFailure) -> StoreCopyOutcome
}

extension DeliveryPlugin {
    public func checkRecipient(_ recipient: EnvelopeRecipient, user: DeliveryUser) async -> DeliveryFailure? { nil }

    public func plan(
        _ plan: DeliveryPlan, for user: DeliveryUser, recipient: EnvelopeRecipient, message: DeliveryMessage
    ) async -> DeliveryPlan { plan }

    public func storeCopy(
        _ action: StoreAction, size: Int, for user: DeliveryUser, recipient: EnvelopeRecipient,
        store: () throws(StoreFailure) -> StoreCopyOutcome
    ) throws(StoreFailure) -> StoreCopyOutcome {
        try store()
    }
}

/// What became of one copy a plugin was asked to store.
public enum StoreCopyOutcome: Sendable {
    /// Written durably.
    case stored(StoredMail)
    /// Not written (quota exceeded): the recipient gets `failure`. `reason` is for the log line
    /// (`save failed to INBOX: <reason>`).
    case notStored(DeliveryFailure, reason: String)
}

/// Why one copy could not be written at all.
public enum StoreFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The folder does not exist (and was not to be created), or its name cannot be a folder:
    /// the copy falls back to INBOX.
    case missingMailbox(String)
    /// The disk or the file system quota is full.
    case diskFull(String)
    /// Anything else (permissions, I/O errors, a lock that could not be taken).
    case failed(String)

    public var description: String {
        switch self {
        case .missingMailbox(let text), .diskFull(let text), .failed(let text): return text
        }
    }

    /// What the recipient is answered when its copy could not be written.
    public var deliveryFailure: DeliveryFailure {
        if case .diskFull = self { return .deferred(.diskFull) }
        return .deferred(.internalError)
    }
}
