import HomingConfig
import HomingDelivery
import Testing

@testable import HomingLDA

@Suite("homing deliver: dovecot-lda's command line")
struct LDACommandLineTests {
    static func parse(_ words: [String]) -> LDACommandLine? {
        try? LDACommandLine.parse(words).get()
    }

    static func error(_ words: [String]) -> String? {
        guard case .failure(let error) = LDACommandLine.parse(words) else { return nil }
        return error.message
    }

    @Test("Postfix's pipe recipe: -f sender -d user@nexthop -a original -m extension")
    func pipeRecipe() throws {
        let line = try #require(Self.parse(["-f", "sender@example.org", "-d", "alice@example.com", "-a", "all@example.com", "-m", "lists"]))
        #expect(line.sender == "sender@example.org")
        #expect(line.destinationUser == "alice@example.com")
        #expect(line.originalRecipient == "all@example.com")
        #expect(line.mailbox == "lists")
        #expect(!line.rejectionsToStandardError)
    }

    @Test("getopt's rules: grouped flags, attached values, -- ends the options")
    func getoptRules() throws {
        let line = try #require(Self.parse(["-ek", "-dalice", "-c/etc/dovecot/dovecot.conf", "-o", "plugin/quota_rule=*:storage=1M", "--"]))
        #expect(line.rejectionsToStandardError)
        #expect(line.destinationUser == "alice")
        #expect(line.configPath == "/etc/dovecot/dovecot.conf")
        #expect(line.overrides == [ConfigOverride(key: "plugin/quota_rule", value: "*:storage=1M")])
        let attached = try #require(Self.parse(["-ef<s@x>"]))
        #expect(attached.rejectionsToStandardError && attached.sender == "s@x")
    }

    @Test("-f takes <>, an empty word and brackets; an address that does not parse becomes the null sender")
    func sender() {
        #expect(Self.parse(["-f", "<>"])?.sender == "")
        #expect(Self.parse(["-f", ""])?.sender == "")
        #expect(Self.parse(["-f", "<a@b>"])?.sender == "a@b")
        let broken = Self.parse(["-f", "a b@c"])
        #expect(broken?.sender == "" && broken?.brokenSender == "a b@c")
    }

    @Test("-m with an empty value is ignored, as for Postfix's -m ${extension} without an extension")
    func emptyMailbox() {
        #expect(Self.parse(["-m", ""])?.mailbox == nil)
        #expect(Self.parse(["-m", "Archive/2026"])?.mailbox == "Archive/2026")
    }

    @Test("bad command lines are usage errors with dovecot-lda's words", arguments: [
        (["-x"], "Unknown option: -x"),
        (["-d"], "-d needs a value"),
        (["-a", ""], "Invalid -a parameter: Path is empty string"),
        (["-a", "<a@b"], "Invalid -a parameter: Missing '>' at end of path"),
        (["-r", "a b@c"], "Invalid -r parameter: Invalid character in path"),
        (["-o", "noequals"], "Invalid -o parameter 'noequals': expected key=value"),
        (["extra"], "Unknown argument: extra"),
        (["-d", "a", "b"], "Unknown argument: b"),
        (["-O"], "-O is not supported by homing deliver"),
    ])
    func usageErrors(words: [String], message: String) {
        #expect(Self.error(words) == message)
    }
}

@Suite("homing deliver: outcomes as dovecot-lda's exit statuses")
struct LDAExitStatusTests {
    @Test("each failure maps to dovecot-lda's outcome and text", arguments: [
        (DeliveryFailure.refused(.noSuchUser(lookedUp: "x")), LDAOutcome.noSuchUser),
        (.refused(.mailboxFull(message: "Quota exceeded")), .refused(reason: "Quota exceeded", mailboxFull: true)),
        (.refused(.messageTooLarge(message: "Too big")), .refused(reason: "Too big", mailboxFull: false)),
        (.refused(.rejected(reason: "go away")), .refused(reason: "go away", mailboxFull: false)),
        (.deferred(.mailboxFull(message: "Quota exceeded")), .deferred(reason: "Quota exceeded")),
        (.deferred(.diskFull), .deferred(reason: "Not enough disk space")),
        (.deferred(.userdbUnavailable), .deferred(reason: "Temporary internal error")),
        (.deferred(.internalError), .deferred(reason: "Temporary internal error")),
    ])
    func outcomes(failure: DeliveryFailure, expected: LDAOutcome) {
        #expect(LDAExitStatus.outcome(for: .failed(failure)) == expected)
    }

    @Test("0 delivered, 67 no user, 75 retry (reason on stderr with -e), 77 refused with -e, else 0 and a rejection sent")
    func statuses() {
        #expect(LDAExitStatus.outcome(for: .stored(mailboxes: [])) == .delivered)
        #expect(LDAExitStatus.outcome(for: .duplicate(ofRecipientAt: 0)) == .delivered)
        let refused = LDAOutcome.refused(reason: "Quota exceeded", mailboxFull: true)
        #expect(LDAExitStatus.action(for: .delivered, rejectionsToStandardError: true) == (0, nil, false))
        #expect(LDAExitStatus.action(for: .noSuchUser, rejectionsToStandardError: true) == (67, nil, false))
        #expect(LDAExitStatus.action(for: .deferred(reason: "x"), rejectionsToStandardError: false) == (75, nil, false))
        #expect(LDAExitStatus.action(for: .deferred(reason: "x"), rejectionsToStandardError: true) == (75, "x", false))
        #expect(LDAExitStatus.action(for: refused, rejectionsToStandardError: true) == (77, "Quota exceeded", false))
        #expect(LDAExitStatus.action(for: refused, rejectionsToStandardError: false) == (0, nil, true))
    }
}

@Suite("homing deliver: reading the message")
struct LDAMessageInputTests {
    @Test("a first line 'From sender date' is an mbox envelope line: dropped, its sender kept")
    func fromLine() {
        let text = Array("From alice@example.org  Thu Dec  3 08:14:07 2026\nSubject: x\n".utf8)
        #expect(LDAMessageInput.fromLine(in: text, atEnd: false) == .line(length: 49, sender: "alice@example.org"))
        #expect(LDAMessageInput.fromLine(in: Array("From: a@b\n".utf8), atEnd: false) == .none)
        #expect(LDAMessageInput.fromLine(in: Array("Fro".utf8), atEnd: false) == .undecided)
        #expect(LDAMessageInput.fromLine(in: Array("Fro".utf8), atEnd: true) == .none)
        #expect(LDAMessageInput.fromLine(in: Array("From a@b no line end".utf8), atEnd: false) == .undecided)
        #expect(LDAMessageInput.sender(ofFromLine: "<> Thu Dec 3") == nil)
        #expect(LDAMessageInput.sender(ofFromLine: "\"a b\"@c Thu") == "\"a b\"@c")
    }

    @Test("the header is captured up to its empty line, LF or CRLF, whatever the chunks")
    func headerCapture() {
        for split in [1, 3, 7, 100] {
            var capture = HeaderCapture(limit: 1 << 20)
            let bytes = Array("Subject: a\r\nTo: b\r\n\r\nbody\r\n\r\n".utf8)
            var index = 0
            while index < bytes.count {
                capture.feed(bytes[index..<min(bytes.count, index + split)])
                index += split
            }
            #expect(String(decoding: capture.header, as: UTF8.self) == "Subject: a\r\nTo: b\r\n")
        }
        var limited = HeaderCapture(limit: 5)
        limited.feed(Array("Subject: a\n\n".utf8))
        #expect(limited.header.count == 5)
    }
}
