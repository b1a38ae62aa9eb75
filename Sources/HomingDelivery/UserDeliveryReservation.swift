/// One accepted recipient's place in `lmtp_user_concurrency_limit`, taken at RCPT (as Dovecot
/// counts through anvil from RCPT to the end of the transaction) and given back when the last
/// copy of the ``DeliveryUser`` holding it goes: after the delivery, at RSET, or when the
/// session ends. Two sessions therefore cannot both pass the limit at RCPT and then deliver.
///
/// It carries no part of the user's identity: any two compare equal and it adds nothing to a
/// hash, so a ``DeliveryUser`` compares as it did without it.
public final class UserDeliveryReservation: Sendable, Hashable {
    private let release: @Sendable () -> Void

    init(release: @escaping @Sendable () -> Void) {
        self.release = release
    }

    deinit { release() }

    public static func == (lhs: UserDeliveryReservation, rhs: UserDeliveryReservation) -> Bool { true }

    public func hash(into hasher: inout Hasher) {}
}
