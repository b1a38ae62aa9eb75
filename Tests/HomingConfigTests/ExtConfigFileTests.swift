import Testing
@testable import HomingConfig
import HomingTestSupport

@Suite("dovecot-*.conf.ext files")
struct ExtConfigFileTests {
    @Test("key = value lines, blanks and comments")
    func plainSettings() throws {
        let file = try ExtConfigFile.parse(text: """
            # a comment
              driver = pgsql

            connect = host=localhost dbname=mail   # trailing comment
            default_pass_scheme=SHA512-CRYPT
            """, file: "/etc/dovecot/dovecot-sql.conf.ext")
        #expect(file.entries.map(\.key) == ["driver", "connect", "default_pass_scheme"])
        #expect(file.value("connect") == "host=localhost dbname=mail")
        #expect(file.value("default_pass_scheme") == "SHA512-CRYPT")
        #expect(file.entries[1].location == ConfigLocation(file: "/etc/dovecot/dovecot-sql.conf.ext", line: 4))
        #expect(file.value("missing") == nil)
    }

    @Test("the last line for a key wins")
    func lastWins() throws {
        let file = try ExtConfigFile.parse(text: "hosts = a\nhosts = b\n", file: "x.conf.ext")
        #expect(file.value("hosts") == "b")
        #expect(file.entry("hosts")?.location.line == 2)
    }

    @Test("a trailing backslash continues the value, joined with one space")
    func continuation() throws {
        let file = try ExtConfigFile.parse(text: """
            user_query = SELECT home, uid, gid \\
              FROM users   \\
                WHERE userid = '%u'
            iterate_query = SELECT 1
            """, file: "sql.conf.ext")
        #expect(file.value("user_query") == "SELECT home, uid, gid FROM users WHERE userid = '%u'")
        #expect(file.entries[0].location.line == 1)
        #expect(file.entries[1].location.line == 4)
    }

    @Test("# inside quotes is literal, quotes are removed and \\ escapes")
    func quoting() throws {
        let file = try ExtConfigFile.parse(text: """
            password = "se#cret \\"x\\" \\\\ y"  # comment
            query = SELECT '#' FROM t # comment
            single = 'it''s'
            """, file: "f")
        #expect(file.value("password") == "se#cret \"x\" \\ y")
        #expect(file.value("query") == "SELECT '#' FROM t")
        #expect(file.value("single") == "it''s")
    }

    @Test("a line without = is an error naming file and line")
    func missingEquals() {
        #expect(throws: ConfigError("expecting '=' after 'driver' (write key = value)", at: ConfigLocation(file: "f.ext", line: 2))) {
            try ExtConfigFile.parse(text: "# x\ndriver pgsql\n", file: "f.ext")
        }
        let error = ConfigError("expecting '=' after 'driver' (write key = value)", at: ConfigLocation(file: "f.ext", line: 2))
        #expect(error.description == "f.ext:2: expecting '=' after 'driver' (write key = value)")
    }

    @Test("sections are not allowed")
    func noSections() {
        #expect(throws: ConfigError("expecting '=' after 'userdb' (write key = value)", at: ConfigLocation(file: "f", line: 1))) {
            try ExtConfigFile.parse(text: "userdb {\n}\n", file: "f")
        }
    }

    @Test("!include and !include_try read files relative to the including file")
    func includes() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        try directory.write("dovecot-sql.conf.ext", """
            driver = pgsql
            !include sql.d/*.inc
            !include_try missing.inc
            !include_try nothing/*.inc
            connect = after
            """)
        try directory.write("sql.d/b.inc", "b = 2\n")
        try directory.write("sql.d/a.inc", "a = 1\nconnect = inside\n")
        let file = try ExtConfigFile.load(path: directory.path + "/dovecot-sql.conf.ext")
        #expect(file.entries.map(\.key) == ["driver", "a", "connect", "b", "connect"])
        #expect(file.entries[1].location == ConfigLocation(file: directory.path + "/sql.d/a.inc", line: 1))
        #expect(file.value("connect") == "after")
    }

    @Test("a missing !include target is an error at the !include line")
    func missingInclude() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let path = try directory.write("f.ext", "a = 1\n!include other.ext\n")
        #expect(throws: ConfigError("!include other.ext: No such file or directory", at: ConfigLocation(file: path, line: 2))) {
            try ExtConfigFile.load(path: path)
        }
    }

    @Test("an include loop is an error")
    func includeLoop() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let first = try directory.write("a.ext", "!include b.ext\n")
        let second = try directory.write("b.ext", "x = 1\n!include a.ext\n")
        #expect(throws: ConfigError("!include a.ext: include loop (\(first) is already being read)", at: ConfigLocation(file: second, line: 2))) {
            try ExtConfigFile.load(path: first)
        }
    }

    @Test("a missing file is an error naming it")
    func missingFile() {
        #expect(throws: ConfigError("can't read /nonexistent/homing.ext: No such file or directory")) {
            try ExtConfigFile.load(path: "/nonexistent/homing.ext")
        }
    }
}
