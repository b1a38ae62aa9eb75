import Testing

@testable import HomingLMTP

@Suite("XRCPTFORWARD: a trusted proxy's forwarded fields")
struct LMTPForwardFieldsTests {
    typealias Field = LMTPForwardFields.Field
    typealias Machine = LMTPSessionStateMachine<String>

    let trusted = LMTPConnectionInfo(remoteIP: "127.0.0.1", localIP: "127.0.0.1", isTrusted: true)
    let untrusted = LMTPConnectionInfo(remoteIP: "192.0.2.99", localIP: "127.0.0.1")

    @Test("Dovecot 2.3.19's value for forward_foo=bar and forward_Two=x=y decodes and encodes back byte for byte")
    func dovecotExample() throws {
        let fields = try LMTPForwardFields.parse("foo+3Dbar+09Two+3Dx+3Dy").get()
        #expect(fields.fields == [Field(name: "foo", value: "bar"), Field(name: "Two", value: "x=y")])
        #expect(fields.encoded == "foo+3Dbar+09Two+3Dx+3Dy")
        let fromPassdb = LMTPForwardFields.fromPassdb([
            ("user", "alice"), ("forward_foo", "bar"), ("proxy", ""), ("FORWARD_Two", "x=y"), ("forward_", "ignored"),
        ])
        #expect(fromPassdb?.encoded == "foo+3Dbar+09Two+3Dx+3Dy")
        #expect(LMTPForwardFields.fromPassdb([("host", "b1"), ("forwarded", "x")]) == nil)
    }

    @Test("control characters (Dovecot's tab escapes), '+', '=', spaces and UTF-8 survive the round trip")
    func roundTrip() throws {
        let fields = [
            Field(name: "a", value: "tab\there, cr\r lf\n soh\u{1} nul\u{0}"), Field(name: "plus", value: "1+1=2"),
            Field(name: "wörd", value: "grüße"), Field(name: "flag", value: ""),
        ]
        let encoded = LMTPForwardFields(fields).encoded
        #expect(encoded.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "=") }, "\(encoded)")
        #expect(encoded.contains("+01t") && encoded.contains("+011"), "tab and SOH escaped with SOH: \(encoded)")
        #expect(try LMTPForwardFields.parse(encoded).get().fields == fields)
    }

    @Test("broken xtext is refused with Dovecot's text; bytes that are not UTF-8 are taken")
    func brokenXtext() {
        for value in ["+ZZ", "abc+4", "+"] {
            #expect(
                LMTPForwardFields.parse(value).map(\.encoded)
                    == .failure(LMTPCommandError(LMTPReply(501, "5.5.4", "Invalid XRCPTFORWARD= parameter: Invalid hexchar after '+' in xtext"))),
                "\(value)")
        }
        #expect((try? LMTPForwardFields.parse("+FF+FE").get()) != nil)
    }

    @Test("RCPT parameter: any case, the first of several counts, a missing value and a value with '=' are refused")
    func parameter() {
        func rcpt(_ line: String) -> Result<LMTPCommand, LMTPCommandError> { LMTPCommandParser.parse(line) }
        guard case .success(.rcpt(let command)) = rcpt("RCPT TO:<a@b> xrcptforward=k+3Dv XRCPTFORWARD=other") else {
            Issue.record("refused")
            return
        }
        #expect(command.forwardFields?.fields == [Field(name: "k", value: "v")])
        #expect(rcpt("RCPT TO:<a@b> XRCPTFORWARD") == .failure(LMTPCommandError(LMTPReply(501, "5.5.4", "Invalid XRCPTFORWARD= parameter: Missing value"))))
        #expect(
            rcpt("RCPT TO:<a@b> XRCPTFORWARD=a=b")
                == .failure(LMTPCommandError(LMTPReply(501, "5.5.4", "Invalid RCPT parameter: Unexpected character in parameter value"))))
    }

    @Test("from a trusted client the fields reach the backend with the recipient; from others RCPT gets Dovecot's 550 and nothing is verified")
    func trust() {
        var machine = Machine(sessionID: "S", hostname: "h", connection: trusted)
        _ = machine.commandReceived(LMTPCommandParser.parse("MAIL FROM:<a@b>"))
        guard case .verifyRecipient(let recipient, _) = machine.commandReceived(LMTPCommandParser.parse("RCPT TO:<bob@x> XRCPTFORWARD=k+3Dv")) else {
            Issue.record("not verified")
            return
        }
        #expect(recipient.forwardFields?.fields == [Field(name: "k", value: "v")])

        var other = Machine(sessionID: "S", hostname: "h", connection: untrusted)
        _ = other.commandReceived(LMTPCommandParser.parse("MAIL FROM:<a@b>"))
        guard case .send(let replies) = other.commandReceived(LMTPCommandParser.parse("RCPT TO:<bob@x> XRCPTFORWARD=k+3Dv")) else {
            Issue.record("verified")
            return
        }
        #expect(replies.map(\.description) == ["550 5.7.14 Unacceptable XRCPTFORWARD= parameter: You are not from trusted IP"])
        // The refused RCPT still counts (the next one is :R2), as a failed RCPT does.
        guard case .verifyRecipient(let next, _) = other.commandReceived(LMTPCommandParser.parse("RCPT TO:<bob@x>")) else {
            Issue.record("not verified")
            return
        }
        #expect(next.index == 2 && next.forwardFields == nil)
    }
}
