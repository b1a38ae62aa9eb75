/// The conditions under which a sender asked for a delivery status notification about one
/// recipient (RFC 3461 `NOTIFY=`): any of success, failure and delay; the empty set is `NEVER`.
public struct NotifyConditions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// `SUCCESS`: report the delivery (the final delivery agent sends a "delivered" DSN).
    public static let success = NotifyConditions(rawValue: 1)
    /// `FAILURE`: report a failure (the MTA in front bounces on a 5xx reply).
    public static let failure = NotifyConditions(rawValue: 2)
    /// `DELAY`: report a delay (the MTA in front reports its own retries).
    public static let delay = NotifyConditions(rawValue: 4)
}

/// How much of the message a delivery status notification returns (RFC 3461 `RET=`).
public enum NotificationReturn: String, Sendable, Hashable {
    /// `RET=FULL`: the whole message (RFC 3461 asks for it only in failure reports).
    case full = "FULL"
    /// `RET=HDRS`: the header only.
    case headers = "HDRS"
}

/// Told of each copy stored for a recipient whose sender asked `NOTIFY=SUCCESS`, while the
/// spooled message is still readable: the hook through which the "delivered" delivery status
/// notification a final delivery agent owes the sender (RFC 3461 section 5.2.2) is sent. Runs after the copies are stored; a failure
/// to notify never changes the delivery's outcome.
public protocol DeliveryNotifier: Sendable {
    /// The message was delivered to `recipient` (stored into `mailboxes`, none when a Sieve
    /// script discarded it: the message was still accepted for good).
    func delivered(
        _ message: DeliveryMessage, to recipient: EnvelopeRecipient, user: DeliveryUser, mailboxes: [String]
    ) async
}
