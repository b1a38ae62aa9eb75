import Testing

@testable import HomingLMTP

/// A refusal's wire text without the CRLF, e.g. `500 5.5.1 Unknown command`.
private func refusal(_ line: String) -> String? {
    switch LMTPCommandParser.parse(line) {
    case .success: return nil
    case .failure(let error): return error.reply.description
    }
}

private func command(_ line: String) -> LMTPCommand? {
    switch LMTPCommandParser.parse(line) {
    case .success(let command): return command
    case .failure: return nil
    }
}

@Suite("LMTP command parser")
struct LMTPCommandParserTests {
    @Test("simple commands parse, verbs are case-insensitive")
    func simpleCommands() {
        #expect(command("DATA") == .data)
        #expect(command("RSET") == .rset)
        #expect(command("QUIT") == .quit)
        #expect(command("quit") == .quit)
        #expect(command("QuIt") == .quit)
        #expect(command("NOOP") == .noop)
        #expect(command("noop x") == .noop)
        #expect(command("NOOP \"a b\"") == .noop)
        #expect(command("LHLO client.example.org") == .lhlo("client.example.org"))
        #expect(command("lhlo [127.0.0.1]") == .lhlo("[127.0.0.1]"))
        #expect(command("LHLO bad..name") == .lhlo("bad..name"))
        #expect(command("LHLO a b c") == .lhlo("a b c"))
        #expect(command("QUIT ") == .quit, "trailing blanks are tolerated")
    }

