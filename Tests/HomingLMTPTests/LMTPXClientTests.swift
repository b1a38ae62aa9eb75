import NIOCore
import Testing

@testable import HomingLMTP

/// The reply refusing `XCLIENT <arguments>`, or nil when they parse.
private func xclientRefusal(_ arguments: String) -> String? {
    switch LMTPXClientParser.parse(arguments) {
    case .success: return nil
    case .failure(let error): return error.reply.description
    }
}

private func xclient(_ arguments: String) -> LMTPXClientAttributes? {
    try? LMTPXClientParser.parse(arguments).get()
}

@Suite("XCLIENT: parsing, as Dovecot 2.3's LMTP server reads it")
struct LMTPXClientParserTests {
    @Test("the attributes a Dovecot proxy sends are read; keywords are case-insensitive, values xtext")
    func dovecotProxyAttributes() {
        let attributes = xclient("ADDR=192.0.2.7 PORT=4321 PROTO=LMTP HELO=client.example.org SESSION=abc:P1 TTL=4 TIMEOUT=125")
        #expect(
            attributes
                == LMTPXClientAttributes(
                    address: "192.0.2.7", port: 4321, helo: "client.example.org", session: "abc:P1", proto: "LMTP", ttl: 4,
                    timeout: 125))
        #expect(xclient("addr=10.0.0.1 port=+32+35")?.port == 25)
        #expect(xclient("Proto=esmtp")?.proto == "ESMTP")
        #expect(xclient("LOGIN=alice+40example.com")?.login == "alice@example.com")
    }

    @Test("IPv6 in every form Dovecot takes becomes canonical text; IPv4 must be a dotted quad")
    func addresses() {
        #expect(xclient("ADDR=IPV6:2001:DB8:0:0::1")?.address == "2001:db8::1")
        #expect(xclient("ADDR=ipv6:::1")?.address == "::1")
        #expect(xclient("ADDR=[::1]")?.address == "::1")
        #expect(xclient("ADDR=2001:db8::7")?.address == "2001:db8::7")
        #expect(xclientRefusal("ADDR=IPV6:1.2.3.4") == "501 5.5.4 Invalid ADDR parameter")
        #expect(xclientRefusal("ADDR=fe80::1%eth0") == "501 5.5.4 Invalid ADDR parameter")
        #expect(xclientRefusal("ADDR=mail.example.com") == "501 5.5.4 Invalid ADDR parameter")
        #expect(xclientRefusal("ADDR=1.2.3") == "501 5.5.4 Invalid ADDR parameter")
        #expect(xclientRefusal("ADDR=[1.2.3.4]") == "501 5.5.4 Invalid ADDR parameter")
        #expect(xclientRefusal("ADDR") == "501 5.5.4 Invalid ADDR parameter")
    }

    @Test("[UNAVAILABLE] (any case) leaves an attribute unset; no arguments at all is accepted")
    func unavailable() {
        #expect(xclient("ADDR=[UNAVAILABLE] PORT=[unavailable] HELO=[UNAVAILABLE] LOGIN=[UNAVAILABLE]") == LMTPXClientAttributes())
        #expect(xclient("") == LMTPXClientAttributes())
        #expect((try? LMTPXClientParser.parse(nil as [UInt8]?).get()) == LMTPXClientAttributes())
    }

    @Test("unknown attributes are ignored, as Dovecot 2.3 ignores them without xclient_extensions")
    func unknownIgnored() {
        #expect(xclient("NAME=client.example.org DESTADDR=10.0.0.2 FOO=bar X-Y=1 ADDR=10.1.1.1") == LMTPXClientAttributes(address: "10.1.1.1"))
        #expect(xclient("FOO") == LMTPXClientAttributes())
    }

    @Test("an invalid HELO name is ignored, as Dovecot 2.3.19 does; domains and address literals are kept")
    func heloNames() {
        #expect(xclient("HELO=..bad")?.helo == nil)
        #expect(xclient("HELO=[192.0.2.1]")?.helo == "[192.0.2.1]")
        #expect(xclient("HELO=mx-1.example.net")?.helo == "mx-1.example.net")
    }

    @Test(
        "malformed XCLIENT arguments get Dovecot's exact 501 replies",
        arguments: [
            ("ADDR=1.2.3.4  PORT=5", "501 5.5.4 Invalid parameter: Parameter is empty"),
            ("=x", "501 5.5.4 Invalid parameter: Unexpected character in parameter keyword"),
            ("A_B=1", "501 5.5.4 Invalid parameter: Unexpected character in parameter keyword"),
            ("a=b=c", "501 5.5.4 Invalid parameter: Unexpected character in parameter value"),
            ("PORT=0", "501 5.5.4 Invalid PORT parameter"),
            ("PORT=65536", "501 5.5.4 Invalid PORT parameter"),
            ("PORT=", "501 5.5.4 Invalid PORT parameter"),
            ("PORT=+3X", "501 5.5.4 Invalid PORT parameter: Invalid hexchar after '+' in xtext"),
            ("PORT=+3", "501 5.5.4 Invalid PORT parameter: Invalid hexchar after '+' in xtext"),
            ("ADDR=+00", "501 5.5.4 Invalid ADDR parameter: Encountered NUL character in xtext"),
            ("TTL=-1", "501 5.5.4 Invalid TTL parameter"),
            ("TTL=", "501 5.5.4 Invalid TTL parameter"),
            ("TTL=4294967296", "501 5.5.4 Invalid TTL parameter"),
            ("TIMEOUT=x", "501 5.5.4 Invalid TIMEOUT parameter"),
            ("PROTO=foo", "501 5.5.4 Invalid PROTO parameter"),
            ("PROTO=[UNAVAILABLE]", "501 5.5.4 Invalid PROTO parameter"),
            ("SESSION=a+0D+0AX-Injected:+20yes", "501 5.5.4 Invalid SESSION parameter"),
            ("SESSION=" + String(repeating: "a", count: 129), "501 5.5.4 Invalid SESSION parameter"),
            ("LOGIN=a+0Ab", "501 5.5.4 Invalid LOGIN parameter"),
        ])
    func malformed(arguments: String, reply: String) {
        #expect(xclientRefusal(arguments) == reply)
    }

    @Test("TTL=0 is accepted by the server (refusing at zero is the proxying node's business)")
    func ttlZero() {
        #expect(xclient("TTL=0")?.ttl == 0)
        #expect(xclient("TTL=4294967295")?.ttl == 4_294_967_295)
    }

    @Test("the command parser hands XCLIENT's arguments to the XCLIENT parser, errors included")
    func commandParser() {
        #expect(LMTPCommandParser.parse("XCLIENT ADDR=10.0.0.1") == .success(.xclient(.success(LMTPXClientAttributes(address: "10.0.0.1")))))
        #expect(LMTPCommandParser.parse("xclient") == .success(.xclient(.success(LMTPXClientAttributes()))))
        guard case .success(.xclient(.failure(let error))) = LMTPCommandParser.parse("XCLIENT PORT=x") else {
            Issue.record("XCLIENT PORT=x did not parse as XCLIENT")
            return
        }
        #expect(error.reply.description == "501 5.5.4 Invalid PORT parameter")
    }
}

