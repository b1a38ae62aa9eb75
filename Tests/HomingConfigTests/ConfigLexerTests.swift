import Testing
@testable import HomingConfig

@Suite("dovecot.conf syntax")
struct ConfigLexerTests {
    private func statements(_ text: String) throws -> [ConfigStatement.Kind] {
        try ConfigLexer(flavor: .main).statements(in: text, file: "t.conf").statements.map(\.kind)
    }

    private func error(_ text: String) -> ConfigError? {
        do {
            _ = try ConfigLexer(flavor: .main).statements(in: text, file: "t.conf")
            return nil
        } catch {
            return error
        }
    }

    @Test("key = value, with or without blanks around =")
    func settings() throws {
        #expect(try statements("a = 1\n  b=2\nc =3\nd= x y  \n") == [
            .setting(key: "a", value: "1", quoted: false), .setting(key: "b", value: "2", quoted: false),
            .setting(key: "c", value: "3", quoted: false), .setting(key: "d", value: "x y", quoted: false),
        ])
        #expect(try statements("empty =\n") == [.setting(key: "empty", value: "", quoted: false)])
    }

    @Test("comments: whole lines, after values, not inside quotes")
    func comments() throws {
        #expect(try statements("# x\n   # y\npostmaster_address = postmaster@domainname   # required\n") == [
            .setting(key: "postmaster_address", value: "postmaster@domainname", quoted: false),
        ])
        #expect(try statements("a = \"x # y\"  # z\nb = 'p#q' r\n") == [
            .setting(key: "a", value: "x # y", quoted: true),
            .setting(key: "b", value: "'p#q' r", quoted: false),
        ])
    }

    @Test("a # glued to a value is a comment, with a warning")
    func ambiguousHash() throws {
        let lexed = try ConfigLexer(flavor: .main).statements(in: "a = x#y\n", file: "t.conf")
        #expect(lexed.statements.map(\.kind) == [.setting(key: "a", value: "x", quoted: false)])
        #expect(lexed.warnings.map(\.description) == [
            "t.conf:1: ambiguous '#' character in line, treating it as a comment; add a space before it to remove this warning",
        ])
    }

    @Test("quoted values are unquoted and unescaped")
    func quoted() throws {
        #expect(try statements(#"a = "x \"y\" \\z""#) == [.setting(key: "a", value: #"x "y" \z"#, quoted: true)])
        #expect(try statements("a = 'single'\n") == [.setting(key: "a", value: "single", quoted: true)])
        #expect(try statements("a = \"\"\n") == [.setting(key: "a", value: "", quoted: true)])
    }

    @Test("a trailing backslash joins lines with one space; the statement has the first line's number")
    func continuation() throws {
        let lexed = try ConfigLexer(flavor: .main).statements(in: "x = 1\nmail_plugins = quota \\\n    sieve\\\n  acl\ny = 2\n", file: "t.conf")
        #expect(lexed.statements.map(\.kind) == [
            .setting(key: "x", value: "1", quoted: false),
            .setting(key: "mail_plugins", value: "quota sieve acl", quoted: false),
            .setting(key: "y", value: "2", quoted: false),
        ])
        #expect(lexed.statements.map(\.location.line) == [1, 2, 5])
    }

    @Test("sections with and without arguments, quoted arguments, closing braces")
    func sections() throws {
        #expect(try statements("service lmtp {\n unix_listener /x/y {\n }\n}\nplugin {\n}\nuserdb \"my db\" {\n}\n") == [
            .sectionStart(type: "service", name: "lmtp"), .sectionStart(type: "unix_listener", name: "/x/y"),
            .sectionEnd, .sectionEnd, .sectionStart(type: "plugin", name: nil), .sectionEnd,
            .sectionStart(type: "userdb", name: "my db"), .sectionEnd,
        ])
    }

    @Test("includes and <file values")
    func includesAndFiles() throws {
        #expect(try statements("!include conf.d/*.conf\n!include_try \"local.conf\"\nssl_key = < /etc/key.pem\n") == [
            .include(pattern: "conf.d/*.conf", optional: false), .include(pattern: "local.conf", optional: true),
            .settingFromFile(key: "ssl_key", path: "/etc/key.pem"),
        ])
    }

    @Test("syntax errors name the file and line")
    func errors() {
        #expect(error("a = 1\nfoo\n")?.description == "t.conf:2: expecting '=' or '{' after 'foo' (write key = value, or name {)")
        #expect(error("service lmtp\n")?.description == "t.conf:1: expecting '{' after 'service lmtp'")
        #expect(error("service lmtp { user = x\n")?.description == "t.conf:1: garbage after '{': user = x (put each setting on its own line)")
        #expect(error("} x\n")?.description == "t.conf:1: garbage after '}': x")
        #expect(error("= 3\n")?.description == "t.conf:1: missing setting name before '='")
        #expect(error("!include\n")?.description == "t.conf:1: !include needs a file name or pattern")
        #expect(error("x = <\n")?.description == "t.conf:1: x: missing file name after '<'")
    }

    @Test("CRLF line ends are accepted")
    func crlf() throws {
        #expect(try statements("a = 1\r\nb = 2\r\n") == [
            .setting(key: "a", value: "1", quoted: false), .setting(key: "b", value: "2", quoted: false),
        ])
    }
}