    @Test(
        "refused commands get Dovecot's exact replies",
        arguments: [
            ("EHLO x", "500 5.5.1 Unknown command"),
            ("HELO x", "500 5.5.1 Unknown command"),
            ("EXPN list", "500 5.5.1 Unknown command"),
            ("HELP", "500 5.5.1 Unknown command"),
            ("ETRN example.com", "500 5.5.1 Unknown command"),
            ("TURN", "500 5.5.1 Unknown command"),
            ("SEND FROM:<a@b>", "500 5.5.1 Unknown command"),
            ("FOO", "500 5.5.1 Unknown command"),
            (String(repeating: "X", count: 40), "500 5.5.2 Invalid command syntax"),
            ("STARTTLS", "502 5.5.1 TLS support is not enabled."),
            ("AUTH PLAIN AGFsaWNlAHNlY3JldA==", "502 5.5.1 Unsupported command"),
            ("LHLO", "501 Missing hostname"),
            ("MAIL", "501 5.5.4 Invalid parameters"),
            ("MAIL FROM", "501 5.5.4 Invalid parameters"),
            ("MAIL TO:<x@y>", "501 5.5.4 Invalid parameters"),
            ("RCPT", "501 5.5.4 Invalid parameters"),
            ("RCPT FROM:<x@y>", "501 5.5.4 Invalid parameters"),
            ("MAIL FROM:a@b", "501 5.5.4 Invalid FROM: Missing '<' at beginning of path"),
            ("MAIL FROM: <a@b>", "501 5.5.4 Invalid FROM: Unexpected whitespace before path"),
            ("MAIL FROM:<a@b", "501 5.5.4 Invalid FROM: Missing '>' at end of path"),
            ("MAIL  FROM:<a@b>", "500 5.5.2 Invalid command syntax"),
            ("RCPT TO:", "501 5.5.4 Invalid TO: Path is empty string"),
            ("RCPT TO:<>", "501 5.5.4 Invalid TO: Null path not allowed"),
            ("RCPT TO:a@b", "501 5.5.4 Invalid TO: Missing '<' at beginning of path"),
            ("RCPT TO:<a@b", "501 5.5.4 Invalid TO: Missing '>' at end of path"),
            ("RCPT TO:<a b@example.com>", "501 5.5.4 Invalid TO: Invalid character in localpart"),
            ("RCPT TO:<alice@exa mple.com>", "501 5.5.4 Invalid TO: Invalid domain"),
            ("RCPT TO:<alice@>", "501 5.5.4 Invalid TO: Missing domain"),
            ("MAIL FROM:<a@b> BODY=BINARYMIME", "555 5.5.4 Unsupported mail BODY type"),
            ("MAIL FROM:<a@b> BODY=FOO", "555 5.5.4 Unsupported mail BODY type"),
            ("MAIL FROM:<a@b> SIZE=abc", "501 5.5.4 Invalid SIZE parameter"),
            ("MAIL FROM:<a@b> SIZE=", "501 5.5.4 Invalid parameters"),
            ("MAIL FROM:<a@b> SIZE=99999999999999999999999", "501 5.5.4 Invalid SIZE parameter"),
            ("MAIL FROM:<a@b> RET=NONE", "555 5.5.4 Unsupported RET= parameter keyword"),
            ("MAIL FROM:<a@b> RET", "501 5.5.4 Missing RET= parameter value"),
            ("MAIL FROM:<a@b> RET=FULL RET=HDRS", "501 5.5.4 Duplicate RET= parameter"),
            ("MAIL FROM:<a@b> ENVID", "501 5.5.4 Missing ENVID= parameter value"),
            ("MAIL FROM:<a@b> ENVID=a+G1", "501 5.5.4 Invalid ENVID= parameter value: Invalid xtext"),
            ("MAIL FROM:<a@b> ENVID=a+0Ab", "501 5.5.4 Invalid ENVID= parameter value: Contains non-printable characters"),
            ("MAIL FROM:<a@b> AUTH=<>", "555 5.5.4 Unsupported parameters"),
            ("MAIL FROM:<a@b> FOO=BAR", "555 5.5.4 Unsupported parameters"),
            ("MAIL FROM:<a@b> XTRA", "555 5.5.4 Unsupported parameters"),
            ("RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS", "501 5.5.4 Invalid NOTIFY= parameter value"),
            ("RCPT TO:<a@b> NOTIFY=SUCCESS,NEVER", "501 5.5.4 Invalid NOTIFY= parameter value"),
            ("RCPT TO:<a@b> NOTIFY=SUCCESS,SOMETIMES", "555 5.5.4 Invalid NOTIFY= parameter value"),
            ("RCPT TO:<a@b> NOTIFY=,", "501 5.5.4 Invalid NOTIFY= parameter value"),
            ("RCPT TO:<a@b> NOTIFY", "501 5.5.4 Missing NOTIFY= parameter value"),
            ("RCPT TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER", "501 5.5.4 Duplicate NOTIFY= parameter"),
            ("RCPT TO:<a@b> FOO=BAR", "555 5.5.4 Unsupported parameters"),
            ("NOOP some argument", "501 5.5.4 Invalid string parameter: Invalid character in string"),
            ("VRFY", "501 5.5.4 Invalid parameters"),
            ("DATA x", "501 5.5.4 Invalid parameters"),
            ("QUIT now", "501 5.5.4 Invalid parameters"),
            ("BDAT", "501 5.5.4 Invalid parameters"),
            ("BDAT x", "501 5.5.4 Invalid chunk size parameter"),
            ("BDAT 10 FIRST", "501 5.5.4 Invalid end marker parameter"),
            ("BDAT 10 LAST x", "501 5.5.4 Invalid parameters"),
            ("", "500 5.5.2 Invalid command syntax"),
            ("NO\u{0}OP", "500 5.5.2 Invalid command syntax"),
            ("RCPT TO:<a\u{0}@b>", "500 5.5.2 Invalid command syntax"),
        ])
    func refusals(line: String, reply: String) {
        #expect(refusal(line) == reply)
    }

    @Test("a verb of 32 letters is unknown, one of 33 is a syntax error")
    func verbLengthLimit() {
        #expect(refusal(String(repeating: "A", count: 32)) == "500 5.5.1 Unknown command")
        #expect(refusal(String(repeating: "A", count: 33)) == "500 5.5.2 Invalid command syntax")
    }

    @Test("VRFY answers for a user, a quoted address and an unquoted address (quirk 5 not copied)")
    func vrfy() {
        #expect(command("VRFY alice") == .vrfy)
        #expect(command("VRFY \"alice@example.com\"") == .vrfy)
        #expect(command("VRFY nosuch") == .vrfy)
        #expect(command("VRFY alice@example.com") == .vrfy)
        #expect(refusal("VRFY some argument") == "501 5.5.4 Invalid string parameter: Invalid character in string")
    }