@Suite("XCLIENT: the session state machine")
struct LMTPXClientStateMachineTests {
    typealias Machine = LMTPSessionStateMachine<String>

    func parse(_ line: String) -> Result<LMTPCommand, LMTPCommandError> { LMTPCommandParser.parse(line) }

    func replies(_ action: Machine.Action) -> [String]? {
        if case .send(let replies) = action { return replies.map(\.description) }
        return nil
    }

    let trusted = LMTPConnectionInfo(
        remoteIP: "127.0.0.1", localIP: "127.0.0.1", remotePort: 40000, localPort: 24, isTrusted: true)
    let untrusted = LMTPConnectionInfo(remoteIP: "192.0.2.99", localIP: "127.0.0.1", remotePort: 40000, localPort: 24)

    @Test("a trusted client is offered XCLIENT after PIPELINING, with Dovecot's attribute list, then XRCPTFORWARD; others are not")
    func lhloCapability() {
        var machine = Machine(sessionID: "S", hostname: "mx.example.com", connection: trusted)
        guard case .send(let reply) = machine.commandReceived(parse("LHLO proxy")) else {
            Issue.record("no LHLO reply")
            return
        }
        #expect(
            reply.first?.wireFormat
                == "250-mx.example.com\r\n250-8BITMIME\r\n250-CHUNKING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-SIZE\r\n250-SMTPUTF8\r\n250-PIPELINING\r\n250-XCLIENT ADDR PORT PROTO HELO LOGIN SESSION TTL TIMEOUT\r\n250 XRCPTFORWARD\r\n"
        )
        var other = Machine(sessionID: "S", hostname: "mx.example.com", connection: untrusted)
        guard case .send(let plain) = other.commandReceived(parse("LHLO client")) else {
            Issue.record("no LHLO reply")
            return
        }
        #expect(plain.first?.lines.last == "PIPELINING")
        #expect(plain.first?.lines.contains { $0.hasPrefix("XCLIENT") } == false)
        #expect(plain.first?.lines.contains("XRCPTFORWARD") == false)
    }

    @Test("an untrusted client's XCLIENT is refused before its syntax is looked at, and changes nothing")
    func untrustedRefused() {
        var machine = Machine(sessionID: "S", hostname: "h", connection: untrusted)
        #expect(replies(machine.commandReceived(parse("XCLIENT ADDR=10.0.0.1"))) == ["550 5.7.14 You are not from trusted IP"])
        #expect(replies(machine.commandReceived(parse("XCLIENT PORT=nonsense"))) == ["550 5.7.14 You are not from trusted IP"])
        #expect(machine.connection == untrusted)
        var local = Machine(sessionID: "S", hostname: "h")
        #expect(replies(local.commandReceived(parse("XCLIENT ADDR=10.0.0.1"))) == ["550 5.7.14 You are not from trusted IP"])
    }

    @Test("XCLIENT inside a transaction is refused (503) even before trust, as Dovecot does")
    func insideTransaction() {
        for connection in [trusted, untrusted] {
            var machine = Machine(sessionID: "S", hostname: "h", connection: connection)
            #expect(replies(machine.commandReceived(parse("MAIL FROM:<a@b>"))) == ["250 2.1.0 OK"])
            #expect(
                replies(machine.commandReceived(parse("XCLIENT ADDR=10.0.0.1")))
                    == ["503 5.5.0 XCLIENT not permitted during a mail transaction"])
            #expect(replies(machine.commandReceived(parse("RSET"))) == ["250 2.0.0 OK"])
        }
    }

    @Test("a trusted client's XCLIENT answers with the greeting and sets the client's address, port and TTL for the session")
    func trustedApplied() {
        var machine = Machine(sessionID: "S", hostname: "mx.example.com", connection: trusted)
        _ = machine.commandReceived(parse("LHLO proxy.example.net"))
        guard
            case .proxied(let attributes, let reply) = machine.commandReceived(
                parse("XCLIENT ADDR=192.0.2.7 PORT=4321 TTL=3 TIMEOUT=30"))
        else {
            Issue.record("XCLIENT not applied")
            return
        }
        #expect(reply.description == "220 mx.example.com Homing ready.")
        #expect(attributes.ttl == 3)
        #expect(machine.connection.remoteIP == "192.0.2.7")
        #expect(machine.connection.remotePort == 4321)
        #expect(machine.connection.proxyTTL == 3)
        #expect(machine.connection.proxyIP == "127.0.0.1")
        #expect(machine.connection.proxyPort == 40000)
        #expect(machine.connection.localIP == "127.0.0.1")
        #expect(machine.connection.isTrusted)
        // The LHLO name stays (Dovecot resets the transaction state only).
        #expect(machine.lhloName == "proxy.example.net")
        #expect(replies(machine.commandReceived(parse("MAIL FROM:<a@b>"))) == ["250 2.1.0 OK"])
        guard case .verifyRecipient(_, let context) = machine.commandReceived(parse("RCPT TO:<alice@x>")) else {
            Issue.record("no verification")
            return
        }
        #expect(context.connection.remoteIP == "192.0.2.7")
        #expect(context.connection.remotePort == 4321)
        #expect(context.connection.proxyTTL == 3)
        #expect(context.lhloName == "proxy.example.net")
    }

    @Test("a second XCLIENT replaces what it names and keeps the rest; the real peer stays the proxy")
    func secondXClient() {
        var machine = Machine(sessionID: "S", hostname: "h", connection: trusted)
        _ = machine.commandReceived(parse("XCLIENT ADDR=192.0.2.7 PORT=4321 TTL=3"))
        _ = machine.commandReceived(parse("XCLIENT ADDR=2001:db8::9"))
        #expect(machine.connection.remoteIP == "2001:db8::9")
        #expect(machine.connection.remotePort == 4321)
        #expect(machine.connection.proxyTTL == 3)
        #expect(machine.connection.proxyIP == "127.0.0.1")
    }

    @Test("HELO= names the Received header's client until the next LHLO; SESSION= becomes the session id")
    func heloAndSession() {
        var machine = Machine(sessionID: "S", hostname: "h", connection: trusted)
        _ = machine.commandReceived(parse("LHLO proxy"))
        _ = machine.commandReceived(parse("MAIL FROM:<a@b>"))
        _ = machine.commandReceived(parse("RSET"))
        _ = machine.commandReceived(parse("XCLIENT HELO=client.example.org SESSION=front:P1"))
        #expect(machine.lhloName == "client.example.org")
        #expect(machine.sessionID == "front:P1")
        _ = machine.commandReceived(parse("MAIL FROM:<a@b>"))
        guard case .verifyRecipient(let recipient, let context) = machine.commandReceived(parse("RCPT TO:<alice@x>")) else {
            Issue.record("no verification")
            return
        }
        // The transaction counter runs on (Dovecot answers `front:P1:T2` here too).
        #expect(context.sessionID == "front:P1")
        #expect(context.transactionID == "front:P1:T2")
        #expect(recipient.replyID == "front:P1:T2")
        #expect(context.lhloName == "client.example.org")
        _ = machine.recipientVerified(.accept("alice"))
        _ = machine.commandReceived(parse("RSET"))
        _ = machine.commandReceived(parse("LHLO again"))
        #expect(machine.lhloName == "again")
    }

    @Test("a trusted client's malformed XCLIENT gets the syntax reply and changes nothing")
    func trustedMalformed() {
        var machine = Machine(sessionID: "S", hostname: "h", connection: trusted)
        #expect(replies(machine.commandReceived(parse("XCLIENT ADDR=10.0.0.1 PORT=0"))) == ["501 5.5.4 Invalid PORT parameter"])
        #expect(machine.connection == trusted)
    }
}

