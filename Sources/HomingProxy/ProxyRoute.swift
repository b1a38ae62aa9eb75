import HomingLMTP
/// The protocol spoken to a proxy destination (`protocol=` passdb field).
public enum ProxyProtocol: String, Sendable, Hashable {
    /// LMTP (`LHLO`, one reply per recipient after the data): the default, port 24.
    case lmtp
    /// SMTP (`EHLO`, one reply for the whole message after the data): port 25.
    case smtp
}

/// Where a proxied recipient goes. Two recipients with equal destinations share one client
/// session in a transaction (Dovecot groups them by protocol, host, hostip, port and source_ip).
public struct ProxyDestination: Sendable, Hashable, CustomStringConvertible {
    /// `host`: a name or an IP address; used for connecting unless ``hostIP`` is set.
    public var host: String
    /// `hostip`: the IP address to connect to (normalised), when the passdb gave one.
    public var hostIP: String?
    /// `port` (default: the port the client connected to, else 24; `protocol=` sets 24 or 25).
    public var port: Int
    /// `protocol` (`lmtp` unless the passdb says `smtp`).
    public var proto: ProxyProtocol
    /// `source_ip`: the local address to connect from, when given.
    public var sourceIP: String?

    public init(host: String, hostIP: String? = nil, port: Int, proto: ProxyProtocol = .lmtp, sourceIP: String? = nil) {
        self.host = host
        self.hostIP = hostIP
        self.port = port
        self.proto = proto
        self.sourceIP = sourceIP
    }

    /// The address connected to: ``hostIP`` when given, else ``host``.
    public var connectHost: String { hostIP ?? host }

    public var description: String { "\(host):\(port)" }
}

/// A recipient's proxy decision, from its passdb fields.
public struct ProxyRoute: Sendable, Hashable {
    /// Where to relay.
    public var destination: ProxyDestination
    /// `proxy_timeout` in seconds (default 125, Dovecot 2.3's LMTP proxy default): for
    /// connecting and for each reply awaited from the destination.
    public var timeoutSeconds: Int
    /// `destuser` (or a `user` field) when it differs from the name looked up: the address
    /// sent in `RCPT TO` instead of the client's (the detail is put back).
    public var changedUser: String?
    /// `proxy_maybe` rather than `proxy`: deliver locally when the destination is this node.
    public var maybe: Bool
    /// `proxy_not_trusted`: send no XCLIENT to this destination.
    public var notTrusted: Bool
    /// The passdb's `forward_*` fields, sent as `XRCPTFORWARD=` to a destination that offers it.
    public var forwardFields: LMTPForwardFields?

    public init(
        destination: ProxyDestination, timeoutSeconds: Int = ProxyRoute.defaultTimeoutSeconds,
        changedUser: String? = nil, maybe: Bool = false, notTrusted: Bool = false,
        forwardFields: LMTPForwardFields? = nil
    ) {
        self.destination = destination
        self.timeoutSeconds = timeoutSeconds
        self.changedUser = changedUser
        self.maybe = maybe
        self.notTrusted = notTrusted
        self.forwardFields = forwardFields
    }

    /// Dovecot 2.3's `LMTP_PROXY_DEFAULT_TIMEOUT_MSECS` (125 s).
    public static let defaultTimeoutSeconds = 125
}
