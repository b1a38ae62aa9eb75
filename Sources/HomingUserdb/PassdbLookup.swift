/// A passdb as LMTP proxying uses it (Dovecot's `lmtp_proxy = yes`): a lookup of the
/// recipient's passdb fields only (`proxy`, `proxy_maybe`, `host`, `hostip`, `port`,
/// `destuser`, `proxy_timeout`, `source_ip`, `nologin`, `reason`...). LMTP is unauthenticated,
/// so no password is ever checked; a `password` field, when the back end returns one, is
/// dropped before the record leaves the lookup.
///
/// The answer has the shape of a userdb answer: ``UserdbResult/found(_:)`` with the fields in
/// the order the passdb gave them (its `user` is the possibly changed user name),
/// ``UserdbResult/notFound``, or ``UserdbResult/temporaryFailure(reason:)`` (LMTP 451).
public protocol PassdbLookup: Sendable {
    /// Looks the recipient's passdb fields up.
    func lookupPassdb(_ request: UserdbRequest) async -> UserdbResult
    /// Releases connections and threads. Called once at shutdown.
    func shutdown() async
}
