/// Why a relay to a proxy destination failed (the destination's own refusals are replies,
/// not errors). Every case is retryable: the recipients get `451 4.4.0`.
public enum LMTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name could not be resolved.
    case hostLookupFailed(String)
    /// The TCP connection could not be made.
    case connectFailed(String)
    /// The destination closed the connection or a read or write failed.
    case connectionLost(String)
    /// The destination answered something that is not an SMTP/LMTP reply, or not the reply
    /// expected (a greeting other than 220, a 421 at any time...).
    case badReply(String)
    /// No reply within `proxy_timeout`.
    case timedOut(String)

    /// The word Dovecot puts in `451 4.4.0 Proxy failed (<detail>session=...)`.
    public var dovecotDetail: String {
        switch self {
        case .hostLookupFailed: return "DNS lookup, "
        case .connectFailed: return "connect, "
        case .connectionLost: return "connection lost, "
        case .badReply: return "bad reply, "
        case .timedOut: return "timed out, "
        }
    }

    public var description: String {
        switch self {
        case .hostLookupFailed(let text), .connectFailed(let text), .connectionLost(let text), .badReply(let text),
            .timedOut(let text):
            return text
        }
    }
}