    @Test("MAIL FROM reads the path and the BODY, SIZE and SMTPUTF8 parameters")
    func mailParameters() {
        #expect(command("MAIL FROM:<a@b>") == .mail(LMTPMailCommand(reversePath: "a@b")))
        #expect(command("mail from:<a@b>") == .mail(LMTPMailCommand(reversePath: "a@b")))
        #expect(command("MAIL FROM:<>") == .mail(LMTPMailCommand(reversePath: "")))
        #expect(
            command("MAIL FROM:<sender@example.org> BODY=8bitmime SIZE=1000 SMTPUTF8")
                == .mail(LMTPMailCommand(reversePath: "sender@example.org", body: "8BITMIME", size: 1000, smtpUTF8: true)))
        #expect(command("MAIL FROM:<a@b> BODY=7BIT") == .mail(LMTPMailCommand(reversePath: "a@b", body: "7BIT")))
        #expect(command("MAIL FROM:<sender@@example.org>") == .mail(LMTPMailCommand(reversePath: "sender@@example.org")))
        #expect(command("MAIL FROM:<double-bounce@example.com>") == .mail(LMTPMailCommand(reversePath: "double-bounce@example.com")))
        #expect(refusal("MAIL FROM:<a@b> SIZE=1 SIZE=2") == "501 5.5.4 Duplicate SIZE parameter")
    }

    @Test("MAIL FROM reads the DSN parameters: RET in any case, ENVID xtext decoded")
    func mailDSNParameters() {
        #expect(
            command("MAIL FROM:<a@b> RET=hdrs ENVID=QQ+2B314@example.org")
                == .mail(LMTPMailCommand(reversePath: "a@b", notificationReturn: .headers, envelopeID: "QQ+314@example.org")))
        #expect(command("MAIL FROM:<a@b> RET=FULL") == .mail(LMTPMailCommand(reversePath: "a@b", notificationReturn: .full)))
        #expect(command("MAIL FROM:<a@b> ENVID=x+20y") == .mail(LMTPMailCommand(reversePath: "a@b", envelopeID: "x y")))
    }

    @Test("RCPT TO reads NOTIFY: NEVER is the empty set, the conditions in any order and case, with ORCPT")
    func rcptNotify() {
        func notify(_ line: String) -> LMTPNotify? {
            guard case .rcpt(let rcpt) = command(line) else { return nil }
            return rcpt.notify
        }
        #expect(notify("RCPT TO:<a@b> NOTIFY=NEVER") == [])
        #expect(notify("RCPT TO:<a@b> NOTIFY=success") == [.success])
        #expect(notify("RCPT TO:<a@b> NOTIFY=DELAY,SUCCESS,FAILURE") == [.success, .failure, .delay])
        #expect(notify("RCPT TO:<a@b>") == nil)
        #expect(
            command("RCPT TO:<bob@example.com> NOTIFY=SUCCESS ORCPT=rfc822;all+2Bstaff@example.com")
                == .rcpt(
                    LMTPRcptCommand(
                        path: "bob@example.com", address: "bob@example.com",
                        originalRecipient: LMTPOriginalRecipient(
                            addressType: "rfc822", address: "all+staff@example.com", encoded: "rfc822;all+2Bstaff@example.com"),
                        notify: [.success])))
        #expect(LMTPNotify([.success, .delay]).description == "SUCCESS,DELAY")
        #expect(LMTPNotify([]).description == "NEVER")
    }

    @Test("RCPT TO keeps the path as sent and gives the plain mailbox")
    func rcptPaths() {
        #expect(command("RCPT TO:<alice@example.com>") == .rcpt(LMTPRcptCommand(path: "alice@example.com", address: "alice@example.com")))
        #expect(command("rcpt to:<Alice+news@Example.COM>") == .rcpt(LMTPRcptCommand(path: "Alice+news@Example.COM", address: "Alice+news@Example.COM")))
        #expect(
            command("RCPT TO:<@relay.example.net:alice@example.com>")
                == .rcpt(LMTPRcptCommand(path: "@relay.example.net:alice@example.com", address: "alice@example.com")))
        #expect(
            command("RCPT TO:<@a.example,@b.example:alice@example.com>")
                == .rcpt(LMTPRcptCommand(path: "@a.example,@b.example:alice@example.com", address: "alice@example.com")))
        #expect(
            command("RCPT TO:<\"alice\"@example.com>")
                == .rcpt(LMTPRcptCommand(path: "\"alice\"@example.com", address: "alice@example.com")))
        #expect(
            command("RCPT TO:<\"a b\"@example.com>")
                == .rcpt(LMTPRcptCommand(path: "\"a b\"@example.com", address: "\"a b\"@example.com")))
        #expect(command("RCPT TO:<postmaster>") == .rcpt(LMTPRcptCommand(path: "postmaster", address: "postmaster")))
        #expect(
            command("RCPT TO:<alice@[127.0.0.1]>")
                == .rcpt(LMTPRcptCommand(path: "alice@[127.0.0.1]", address: "alice@[127.0.0.1]")))
        #expect(
            command("RCPT TO:<bob@example.com> ORCPT=rfc822;bob@example.com")
                == .rcpt(LMTPRcptCommand(path: "bob@example.com", address: "bob@example.com", originalRecipient: LMTPOriginalRecipient(addressType: "rfc822", address: "bob@example.com", encoded: "rfc822;bob@example.com"))))
        #expect(command("RCPT TO:<jörg@exämple.de>") == .rcpt(LMTPRcptCommand(path: "jörg@exämple.de", address: "jörg@exämple.de")))
        #expect(refusal("RCPT TO:<a@b> ORCPT=nosemicolon") == "501 5.5.4 Invalid ORCPT parameter")
    }

    @Test("a path over 256 octets is refused with a 501, never a 451 (quirk 3 not copied)")
    func pathTooLong() {
        let local = String(repeating: "a", count: 242)
        let fits = "\(local)@example.com"  // 254 octets, 256 with the brackets
        #expect(command("RCPT TO:<\(fits)>") == .rcpt(LMTPRcptCommand(path: fits, address: fits)))
        #expect(refusal("RCPT TO:<a\(fits)>") == "501 5.5.4 Invalid TO: Path too long")
        #expect(refusal("MAIL FROM:<a\(fits)>") == "501 5.5.4 Invalid FROM: Path too long")
        let huge = String(repeating: "x", count: 1000) + "@example.com"
        #expect(refusal("RCPT TO:<\(huge)>") == "501 5.5.4 Invalid TO: Path too long")
    }

    @Test("BDAT reads the size and LAST")
    func bdat() {
        #expect(command("BDAT 0") == .bdat(size: 0, last: false))
        #expect(command("BDAT 1000") == .bdat(size: 1000, last: false))
        #expect(command("bdat 12 last") == .bdat(size: 12, last: true))
    }

    @Test("invalid UTF-8 in a command is a syntax error")
    func invalidUTF8() {
        let bytes: [UInt8] = Array("RCPT TO:<a".utf8) + [0xFF] + Array("@b>".utf8)
        guard case .failure(let error) = LMTPCommandParser.parse(bytes) else {
            Issue.record("accepted invalid UTF-8")
            return
        }
        #expect(error.reply == .invalidCommandSyntax)
    }
}

