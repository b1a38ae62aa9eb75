/// One `key = value` line of a dovecot-sql.conf.ext / dovecot-ldap.conf.ext style file.
public struct ExtConfigEntry: Sendable, Hashable {
    /// The setting name as written.
    public var key: String
    /// The value: comments removed, continued lines joined, quotes removed.
    public var value: String
    /// Where the line is (for included files, the included file).
    public var location: ConfigLocation

    /// An entry for `key = value` at `location`.
    public init(key: String, value: String, location: ConfigLocation) {
        self.key = key
        self.value = value
        self.location = location
    }
}
