import Foundation
import HomingTestSupport
import Testing

@Suite("homing user and homing config")
struct CLIIntegrationTests {
    @Test("homing user prints doveadm user's layout and exits 0 for a passwd-file user")
    func userFound() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let result = try await HomingBinary.run(["user", "-c", fixture.configPath, "bob@example.com"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(
            result.standardOutput == """
                field\tvalue
                uid\t\(fixture.uid)
                gid\t\(fixture.gid)
                home\t\(fixture.mailRoot)/example.com/bob
                mail\tmaildir:~/Maildir
                quota_rule\t*:storage=1M

                """)
    }

    @Test("a missing user exits 67 with doveadm's message; a broken one exits 75")
    func userMissingAndBroken() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let missing = try await HomingBinary.run(["user", "-c", fixture.configPath, "nosuch@example.com"])
        #expect(missing.status == 67)
        #expect(missing.standardOutput == "field\tvalue\n\nuserdb lookup: user nosuch@example.com doesn't exist\n")
        let broken = try await HomingBinary.run(["user", "-c", fixture.configPath, "broken@example.com"])
        #expect(broken.status == 75)
        #expect(broken.standardError.contains("broken@example.com"))
    }

    @Test("-f json, --field, -u and listing with a mask")
    func formats() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let json = try await HomingBinary.run(["user", "-c", fixture.configPath, "-f", "json", "alice@example.com"])
        #expect(
            json.standardOutput
                == "[{\"field\":\"uid\",\"value\":\"\(fixture.uid)\"},{\"field\":\"gid\",\"value\":\"\(fixture.gid)\"},{\"field\":\"home\",\"value\":\"\(fixture.mailRoot)/example.com/alice\"},{\"field\":\"mail\",\"value\":\"maildir:~/Maildir\"}]\n")
        let field = try await HomingBinary.run(["user", "-c", fixture.configPath, "--field", "home", "alice@example.com"])
        #expect(field.standardOutput == "\(fixture.mailRoot)/example.com/alice\n")
        let userdbOnly = try await HomingBinary.run(["user", "-c", fixture.configPath, "-u", "bob@example.com"])
        #expect(
            userdbOnly.standardOutput
                == "userdb: bob@example.com\n  uid: \(fixture.uid)\n  gid: \(fixture.gid)\n  home: \(fixture.mailRoot)/example.com/bob\n  quota_rule: *:storage=1M\n")
        let list = try await HomingBinary.run(["user", "-c", fixture.configPath, "*@example.com"])
        #expect(list.status == 0)
        #expect(list.standardOutput == "alice@example.com\nbob@example.com\nbroken@example.com\n")
    }

    @Test("homing user works with the static and passwd userdbs")
    func otherDrivers() async throws {
        let fixture = try IntegrationFixture(
            userdb: """
                userdb {
                  driver = passwd
                }
                userdb {
                  driver = static
                  args = uid=daemon gid=daemon home=/srv/mail/%d/%n allow_all_users=yes
                }
                """)
        defer { fixture.dir.remove() }
        let system = try await HomingBinary.run(["user", "-c", fixture.configPath, "daemon"])
        #expect(system.status == 0, "\(system.standardError)")
        #expect(system.standardOutput.contains("uid\t1\ngid\t1\nhome\t/usr/sbin\n"))
        let virtual = try await HomingBinary.run(["user", "-c", fixture.configPath, "Someone@Example.COM"])
        #expect(virtual.status == 0, "\(virtual.standardError)")
        // auth_username_format = %Lu lowercases the name before the lookup.
        #expect(virtual.standardOutput.hasPrefix("field\tvalue\nuser\tsomeone@example.com\nuid\t1\ngid\t1\nhome\t/srv/mail/example.com/someone\n"))
    }

    @Test("a value Homing cannot parse stops serve and config --check with file:line")
    func configErrors() async throws {
        let fixture = try IntegrationFixture(extraSettings: "lmtp_save_to_detail_mailbox = maybe")
        defer { fixture.dir.remove() }
        let serve = try await HomingBinary.run(["serve", "-c", fixture.configPath])
        #expect(serve.status == 78)
        #expect(serve.standardError.contains("\(fixture.configPath):9:"), "\(serve.standardError)")
        let check = try await HomingBinary.run(["config", "--check", "-c", fixture.configPath])
        #expect(check.status == 78)
        #expect(check.standardError.contains("\(fixture.configPath):9:"))
    }

    @Test("an unknown userdb driver and a missing postmaster_address are start-up errors that say what to do")
    func startupErrors() async throws {
        let unknown = try IntegrationFixture(userdb: "userdb {\n  driver = nosuch\n}")
        defer { unknown.dir.remove() }
        let check = try await HomingBinary.run(["config", "--check", "-c", unknown.configPath])
        #expect(check.status == 78)
        #expect(check.standardError.contains("unknown userdb driver 'nosuch'"), "\(check.standardError)")

        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let conf = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "postmaster_address = postmaster@example.com\n", with: "")
        try conf.write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let serve = try await HomingBinary.run(["serve", "-c", fixture.configPath])
        #expect(serve.status == 78)
        #expect(serve.standardError.contains("postmaster_address"))
        #expect(serve.standardError.contains("protocol lmtp"))
    }

    @Test("a unix listener in a directory that does not exist is a clear start-up error; base_dir is created")
    func missingSocketDirectory() async throws {
        let fixture = try IntegrationFixture(
            extraSettings: "service lmtp {\n  unix_listener /nonexistent-homing-test/lmtp {\n  }\n}")
        defer { fixture.dir.remove() }
        try FileManager.default.removeItem(atPath: fixture.dir.file("run"))
        let serve = try await HomingBinary.run(["serve", "-c", fixture.configPath])
        #expect(serve.status == 78)
        #expect(
            serve.standardError.contains(
                "unix:/nonexistent-homing-test/lmtp: directory /nonexistent-homing-test does not exist"),
            "\(serve.standardError)")
        let check = try await HomingBinary.run(["config", "--check", "-c", fixture.configPath])
        #expect(check.standardError.contains("/nonexistent-homing-test does not exist"))
    }

    @Test("base_dir is created when missing, as Dovecot does")
    func baseDirCreated() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        try FileManager.default.removeItem(atPath: fixture.dir.file("run"))
        let server = try await fixture.startServer()
        #expect(await server.stop() == 0)
        #expect(server.log.contains("Homing stopped"))
    }

    @Test("homing config prints the non-default settings")
    func configPrint() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let result = try await HomingBinary.run(["config", "-c", fixture.configPath])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("postmaster_address = postmaster@example.com\n"))
        #expect(result.standardOutput.contains("protocols = lmtp\n"))
        #expect(result.standardOutput.contains("  driver = passwd-file\n"))
    }
}
