import HomingUserdb
import Testing

@testable import HomingProxy

@Suite("Proxy passdb fields")
struct ProxyFieldParserTests {
    private func parse(_ fields: [(String, String)], user: String = "bob@example.com", defaultPort: Int = 24)
        -> ProxyFieldDecision
    {
        ProxyFieldParser.parse(
            UserRecord(user: user, fields: fields.map { UserdbField($0.0, $0.1) }), lookedUpName: "bob@example.com",
            defaultPort: defaultPort)
    }

    @Test("no proxy or proxy_maybe field means local delivery, whatever else is there")
    func notProxied() {
        #expect(parse([("host", "10.0.0.2"), ("nologin", ""), ("reason", "moved")]) == .notProxied)
    }

    @Test("proxy with a host uses port, timeout and protocol defaults of Dovecot 2.3")
    func defaults() {
        let route = ProxyRoute(destination: ProxyDestination(host: "10.0.0.2", port: 2424))
        #expect(parse([("proxy", ""), ("host", "10.0.0.2")], defaultPort: 2424) == .proxy(route))
        #expect(route.timeoutSeconds == 125)
    }

    @Test("protocol=lmtp and protocol=smtp set ports 24 and 25 unless a port came first")
    func protocolPorts() {
        guard case .proxy(let lmtp) = parse([("proxy", ""), ("host", "h"), ("protocol", "lmtp")], defaultPort: 2424),
            case .proxy(let smtp) = parse([("proxy", ""), ("host", "h"), ("protocol", "smtp")]),
            case .proxy(let kept) = parse([("proxy", ""), ("host", "h"), ("port", "2525"), ("protocol", "smtp")]),
            case .proxy(let later) = parse([("proxy", ""), ("host", "h"), ("protocol", "smtp"), ("port", "2526")])
        else {
            Issue.record("not proxied")
            return
        }
        #expect(lmtp.destination.port == 24 && lmtp.destination.proto == .lmtp)
        #expect(smtp.destination.port == 25 && smtp.destination.proto == .smtp)
        #expect(kept.destination.port == 2525)
        #expect(later.destination.port == 2526)
    }

    @Test("hostip, source_ip, proxy_timeout, proxy_maybe and destuser are read")
    func allFields() {
        let decision = parse([
            ("proxy_maybe", ""), ("host", "node2.example.com"), ("hostip", "::ffff:127.0.0.2"), ("source_ip", "127.0.0.1"),
            ("port", "10024"), ("proxy_timeout", "7"), ("destuser", "robert@example.net"),
        ])
        let expected = ProxyRoute(
            destination: ProxyDestination(
                host: "node2.example.com", hostIP: "127.0.0.2", port: 10024, proto: .lmtp, sourceIP: "127.0.0.1"),
            timeoutSeconds: 7, changedUser: "robert@example.net", maybe: true)
        #expect(decision == .proxy(expected))
    }

    @Test("a destuser or user equal to the looked-up name is no change")
    func unchangedUser() {
        guard case .proxy(let route) = parse([("proxy", ""), ("host", "h"), ("destuser", "bob@example.com")]) else {
            Issue.record("not proxied")
            return
        }
        #expect(route.changedUser == nil)
        guard case .proxy(let changed) = parse([("proxy", ""), ("host", "h")], user: "robert@example.com") else {
            Issue.record("not proxied")
            return
        }
        #expect(changed.changedUser == "robert@example.com")
    }

    @Test("unusable fields are refused with a reason instead of being delivered on the wrong node")
    func invalid() {
        #expect(parse([("proxy", "")]) == .invalid("proxy: host not given"))
        #expect(parse([("proxy", ""), ("host", "h"), ("port", "0")]) == .invalid("proxy: Invalid port number 0"))
        #expect(parse([("proxy", ""), ("host", "h"), ("port", "x")]) == .invalid("proxy: Invalid port number x"))
        #expect(parse([("proxy", ""), ("host", "h"), ("hostip", "nohost")]) == .invalid("proxy: Invalid hostip nohost"))
        #expect(
            parse([("proxy", ""), ("host", "h"), ("proxy_timeout", "-1")]) == .invalid("proxy: Invalid proxy_timeout value -1"))
        #expect(parse([("proxy", ""), ("host", "h"), ("protocol", "imap")]) == .invalid("proxy: Unknown protocol imap"))
        if case .invalid = parse([("proxy", ""), ("host", "h"), ("ssl", "yes")]) {} else { Issue.record("ssl accepted") }
    }
}
