import HomingLMTP

/// What a proxying node tells its destination about the original client with `XCLIENT`
/// (Dovecot's `smtp_client_connection_send_xclient`): the attributes, in Dovecot's order,
/// that the destination advertised.
public struct ProxyClientIdentity: Sendable, Hashable {
    /// `HELO=`: the client's LHLO name.
    public var helo: String?
    /// `SESSION=`: the transaction's id (with `:P<n>` per destination).
    public var session: String?
    /// `TTL=`: hops left (Dovecot: 5 from a first proxy, one less than received after that).
    public var ttl: Int
    /// `TIMEOUT=`: the timeout this node's own client (a proxy before it) announced, passed on
    /// as Dovecot does; `nil` when none did.
    public var timeout: Int?
    /// `PORT=` and `ADDR=`: the original client's port and address (none on a unix socket).
    public var port: Int?
    public var address: String?

    public init(helo: String?, session: String?, ttl: Int, timeout: Int? = nil, port: Int?, address: String?) {
        self.helo = helo
        self.session = session
        self.ttl = ttl
        self.timeout = timeout
        self.port = port
        self.address = address
    }

    /// Dovecot 2.3's `LMTP_PROXY_DEFAULT_TTL`.
    public static let defaultTTL = 5

    /// The TTL to pass on, given the one received (`nil`: none was).
    public static func outgoingTTL(received: Int?) -> Int {
        guard let received else { return defaultTTL }
        return max(0, received - 1)
    }

    /// The `XCLIENT` attributes (`NAME=xtext`) the destination accepts, given the arguments of
    /// its `XCLIENT` capability; `SESSION` is left out of ``comparable`` so that a pooled
    /// connection is not re-announced for every transaction.
    public func attributes(advertised: [String]) -> [String] {
        let accepted = Set(advertised.map { $0.uppercased() })
        var out: [String] = []
        func add(_ name: String, _ value: String?) {
            guard let value, accepted.contains(name) else { return }
            out.append("\(name)=\(Xtext.encode(value))")
        }
        add("HELO", helo)
        add("PROTO", "LMTP")
        add("SESSION", session)
        add("TTL", String(ttl))
        add("TIMEOUT", timeout.map(String.init))
        add("PORT", port.map(String.init))
        add("ADDR", address)
        return out
    }

    /// The attributes without `SESSION`, to tell whether a connection already carries them.
    public static func comparable(_ attributes: [String]) -> [String] {
        attributes.filter { !$0.hasPrefix("SESSION=") }
    }
}
