import HomingMaildir
import HomingUserdb

/// A recipient resolved for delivery: who the user is, as whom to write, and where.
public struct DeliveryUser: Sendable, Hashable {
    /// The user name the userdb returned (`%u` for this user).
    public var user: String
    /// Every userdb field (uid, gid, home, mail, quota_rule, extras).
    public var record: UserRecord
    /// The identity to write files as; `nil` writes as the Homing process itself
    /// (only when Homing does not run as root).
    public var identity: FilesystemIdentity?
    /// The user's home, when the userdb gave one.
    public var home: String?
    /// The `mail_location` (or userdb `mail`) with `%` variables expanded, as configured.
    public var mailLocationText: String
    /// The parsed mail location.
    public var mailLocation: MailLocation
    /// The recipient's detail (`lists` for `alice+lists@`), if any.
    public var detail: String?
    /// Where the message goes unless a plugin decides otherwise: `INBOX`, or the detail
    /// folder with `lmtp_save_to_detail_mailbox = yes`.
    public var mailbox: String
    /// The recipient's place in `lmtp_user_concurrency_limit`, when a limit is set: held while
    /// this value (the accepted recipient) lives. Set by ``LocalDelivery/checkRecipient(_:envelope:)``.
    public var concurrencyReservation: UserDeliveryReservation?
    /// The longest a lock may be waited for in this delivery (seconds), from
    /// ``DeliveryEnvelope/lockTimeoutLimit``; `nil`: `mail_max_lock_timeout` alone. Set by
    /// ``LocalDelivery/checkRecipient(_:envelope:)``.
    public var lockTimeoutLimit: Int?

    public init(
        user: String, record: UserRecord, identity: FilesystemIdentity?, home: String?,
        mailLocationText: String, mailLocation: MailLocation, detail: String?, mailbox: String
    ) {
        self.user = user
        self.record = record
        self.identity = identity
        self.home = home
        self.mailLocationText = mailLocationText
        self.mailLocation = mailLocation
        self.detail = detail
        self.mailbox = mailbox
    }
}
