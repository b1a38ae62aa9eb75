import Testing
@testable import HomingMaildir

@Suite("mailbox name to directory mapping")
struct MailboxDirectoryTests {
    let maildirPlusPlus = MailLocation(root: "/home/alice/Maildir")
    let fs = MailLocation(root: "/home/alice/Maildir", layout: .fs)

    @Test("INBOX in any case is the root; without a home its parent is the trusted base")
    func inbox() throws {
        for name in ["INBOX", "inbox", "InBoX"] {
            let mailbox = try maildirPlusPlus.mailbox(named: name)
            #expect(mailbox.path == "/home/alice/Maildir")
            #expect(mailbox.trustedBase == "/home/alice")
            #expect(mailbox.isInbox)
        }
        #expect(try fs.directory(forMailbox: "Inbox") == "/home/alice/Maildir")
    }

    @Test("INBOX= moves INBOX; outside the home its parent is the trusted base")
    func inboxOption() throws {
        let location = try MailLocation.parse("maildir:~/Maildir:INBOX=/var/mail/alice", home: "/home/alice")
        let inbox = try location.mailbox(named: "INBOX")
        #expect(inbox.path == "/var/mail/alice")
        #expect(inbox.trustedBase == "/var/mail")
        #expect(try location.mailbox(named: "lists").trustedBase == "/home/alice")
        #expect(try location.directory(forMailbox: "lists") == "/home/alice/Maildir/.lists")
    }

    @Test("inside the home, the home is the trusted base: it may be a link, nothing below it")
    func homeIsTheTrustedBase() throws {
        let below = try MailLocation.parse("maildir:~/mail/Maildir", home: "/home/alice")
        let lists = try below.mailbox(named: "lists")
        #expect(lists.trustedBase == "/home/alice")
        #expect(lists.treePath.components == ["mail", "Maildir", ".lists"])
        let home = try MailLocation.parse("maildir:~", home: "/home/alice/")
        let inbox = try home.mailbox(named: "INBOX")
        #expect(inbox.trustedBase == "/home/alice")
        #expect(inbox.treePath.components.isEmpty)
    }

    @Test("Maildir++ folders are dot directories, / and . both separate levels")
    func maildirPlusPlusFolders() throws {
        #expect(try maildirPlusPlus.directory(forMailbox: "lists") == "/home/alice/Maildir/.lists")
        #expect(try maildirPlusPlus.directory(forMailbox: "a/b") == "/home/alice/Maildir/.a.b")
        #expect(try maildirPlusPlus.directory(forMailbox: "a.b") == "/home/alice/Maildir/.a.b")
        #expect(try maildirPlusPlus.directory(forMailbox: "INBOX.sub") == "/home/alice/Maildir/.INBOX.sub")
        let lists = try maildirPlusPlus.mailbox(named: "Lists")
        #expect(lists.trustedBase == "/home/alice")
        #expect(lists.isInbox == false)
    }

    @Test("LAYOUT=fs folders are nested directories, MAILBOXDIR and DIRNAME apply")
    func fsFolders() throws {
        #expect(try fs.directory(forMailbox: "a/b") == "/home/alice/Maildir/a/b")
        #expect(try fs.directory(forMailbox: "a.b") == "/home/alice/Maildir/a.b")
        let dirname = try MailLocation.parse("maildir:/m:LAYOUT=fs:DIRNAME=mails:MAILBOXDIR=boxes", home: nil)
        #expect(try dirname.directory(forMailbox: "a/b") == "/m/boxes/a/b/mails")
        #expect(try dirname.directory(forMailbox: "INBOX") == "/m")
    }

    @Test("non-ASCII names are stored in modified UTF-7")
    func modifiedUTF7() throws {
        #expect(try maildirPlusPlus.directory(forMailbox: "Entwürfe") == "/home/alice/Maildir/.Entw&APw-rfe")
        #expect(try maildirPlusPlus.directory(forMailbox: "日本語") == "/home/alice/Maildir/.&ZeVnLIqe-")
        #expect(try maildirPlusPlus.directory(forMailbox: "R&D") == "/home/alice/Maildir/.R&-D")
        #expect(try maildirPlusPlus.directory(forMailbox: "Ärger/Öl") == "/home/alice/Maildir/.&AMQ-rger.&ANY-l")
        #expect(try fs.directory(forMailbox: "Ärger/Öl") == "/home/alice/Maildir/&AMQ-rger/&ANY-l")
    }

    @Test("with UTF-8 names stay UTF-8 on disk")
    func utf8Option() throws {
        let location = try MailLocation.parse("maildir:/m:UTF-8", home: nil)
        #expect(try location.directory(forMailbox: "Entwürfe") == "/m/.Entwürfe")
    }

    @Test("unsafe names are refused", arguments: [
        "", "a..b", ".a", "a.", "a//b", "/a", "a/", "~x", "~", "a\u{0}b", "a\nb", "a\u{7F}",
    ])
    func refusedMaildirPlusPlus(name: String) {
        let error = #expect(throws: MailLocationError.self) { try maildirPlusPlus.directory(forMailbox: name) }
        guard case .invalidMailboxName(let refused, _)? = error else {
            Issue.record("expected invalidMailboxName, got \(String(describing: error))")
            return
        }
        #expect(refused == name)
    }

    @Test("unsafe LAYOUT=fs names are refused", arguments: [
        "../x", "a/../b", "./a", "a/.", "..", "new", "a/cur", "tmp", "a//b",
    ])
    func refusedFs(name: String) {
        #expect(throws: MailLocationError.self) { try fs.directory(forMailbox: name) }
    }

    @Test("refusal messages say what is wrong")
    func refusalMessages() {
        #expect(throws: MailLocationError.invalidMailboxName(name: "", reason: "the name is empty")) {
            try maildirPlusPlus.directory(forMailbox: "")
        }
        #expect(throws: MailLocationError.invalidMailboxName(name: "~x", reason: "it starts with ~")) {
            try maildirPlusPlus.directory(forMailbox: "~x")
        }
        #expect(throws: MailLocationError.invalidMailboxName(name: "a/../b", reason: "it has a . or .. level")) {
            try fs.directory(forMailbox: "a/../b")
        }
    }

    @Test("names longer than a directory name may be are refused")
    func tooLong() throws {
        #expect(throws: MailLocationError.self) { try maildirPlusPlus.directory(forMailbox: String(repeating: "x", count: 255)) }
        #expect(try maildirPlusPlus.directory(forMailbox: String(repeating: "x", count: 254)).hasSuffix("/." + String(repeating: "x", count: 254)))
        #expect(throws: MailLocationError.self) { try fs.directory(forMailbox: String(repeating: "y", count: 256)) }
    }
}
