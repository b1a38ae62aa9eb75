/// What a trusted proxy says about the original client with `XCLIENT` (Postfix's
/// XCLIENT_README, as Dovecot 2.3's LMTP server reads it). `nil` is "not given" (or given as
/// `[UNAVAILABLE]`): the connection keeps what it had.
public struct LMTPXClientAttributes: Sendable, Hashable {
    /// `ADDR=`: the client's IP address, in canonical text (`192.0.2.7`, `2001:db8::1`).
    public var address: String?
    /// `PORT=`: the client's port (1 to 65535).
    public var port: Int?
    /// `HELO=`: the name the client greeted the proxy with (a domain or an address literal);
    /// becomes the `from` of the Received header until the next LHLO.
    public var helo: String?
    /// `LOGIN=`: the name the client authenticated as (kept, not used for delivery).
    public var login: String?
    /// `SESSION=`: the proxy's session id; Homing continues under it, so that the ids in
    /// replies, Received headers and logs of both hops match.
    public var session: String?
    /// `PROTO=`: `SMTP`, `ESMTP` or `LMTP` (checked; Dovecot does not use it for delivery either).
    public var proto: String?
    /// `TTL=`: how many more proxy hops are allowed.
    public var ttl: Int?
    /// `TIMEOUT=`: the proxy's timeout in seconds: lock waits of this connection's deliveries
    /// stay below it, and a proxying node passes it on (as Dovecot's lmtp does).
    public var timeout: Int?

    public init(
        address: String? = nil, port: Int? = nil, helo: String? = nil, login: String? = nil,
        session: String? = nil, proto: String? = nil, ttl: Int? = nil, timeout: Int? = nil
    ) {
        self.address = address
        self.port = port
        self.helo = helo
        self.login = login
        self.session = session
        self.proto = proto
        self.ttl = ttl
        self.timeout = timeout
    }

    /// The attribute names offered in the LHLO reply to a trusted client, in Dovecot's order.
    public static let advertised = ["ADDR", "PORT", "PROTO", "HELO", "LOGIN", "SESSION", "TTL", "TIMEOUT"]

    /// The LHLO capability line: `XCLIENT ADDR PORT PROTO HELO LOGIN SESSION TTL TIMEOUT`.
    public static let capability = "XCLIENT " + advertised.joined(separator: " ")

    /// The longest `SESSION=` accepted; the id goes into replies and headers.
    public static let maximumSessionLength = 128
}
