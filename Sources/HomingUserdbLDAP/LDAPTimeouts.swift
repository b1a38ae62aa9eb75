/// How long the `ldap` driver waits. Dovecot 2.3 has no settings for these (it waits 5 seconds
/// to connect); Homing uses the same connect time and bounds every request as well, so that a
/// server that accepts connections but does not answer gives a temporary failure quickly.
public struct LDAPTimeouts: Sendable, Hashable {
    /// Connecting to one server of `uris` (libldap's network timeout), in seconds.
    public var connect: Int
    /// A bind or a user lookup: the client waits this long, and the server is asked to give up
    /// after it (the search time limit), in seconds.
    public var request: Int
    /// Listing all users (`iterate_filter`), in seconds.
    public var iteration: Int

    public init(connect: Int = 5, request: Int = 10, iteration: Int = 60) {
        self.connect = connect
        self.request = request
        self.iteration = iteration
    }
}
