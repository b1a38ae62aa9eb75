import HomingLMTP
import Testing

@testable import HomingProxy

@Suite("Proxy replies")
struct ProxyRepliesTests {
    @Test("a destination's RCPT success passes unchanged; one without enhanced code gets 2.1.0")
    func rcptSuccess() {
        #expect(ProxyReplies.rcpt(LMTPReply(250, "2.1.5", "OK"), path: "Bob+x@a").wireFormat == "250 2.1.5 OK\r\n")
        #expect(ProxyReplies.rcpt(LMTPReply(250, nil, "OK"), path: "b@a").wireFormat == "250 2.1.0 OK\r\n")
    }

    @Test("a destination's RCPT refusal names the client's address, replacing the destination's")
    func rcptRefusal() {
        let refused = LMTPReply(550, "5.1.1", "<robert@b> User doesn't exist: robert@b")
        #expect(
            ProxyReplies.rcpt(refused, path: "bob+x@a").wireFormat
                == "550 5.1.1 <bob+x@a> User doesn't exist: robert@b\r\n")
        #expect(
            ProxyReplies.rcpt(LMTPReply(452, nil, "Try later"), path: "bob@a").wireFormat
                == "452 4.0.0 <bob@a> Try later\r\n")
    }

    @Test("an end-of-data success becomes this node's Saved reply with the recipient's id")
    func dataSuccess() {
        let reply = ProxyReplies.data(
            LMTPReply(250, "2.0.0", "<bob@a> BACKENDID Saved"), path: "Bob@a", replyID: "FRONTID:R2")
        #expect(reply.wireFormat == "250 2.0.0 <Bob@a> FRONTID:R2 Saved\r\n")
    }

    @Test("an end-of-data failure is forwarded with the client's path, multi-line replies kept")
    func dataFailure() {
        let quota = LMTPReply(
            code: 552, enhancedCode: "5.2.2", lines: ["<bob@b> Quota exceeded (mailbox for user is full)", "more"])
        #expect(
            ProxyReplies.data(quota, path: "bob@a", replyID: "X").wireFormat
                == "552-5.2.2 <bob@a> Quota exceeded (mailbox for user is full)\r\n552 5.2.2 more\r\n")
    }

    @Test("relay failures give Dovecot's 451 4.4.0 texts, verbose or not")
    func relayFailed() {
        #expect(
            ProxyReplies.relayFailed(.connectFailed("Connection refused"), replyID: "ID:R3", verbose: false).wireFormat
                == "451 4.4.0 Proxy failed (connect, session=ID:R3)\r\n")
        #expect(
            ProxyReplies.relayFailed(.timedOut("x"), replyID: "ID", verbose: false).wireFormat
                == "451 4.4.0 Proxy failed (timed out, session=ID)\r\n")
        #expect(
            ProxyReplies.relayFailed(.connectionLost("Remote closed"), replyID: "ID", verbose: true).wireFormat
                == "451 4.4.0 Proxy failed: Remote closed (session=ID)\r\n")
    }

    @Test("loops and TTL give Dovecot's 554 5.4.6 texts")
    func loops() {
        #expect(ProxyReplies.loopsToItself(path: "b@a").wireFormat == "554 5.4.6 <b@a> Proxying loops to itself\r\n")
        #expect(
            ProxyReplies.ttlExceeded(path: "b@a").wireFormat
                == "554 5.4.6 <b@a> Proxying appears to be looping (TTL=0)\r\n")
    }
}

@Suite("LMTP reply parser")
struct LMTPReplyParserTests {
    @Test("multi-line replies are assembled and the enhanced code split off every line")
    func multiLine() throws {
        var parser = LMTPReplyParser()
        #expect(try parser.feed("250-mx.example.com") == nil)
        #expect(try parser.feed("250-XCLIENT ADDR PORT TTL") == nil)
        let reply = try #require(try parser.feed("250 PIPELINING"))
        #expect(reply.code == 250 && reply.enhancedCode == nil)
        #expect(reply.lines == ["mx.example.com", "XCLIENT ADDR PORT TTL", "PIPELINING"])
        let saved = try #require(try parser.feed("250 2.0.0 <a@b> ID Saved"))
        #expect(saved.enhancedCode == "2.0.0" && saved.lines == ["<a@b> ID Saved"])
        let bare = try #require(try parser.feed("354"))
        #expect(bare.code == 354 && bare.lines == [""])
    }