@Suite("ORCPT decoding")
struct LMTPOriginalRecipientTests {
    @Test("rfc822 xtext is decoded; the value as sent is kept")
    func xtext() throws {
        let value = try #require(LMTPOriginalRecipient(parsing: "RFC822;alice+2Bnews@example.com"))
        #expect(value.addressType == "rfc822")
        #expect(value.address == "alice+news@example.com")
        #expect(value.encoded == "RFC822;alice+2Bnews@example.com")
        #expect(value.mailAddress == "alice+news@example.com")
    }

    @Test("utf-8 addresses (RFC 6533) decode \\x{HEX} and carry UTF-8 as is")
    func utf8() throws {
        #expect(LMTPOriginalRecipient(parsing: "utf-8;j\\x{F6}rg@example.de")?.address == "jörg@example.de")
        #expect(LMTPOriginalRecipient(parsing: "utf-8;jörg@exämple.de")?.address == "jörg@exämple.de")
    }

    @Test("other address types are not mail addresses")
    func otherType() {
        #expect(LMTPOriginalRecipient(parsing: "x400;c=de")?.mailAddress == nil)
    }

    @Test("malformed values are refused with 501", arguments: [
        "nosemicolon", ";a@b", "rfc822;", "rfc822;a+G1@b", "rfc822;a+4", "rfc822;a=b", "utf-8;a\\x{110000}@b",
        "utf-8;a\\xF6@b", "utf-8;a+b@c", "rf c;a@b",
    ])
    func malformed(value: String) {
        #expect(LMTPOriginalRecipient(parsing: value) == nil)
        guard !value.contains(" ") else { return }
        guard case .failure(let error) = LMTPCommandParser.parse("RCPT TO:<a@b> ORCPT=\(value)") else {
            Issue.record("ORCPT=\(value) accepted")
            return
        }
        // `=` cannot be in an ESMTP value at all: that is Dovecot's generic 501.
        let expected =
            value.contains("=") ? "Invalid RCPT parameter: Unexpected character in parameter value" : "Invalid ORCPT parameter"
        #expect(error.reply == LMTPReply(501, "5.5.4", expected))
    }
}
