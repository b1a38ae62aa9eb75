import HomingLMTP
import HomingUserdb
import NIOCore

/// What a recipient's passdb fields say about proxying.
public enum ProxyFieldDecision: Sendable, Hashable {
    /// No `proxy` or `proxy_maybe` field: deliver locally.
    case notProxied
    /// Relay (or, for `proxy_maybe` to this node, deliver locally: see ``ProxySelfCheck``).
    case proxy(ProxyRoute)
    /// The fields ask for proxying but cannot be used (no `host`, a bad port...): the reason,
    /// for the log. The recipient is deferred with `451 4.3.0`, never delivered on the wrong node.
    case invalid(String)
}

/// Turns passdb fields into a ``ProxyFieldDecision``, as Dovecot 2.3's LMTP proxy reads them
/// (`lmtp_proxy_rcpt_parse_fields`): fields in order, a later one overriding an earlier one;
/// `protocol=lmtp`/`smtp` set port 24/25 unless a `port` came before; `user` and `destuser`
/// change the recipient sent on; `forward_<name>` fields are forwarded to the destination
/// (`XRCPTFORWARD=`); other fields (`nologin`, `reason`, `pass`...) are ignored, as Dovecot's
/// LMTP ignores them.
///
/// Deliberate difference: Dovecot delivers locally when the fields are unusable (it logs
/// `proxy: host not given` and falls through); Homing defers the recipient instead, because on
/// a front node "locally" is the wrong mail store.
public enum ProxyFieldParser {
    /// - Parameters:
    ///   - record: the passdb answer (its `user` is the passdb's user name).
    ///   - lookedUpName: the name the passdb was asked for (after `auth_username_format`).
    ///   - defaultPort: the port when neither `port` nor `protocol` says (Dovecot: the port
    ///     the client connected to).
    public static func parse(_ record: UserRecord, lookedUpName: String, defaultPort: Int) -> ProxyFieldDecision {
        var proxying = false
        var maybe = false
        var host: String?
        var hostIP: String?
        var sourceIP: String?
        var port = defaultPort
        var portSet = false
        var proto = ProxyProtocol.lmtp
        var timeout = ProxyRoute.defaultTimeoutSeconds
        var notTrusted = false
        var user = record.user
        for field in record.fields {
            let value = field.value
            switch field.name {
            case "proxy":
                proxying = true
            case "proxy_maybe":
                proxying = true
                maybe = true
            case "host":
                host = value
            case "hostip":
                guard let ip = normalizedIP(value) else { return .invalid("proxy: Invalid hostip \(value)") }
                hostIP = ip
            case "source_ip":
                guard let ip = normalizedIP(value) else { return .invalid("proxy: Invalid source_ip \(value)") }
                sourceIP = ip
            case "port":
                guard let number = Int(value), (1...65535).contains(number) else {
                    return .invalid("proxy: Invalid port number \(value)")
                }
                port = number
                portSet = true
            case "proxy_timeout":
                guard let seconds = Int(value), seconds > 0, seconds <= 24 * 3600 else {
                    return .invalid("proxy: Invalid proxy_timeout value \(value)")
                }
                timeout = seconds
            case "proxy_not_trusted":
                notTrusted = true
            case "protocol":
                switch value {
                case "lmtp":
                    proto = .lmtp
                    if !portSet { port = 24 }
                case "smtp":
                    proto = .smtp
                    if !portSet { port = 25 }
                default:
                    return .invalid("proxy: Unknown protocol \(value)")
                }
            case "ssl", "starttls":
                // Homing speaks no TLS; relaying in clear text what was meant to be encrypted
                // would be worse than deferring.
                return .invalid("proxy: \(field.name)=\(value) is not supported (Homing has no TLS)")
            case "user", "destuser":
                user = value
            default:
                continue
            }
        }
        guard proxying else { return .notProxied }
        guard let host, !host.isEmpty else { return .invalid("proxy: host not given") }
        if user.isEmpty { return .invalid("proxy: empty destuser") }
        let destination = ProxyDestination(host: host, hostIP: hostIP, port: port, proto: proto, sourceIP: sourceIP)
        return .proxy(
            ProxyRoute(
                destination: destination, timeoutSeconds: timeout, changedUser: user == lookedUpName ? nil : user,
                maybe: maybe, notTrusted: notTrusted,
                forwardFields: LMTPForwardFields.fromPassdb(record.fields.map { ($0.name, $0.value) })))
    }

    /// The canonical text of an IP address (`::ffff:127.0.0.1` is `127.0.0.1`), or `nil` when
    /// `text` is not one.
    public static func normalizedIP(_ text: String) -> String? {
        guard !text.isEmpty, let address = try? SocketAddress(ipAddress: text, port: 0),
            let canonical = address.ipAddress
        else { return nil }
        let mapped = "::ffff:"
        if canonical.lowercased().hasPrefix(mapped) {
            let rest = String(canonical.dropFirst(mapped.count))
            if rest.contains("."), (try? SocketAddress(ipAddress: rest, port: 0)) != nil { return rest }
        }
        return canonical
    }
}
