/// Which database a driver answers for: a `userdb { }` block (the user's delivery fields) or a
/// `passdb { }` block (Dovecot's passdb fields, looked up for LMTP proxying; no password is
/// checked). The same drivers serve both; each reads its role from ``UserdbDriverContext/role``.
public enum DatabaseRole: String, Sendable, Hashable {
    case userdb
    case passdb
}
