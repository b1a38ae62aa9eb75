import Testing

@testable import HomingUserdb

@Suite("PasswdFileParser")
struct PasswdFileParserTests {
    static func entry(_ contents: PasswdFileContents, _ user: String) -> PasswdFileEntry? {
        if case .entry(let entry) = contents.records[user] { return entry }
        return nil
    }

    @Test("all eight fields, with userdb_ extra fields kept without the prefix and others ignored")
    func fullLine() {
        let contents = PasswdFileParser.parse(
            "alice:{PLAIN}pw:1000:1001:Alice:/home/alice:/bin/sh:userdb_mail=maildir:~/Maildir allow_nets=10.0.0.0/8 userdb_quota_rule=*:storage=1G\n",
            path: "/f")
        let alice = Self.entry(contents, "alice")
        #expect(alice?.uid == "1000")
        #expect(alice?.gid == "1001")
        #expect(alice?.home == "/home/alice")
        #expect(
            alice?.userdbFields.entries == [
                .init(name: "mail", template: "maildir:~/Maildir"),
                .init(name: "quota_rule", template: "*:storage=1G"),
            ])
        #expect(alice?.line == 1)
        #expect(contents.problems.isEmpty)
    }

    @Test("trailing fields may be left out and empty uid, gid and home mean not set")
    func shortLines() {
        let contents = PasswdFileParser.parse("bob:pw\ncarol:x:::::\ndave:x:vmail:mail\n", path: "/f")
        let bob = Self.entry(contents, "bob")
        #expect(bob?.uid == nil && bob?.gid == nil && bob?.home == nil)
        #expect(bob?.userdbFields.isEmpty == true)
        let carol = Self.entry(contents, "carol")
        #expect(carol?.uid == nil && carol?.home == nil)
        #expect(Self.entry(contents, "dave")?.uid == "vmail")
        #expect(Self.entry(contents, "dave")?.gid == "mail")
        #expect(contents.users == ["bob", "carol", "dave"])
    }

    @Test("comments, blank lines and CRLF line ends are handled, line numbers stay right")
    func commentsAndBlanks() {
        let contents = PasswdFileParser.parse("# users\n\n   \r\nerin:x:1:1::/h/e\r\n", path: "/f")
        #expect(contents.users == ["erin"])
        #expect(Self.entry(contents, "erin")?.home == "/h/e")
        #expect(Self.entry(contents, "erin")?.line == 4)
    }

    @Test("a non-numeric uid garbage or a line with too few fields is a problem with file and line")
    func malformed() {
        let contents = PasswdFileParser.parse(
            "ok:x:1:1\nbad:x:12x:1\nlonely\n:x:1:1\nbadgid:x:1:-5\n", path: "/etc/u")
        #expect(
            contents.problems.map(\.description) == [
                "/etc/u:2: user 'bad': uid '12x' is neither a number nor a valid user name",
                "/etc/u:3: user 'lonely': too few fields (expected user:password:uid:gid:gecos:home:shell:extra_fields)",
                "/etc/u:4: empty user name",
                "/etc/u:5: user 'badgid': gid '-5' is neither a number nor a valid group name",
            ])
        #expect(Self.entry(contents, "ok") != nil)
        if case .malformed(let problem) = contents.records["bad"] {
            #expect(problem.line == 2)
        } else {
            Issue.record("bad should be malformed")
        }
        #expect(contents.users == ["ok", "bad", "lonely", "badgid"])
    }

    @Test("the first line for a name wins and later ones are reported as duplicates")
    func duplicates() {
        let contents = PasswdFileParser.parse("a:x:1:1\nb:x:2:2\na:x:3:3\n", path: "/f")
        #expect(Self.entry(contents, "a")?.uid == "1")
        #expect(
            contents.duplicates.map(\.description) == [
                "/f:3: user 'a' already defined on line 1; this line is ignored"
            ])
        #expect(contents.users == ["a", "b"])
    }

    @Test("an extra field userdb_ with nothing after the prefix is a problem")
    func emptyUserdbField() {
        let contents = PasswdFileParser.parse("a:x:1:1::::userdb_=x\n", path: "/f")
        #expect(
            contents.problems.map(\.message) == [
                "user 'a': extra field 'userdb_' has no name after userdb_"
            ])
    }
}
