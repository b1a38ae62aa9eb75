import Testing
@testable import HomingMaildir

@Suite("mail_location parsing")
struct MailLocationTests {
    @Test("maildir:~/Maildir expands ~ to the home and uses Maildir++")
    func homeMaildir() throws {
        let location = try MailLocation.parse("maildir:~/Maildir", home: "/home/alice")
        #expect(location.root == "/home/alice/Maildir")
        #expect(location.layout == .maildirPlusPlus)
        #expect(location.inboxPath == nil)
        #expect(location.utf8 == false)
        #expect(location.options.isEmpty)
    }

    @Test("maildir:~/.maildir and a bare ~ expand to the home")
    func dotMaildirAndBareTilde() throws {
        #expect(try MailLocation.parse("maildir:~/.maildir", home: "/home/bob/").root == "/home/bob/.maildir")
        #expect(try MailLocation.parse("maildir:~", home: "/var/vmail/example.com/bob").root == "/var/vmail/example.com/bob")
    }

    @Test("an absolute path needs no home and is normalised")
    func absolutePath() throws {
        #expect(try MailLocation.parse("maildir:/var/vmail/example.com/alice", home: nil).root == "/var/vmail/example.com/alice")
        #expect(try MailLocation.parse("maildir:/var//vmail/./x/", home: nil).root == "/var/vmail/x")
    }

    @Test("a value without a format prefix is taken as a maildir path")
    func autodetectedPath() throws {
        #expect(try MailLocation.parse("/var/vmail/alice", home: nil).root == "/var/vmail/alice")
        #expect(try MailLocation.parse("~/Maildir", home: "/home/a").root == "/home/a/Maildir")
        let withOptions = try MailLocation.parse("/srv/mail/a:LAYOUT=fs", home: nil)
        #expect(withOptions.root == "/srv/mail/a")
        #expect(withOptions.layout == .fs)
    }

    @Test("options are kept in order, path options get ~ expanded")
    func options() throws {
        let location = try MailLocation.parse(
            "maildir:~/Maildir:LAYOUT=fs:INBOX=/var/mail/alice:INDEX=~/idx:CONTROL=~/ctl:VOLATILEDIR=/run/v:DIRNAME=mails:UTF-8:NO-NOSELECT",
            home: "/home/alice")
        #expect(location.root == "/home/alice/Maildir")
        #expect(location.layout == .fs)
        #expect(location.inboxPath == "/var/mail/alice")
        #expect(location.directoryName == "mails")
        #expect(location.utf8)
        #expect(location.options.map(\.key) == ["LAYOUT", "INBOX", "INDEX", "CONTROL", "VOLATILEDIR", "DIRNAME", "UTF-8", "NO-NOSELECT"])
        #expect(location.optionValue("INDEX") == "/home/alice/idx")
        #expect(location.optionValue("CONTROL") == "/home/alice/ctl")
        #expect(location.optionValue("NO-NOSELECT") == "")
        #expect(location.optionValue("ALT") == nil)
    }

    @Test("UTF8, INDEX=MEMORY, MAILBOXDIR and LAYOUT=maildir++ are accepted")
    func moreOptions() throws {
        let location = try MailLocation.parse(
            "maildir:/m:UTF8:INDEX=MEMORY:MAILBOXDIR=boxes/all:LAYOUT=maildir++:KEEP-NOSELECT", home: nil)
        #expect(location.utf8)
        #expect(location.optionValue("INDEX") == "MEMORY")
        #expect(location.mailboxDirectoryName == "boxes/all")
        #expect(location.layout == .maildirPlusPlus)
    }

    @Test("a doubled colon is a literal colon and a trailing colon is ignored")
    func colonEscaping() throws {
        #expect(try MailLocation.parse("maildir:/srv/a::b/Maildir", home: nil).root == "/srv/a:b/Maildir")
        let trailing = try MailLocation.parse("maildir:~/Maildir:", home: "/h")
        #expect(trailing.root == "/h/Maildir")
        #expect(trailing.options.isEmpty)
    }

