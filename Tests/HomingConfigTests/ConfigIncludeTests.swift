import Testing
@testable import HomingConfig
import HomingTestSupport

@Suite("!include, !include_try and <file values")
struct ConfigIncludeTests {
    @Test("globs are relative to the including file and read in sorted order")
    func globs() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let top = try directory.write("dovecot.conf", "!include conf.d/*.conf\nmail_plugins = $mail_plugins last\n")
        try directory.write("conf.d/20-b.conf", "mail_plugins = $mail_plugins b\n!include ../extra/x.inc\n")
        try directory.write("conf.d/10-a.conf", "postmaster_address = pm@example.com\nmail_plugins = a\n")
        try directory.write("extra/x.inc", "mail_plugins = $mail_plugins x\n")
        let loaded = try ConfigurationLoader.load(path: top)
        #expect(loaded.settings.mailPlugins == ["a", "b", "x", "last"])
        #expect(loaded.files == [top, directory.path + "/conf.d/10-a.conf", directory.path + "/conf.d/20-b.conf",
                                 directory.path + "/conf.d/../extra/x.inc"])
    }

    @Test("a missing !include target is an error at the !include line")
    func missing() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let top = try directory.write("dovecot.conf", minimalConfiguration + "!include conf.d/x.conf\n")
        #expect(throws: ConfigError("!include conf.d/x.conf: No such file or directory", at: ConfigLocation(file: top, line: 2))) {
            try ConfigurationLoader.load(path: top)
        }
    }

    @Test("a glob matching nothing is an error for !include")
    func emptyGlob() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let top = try directory.write("dovecot.conf", minimalConfiguration + "!include conf.d/*.conf\n")
        #expect(throws: ConfigError("!include conf.d/*.conf: no files match", at: ConfigLocation(file: top, line: 2))) {
            try ConfigurationLoader.load(path: top)
        }
    }

    @Test("!include_try skips missing files and empty globs silently")
    func includeTry() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let top = try directory.write("dovecot.conf", minimalConfiguration + "!include_try local.conf\n!include_try none/*.conf\n")
        let loaded = try ConfigurationLoader.load(path: top)
        #expect(loaded.warnings.isEmpty)
        #expect(loaded.files == [top])
    }

    @Test("an include loop is an error")
    func loop() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let top = try directory.write("dovecot.conf", minimalConfiguration + "!include conf.d/*.conf\n")
        let inner = try directory.write("conf.d/a.conf", "\n!include ../dovecot.conf\n")
        #expect(throws: ConfigError("!include ../dovecot.conf: include loop (\(directory.path)/conf.d/../dovecot.conf is already being read)",
                                    at: ConfigLocation(file: inner, line: 2))) {
            try ConfigurationLoader.load(path: top)
        }
    }

    @Test("the same file may be included twice when not nested")
    func twice() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let top = try directory.write("dovecot.conf", minimalConfiguration + "!include p.inc\n!include p.inc\n")
        try directory.write("p.inc", "mail_plugins = $mail_plugins p\n")
        #expect(try ConfigurationLoader.load(path: top).settings.mailPlugins == ["p", "p"])
    }

    @Test("errors in included files name the included file")
    func errorInInclude() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let top = try directory.write("dovecot.conf", minimalConfiguration + "!include conf.d/*.conf\n")
        let inner = try directory.write("conf.d/10-mail.conf", "# comment\n\nmail_fsync = later\n")
        #expect(throws: ConfigError("mail_fsync: invalid value 'later' (use optimized, always or never)", at: ConfigLocation(file: inner, line: 3))) {
            try ConfigurationLoader.load(path: top)
        }
    }

    @Test("sections may span an include")
    func sectionAcrossInclude() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let top = try directory.write("dovecot.conf", minimalConfiguration + "userdb {\n!include userdb.inc\n}\n")
        try directory.write("userdb.inc", "driver = static\nargs = uid=1\n")
        let userdbs = try ConfigurationLoader.load(path: top).settings.userdbs
        #expect(userdbs.map(\.driver) == ["static"])
        #expect(userdbs.map(\.args) == ["uid=1"])
    }

    @Test("key = <file reads the value from a file relative to the including file, without the trailing newline")
    func fileValue() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let top = try directory.write("dovecot.conf", "!include conf.d/*.conf\n")
        try directory.write("conf.d/a.conf", "postmaster_address = <postmaster.txt\nprotocol lmtp {\n  hostname = < /nonexistent-homing/h\n}\n")
        try directory.write("conf.d/postmaster.txt", "pm@example.org\n\n")
        #expect(throws: ConfigError("hostname: can't read </nonexistent-homing/h: No such file or directory",
                                    at: ConfigLocation(file: directory.path + "/conf.d/a.conf", line: 3))) {
            try ConfigurationLoader.load(path: top)
        }
        try directory.write("conf.d/a.conf", "postmaster_address = <postmaster.txt\n")
        #expect(try ConfigurationLoader.load(path: top).settings.postmasterAddress == "pm@example.org")
    }

    @Test("a missing top file is an error naming it")
    func missingTop() {
        #expect(throws: ConfigError("can't read configuration file /nonexistent-homing/dovecot.conf: No such file or directory")) {
            try ConfigurationLoader.load(path: "/nonexistent-homing/dovecot.conf")
        }
    }
}