    @Test("an enhanced code of another class is text")
    func enhancedClass() throws {
        var parser = LMTPReplyParser()
        let reply = try #require(try parser.feed("451 5.0.0 odd"))
        #expect(reply.enhancedCode == nil && reply.lines == ["5.0.0 odd"])
    }

    @Test("lines that are not replies, mixed codes and overlong replies are protocol errors")
    func errors() {
        var parser = LMTPReplyParser()
        #expect(throws: LMTPClientError.self) { try parser.feed("hello") }
        parser = LMTPReplyParser()
        #expect(throws: LMTPClientError.self) { try parser.feed("250x") }
        parser = LMTPReplyParser()
        _ = try? parser.feed("250-a")
        #expect(throws: LMTPClientError.self) { try parser.feed("251 b") }
        parser = LMTPReplyParser()
        #expect(throws: LMTPClientError.self) {
            for _ in 0..<100 { _ = try parser.feed("250-" + String(repeating: "x", count: 100)) }
        }
    }
}

@Suite("Dot-stuffing encoder")
struct DotStuffingEncoderTests {
    private func encode(_ chunks: [String]) -> String {
        var encoder = DotStuffingEncoder()
        var out = ""
        for chunk in chunks { out += String(buffer: encoder.encode(.init(string: chunk))) }
        return out + String(buffer: encoder.finish())
    }

    @Test("dots opening a line are doubled, also across chunk boundaries")
    func dots() {
        #expect(encode([".a\r\n..b\r\nc.d\r\n"]) == "..a\r\n...b\r\nc.d\r\n.\r\n")
        #expect(encode(["x\r", "\n", ".y\r\n"]) == "x\r\n..y\r\n.\r\n")
        #expect(encode(["x\n", ".", "\n"]) == "x\r\n..\r\n.\r\n")
    }

    @Test("bare LF becomes CRLF, a bare CR stays, an unterminated last line is ended")
    func lineEnds() {
        #expect(encode(["a\nb\rc\n"]) == "a\r\nb\rc\r\n.\r\n")
        #expect(encode(["no end"]) == "no end\r\n.\r\n")
        #expect(encode([]) == ".\r\n")
    }
}

@Suite("XCLIENT attributes")
struct ProxyClientIdentityTests {
    @Test("only advertised attributes are sent, in Dovecot's order, xtext-encoded")
    func attributes() {
        let identity = ProxyClientIdentity(helo: "mx one", session: "S:P1", ttl: 4, port: 4711, address: "192.0.2.1")
        #expect(
            identity.attributes(advertised: ["ADDR", "PORT", "TTL", "HELO", "SESSION", "PROTO"])
                == ["HELO=mx+20one", "PROTO=LMTP", "SESSION=S:P1", "TTL=4", "PORT=4711", "ADDR=192.0.2.1"])
        #expect(identity.attributes(advertised: ["ADDR", "TTL"]) == ["TTL=4", "ADDR=192.0.2.1"])
    }

    @Test("a TIMEOUT received is passed on after TTL, to a destination that advertises it")
    func timeout() {
        let identity = ProxyClientIdentity(helo: nil, session: nil, ttl: 4, timeout: 30, port: 4711, address: "192.0.2.1")
        #expect(identity.attributes(advertised: ["ADDR", "PORT", "TTL", "TIMEOUT"]) == ["TTL=4", "TIMEOUT=30", "PORT=4711", "ADDR=192.0.2.1"])
        #expect(identity.attributes(advertised: ["ADDR", "TTL"]) == ["TTL=4", "ADDR=192.0.2.1"])
        let none = ProxyClientIdentity(helo: nil, session: nil, ttl: 4, port: nil, address: nil)
        #expect(none.attributes(advertised: ["TTL", "TIMEOUT"]) == ["TTL=4"])
    }

    @Test("the TTL starts at 5 and is one less than received after that")
    func ttl() {
        #expect(ProxyClientIdentity.outgoingTTL(received: nil) == 5)
        #expect(ProxyClientIdentity.outgoingTTL(received: 3) == 2)
    }
}