    @Test("other mailbox formats are refused with a clear message", arguments: ["mbox", "sdbox", "mdbox"])
    func otherFormats(format: String) throws {
        let error = #expect(throws: MailLocationError.self) {
            try MailLocation.parse("\(format):~/mail:INBOX=/var/mail/u", home: "/home/u")
        }
        #expect(error == .unsupportedFormat(format: format, location: "\(format):~/mail:INBOX=/var/mail/u"))
        #expect(error?.description.contains("Homing stores mail only in maildir") == true)
    }

    @Test("an unknown format name is an error naming it")
    func unknownFormat() {
        #expect(throws: MailLocationError.unknownFormat(format: "maildr", location: "maildr:~/Maildir")) {
            try MailLocation.parse("maildr:~/Maildir", home: "/h")
        }
    }

    @Test("~ without a home is an error saying the user has no home")
    func noHome() {
        let error = #expect(throws: MailLocationError.self) { try MailLocation.parse("maildir:~/Maildir", home: nil) }
        #expect(error == .noHome(location: "maildir:~/Maildir"))
        #expect(error?.description == "the user has no home directory, but the mail location \"maildir:~/Maildir\" uses ~")
        #expect(throws: MailLocationError.noHome(location: "maildir:~/Maildir")) {
            try MailLocation.parse("maildir:~/Maildir", home: "")
        }
        #expect(throws: MailLocationError.noHome(location: "maildir:/m:INDEX=~/i")) {
            try MailLocation.parse("maildir:/m:INDEX=~/i", home: nil)
        }
    }

    @Test("a relative home is refused")
    func relativeHome() {
        #expect(throws: MailLocationError.relativeHome(home: "home/alice")) {
            try MailLocation.parse("maildir:~/Maildir", home: "home/alice")
        }
    }

    @Test("empty values, missing roots, relative paths and .. are refused")
    func badPaths() {
        #expect(throws: MailLocationError.empty) { try MailLocation.parse("", home: "/h") }
        #expect(throws: MailLocationError.missingRoot(location: "maildir:")) { try MailLocation.parse("maildir:", home: "/h") }
        #expect(throws: MailLocationError.missingRoot(location: "maildir:INBOX=/var/mail/a")) {
            try MailLocation.parse("maildir:INBOX=/var/mail/a", home: "/h")
        }
        #expect(throws: MailLocationError.relativePath(what: "mail root directory", path: "Maildir", location: "maildir:Maildir")) {
            try MailLocation.parse("maildir:Maildir", home: "/h")
        }
        #expect(throws: MailLocationError.relativePath(what: "mail root directory", path: "~alice/Maildir", location: "maildir:~alice/Maildir")) {
            try MailLocation.parse("maildir:~alice/Maildir", home: "/h")
        }
        #expect(throws: MailLocationError.parentComponent(what: "mail root directory", path: "/var/vmail/../etc", location: "maildir:/var/vmail/../etc")) {
            try MailLocation.parse("maildir:/var/vmail/../etc", home: nil)
        }
        #expect(throws: MailLocationError.parentComponent(what: "mail root directory", path: "~/../x", location: "maildir:~/../x")) {
            try MailLocation.parse("maildir:~/../x", home: "/h")
        }
        #expect(throws: MailLocationError.relativePath(what: "INBOX path", path: "inbox", location: "maildir:/m:INBOX=inbox")) {
            try MailLocation.parse("maildir:/m:INBOX=inbox", home: nil)
        }
    }

    @Test("NUL and control characters are refused")
    func controlCharacters() {
        #expect(throws: MailLocationError.controlCharacter(location: "maildir:/var/\u{0}x")) {
            try MailLocation.parse("maildir:/var/\u{0}x", home: nil)
        }
        #expect(throws: MailLocationError.controlCharacter(location: "maildir:/var/x\n")) {
            try MailLocation.parse("maildir:/var/x\n", home: nil)
        }
    }

    @Test("an unknown option is an error naming it")
    func unknownOption() {
        let error = #expect(throws: MailLocationError.self) { try MailLocation.parse("maildir:~/Maildir:FOO=bar", home: "/h") }
        #expect(error == .unknownOption(option: "FOO", location: "maildir:~/Maildir:FOO=bar"))
        #expect(error?.description == "mail location \"maildir:~/Maildir:FOO=bar\": unknown option \"FOO\"")
        #expect(throws: MailLocationError.unknownOption(option: "layout", location: "maildir:/m:layout=fs")) {
            try MailLocation.parse("maildir:/m:layout=fs", home: nil)
        }
    }

    @Test("unusable option values are refused")
    func badOptionValues() {
        #expect(throws: MailLocationError.self) { try MailLocation.parse("maildir:/m:LAYOUT=index", home: nil) }
        #expect(throws: MailLocationError.self) { try MailLocation.parse("maildir:/m:LAYOUT=FS", home: nil) }
        #expect(throws: MailLocationError.self) { try MailLocation.parse("maildir:/m:DIRNAME=../x", home: nil) }
        #expect(throws: MailLocationError.self) { try MailLocation.parse("maildir:/m:DIRNAME=a/b", home: nil) }
        #expect(throws: MailLocationError.self) { try MailLocation.parse("maildir:/m:MAILBOXDIR=/abs", home: nil) }
        #expect(throws: MailLocationError.self) { try MailLocation.parse("maildir:/m:BROKENCHAR=ab", home: nil) }
        #expect(throws: MailLocationError.self) { try MailLocation.parse("maildir:/m:INBOX=", home: nil) }
        #expect(throws: MailLocationError.self) { try MailLocation.parse("maildir:/m:ITERINDEX", home: nil) }
    }
}