@Suite("XCLIENT: the session")
struct LMTPXClientSessionTests {
    @Test("after a trusted XCLIENT the backend sees the original client and the log names it and the proxy")
    func sessionUsesOriginalClient() async {
        let connection = LMTPConnectionInfo(remoteIP: "127.0.0.1", remotePort: 40000, isTrusted: true)
        let run = await runSession(
            [
                "LHLO proxy\r\nXCLIENT ADDR=192.0.2.7 PORT=4321 TTL=2\r\nLHLO proxy\r\nMAIL FROM:<a@b>\r\n",
                "RCPT TO:<alice@example.com>\r\nDATA\r\n", "hi\r\n.\r\nQUIT\r\n",
            ], connection: connection)
        #expect(run.lines.contains("220 mx.example.com Homing ready."))
        #expect(run.lines.filter { $0 == "220 mx.example.com Homing ready." }.count == 2)
        #expect(run.lines.contains("250-PIPELINING"))
        #expect(run.lines.contains("250-XCLIENT ADDR PORT PROTO HELO LOGIN SESSION TTL TIMEOUT"))
        #expect(run.lines.contains("250 XRCPTFORWARD"))
        #expect(run.record.contexts.first?.connection.remoteIP == "192.0.2.7")
        #expect(run.record.contexts.first?.connection.proxyTTL == 2)
        #expect(run.record.delivered.first?.context.connection.remotePort == 4321)
        #expect(run.logs.contains("XCLIENT from proxy 127.0.0.1: client is 192.0.2.7 port 4321 (TTL=2)"), "\(run.logs)")
    }

    @Test("without trust the session refuses XCLIENT and keeps the real peer")
    func sessionRefuses() async {
        let connection = LMTPConnectionInfo(remoteIP: "192.0.2.99", remotePort: 40000)
        let run = await runSession(
            ["XCLIENT ADDR=10.0.0.1\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nQUIT\r\n"], connection: connection)
        #expect(run.lines.contains("550 5.7.14 You are not from trusted IP"))
        #expect(run.record.contexts.first?.connection.remoteIP == "192.0.2.99")
        #expect(!run.logs.contains { $0.hasPrefix("XCLIENT") })
    }
}
