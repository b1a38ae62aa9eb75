import Foundation
import HomingTestSupport
import Testing

/// `homing config --check` fails for everything `serve` would fail on, with the line of the
/// setting, and both refuse a configuration that could deliver nothing.
@Suite("homing config --check catches what serve would fail on")
struct ConfigCheckIntegrationTests {
    /// Runs `config --check` and `serve` on the fixture with `extra` top-level lines; both must
    /// fail with 78 and name `expected` (at `line` when given).
    func expectRefused(
        _ extra: String, _ expected: String, line: Int? = nil, replacing: (String, String)? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let fixture = try IntegrationFixture(extraSettings: extra)
        defer { fixture.dir.remove() }
        if let (old, new) = replacing {
            let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8).replacingOccurrences(of: old, with: new)
            try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        }
        let wanted = line.map { "\(fixture.configPath):\($0): \(expected)" } ?? expected
        let check = try await HomingBinary.run(["config", "--check", "-c", fixture.configPath])
        #expect(check.status == 78, "\(check.standardError)", sourceLocation: sourceLocation)
        #expect(check.standardError.contains(wanted), "\(check.standardError)", sourceLocation: sourceLocation)
        let serve = try await HomingBinary.run(["serve", "-c", fixture.configPath])
        #expect(serve.status == 78, "\(serve.standardError)", sourceLocation: sourceLocation)
        #expect(serve.standardError.contains(wanted), "\(serve.standardError)", sourceLocation: sourceLocation)
    }

    @Test("a listener owner that does not exist")
    func listenerUser() async throws {
        try await expectRefused(
            "service lmtp {\n  unix_listener /tmp/homing-never {\n    user = nosuchuser-homing\n  }\n}",
            "unix_listener /tmp/homing-never: user 'nosuchuser-homing' does not exist", line: 10)
    }

    @Test("a log_path in a directory that does not exist")
    func logPath() async throws {
        try await expectRefused(
            "", "log_path /nonexistent-homing/homing.log: the directory /nonexistent-homing does not exist",
            replacing: ("log_path = /dev/stderr", "log_path = /nonexistent-homing/homing.log"))
    }

    @Test("mail_location: Debian's stock mbox, LAYOUT=index, a bad variable")
    func mailLocations() async throws {
        try await expectRefused(
            "", "mail_location: mail location \"mbox:~/mail:INBOX=/var/mail/user@example.com\": Homing stores mail only in maildir (mbox is not supported)",
            line: 5, replacing: ("mail_location = maildir:~/Maildir", "mail_location = mbox:~/mail:INBOX=/var/mail/%u"))
        try await expectRefused(
            "", "mail_location: mail location \"maildir:~/Maildir:LAYOUT=index\": LAYOUT=index: Homing supports LAYOUT=maildir++ and LAYOUT=fs only", line: 5,
            replacing: ("mail_location = maildir:~/Maildir", "mail_location = maildir:~/Maildir:LAYOUT=index"))
        try await expectRefused(
            "", "mail_location", line: 5,
            replacing: ("mail_location = maildir:~/Maildir", "mail_location = maildir:/var/vmail/%{nosuchvariable}"))
    }

    @Test("auth_username_format with an unknown variable")
    func usernameFormat() async throws {
        try await expectRefused("auth_username_format = %{nosuchvariable}", "auth_username_format", line: 9)
    }

    @Test("mail_uid that does not exist, and plugin settings that do not parse, each at its line, all at once")
    func accountsAndPlugins() async throws {
        let fixture = try IntegrationFixture(extraSettings: """
            mail_uid = nosuchuser-homing
            mail_plugins = quota sieve
            plugin {
              quota_rule = *:storage=lots
              sieve_max_actions = lots
            }
            """)
        defer { fixture.dir.remove() }
        let check = try await HomingBinary.run(["config", "--check", "-c", fixture.configPath])
        #expect(check.status == 78)
        let path = fixture.configPath
        #expect(check.standardError.contains("\(path):9: mail_uid: unknown user 'nosuchuser-homing'"), "\(check.standardError)")
        #expect(check.standardError.contains("\(path):12: plugin { }: quota_rule: invalid size 'lots'"), "\(check.standardError)")
        #expect(check.standardError.contains("\(path):13: plugin { }: sieve_max_actions: 'lots' is not a number"), "\(check.standardError)")
    }

    @Test("quota and Sieve settings without their plugin are warnings, not silence")
    func unusedPluginSettings() async throws {
        let fixture = try IntegrationFixture(extraSettings: """
            lmtp_rcpt_check_quota = yes
            plugin {
              quota_rule = *:storage=1G
              sieve = file:~/sieve;active=~/.dovecot.sieve
            }
            """)
        defer { fixture.dir.remove() }
        let check = try await HomingBinary.run(["config", "--check", "-c", fixture.configPath])
        #expect(check.status == 0, "\(check.standardError)")
        let path = fixture.configPath
        #expect(check.standardError.contains(
            "Warning: \(path):11: quota_rule is set but mail_plugins has no quota: the limits are not enforced"), "\(check.standardError)")
        #expect(check.standardError.contains("Warning: \(path):12: sieve is set but mail_plugins has no sieve"))
        #expect(check.standardError.contains("Warning: \(path):9: lmtp_rcpt_check_quota is set but mail_plugins has no quota"))
    }

    @Test("homing user strips the detail as LMTP does and says so; -v exits 75 for a user mail cannot be delivered to")
    func userCommand() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let detail = try await HomingBinary.run(["user", "-c", fixture.configPath, "alice+tag@example.com"])
        #expect(detail.status == 0, "\(detail.standardError)")
        #expect(detail.standardOutput.contains("user\talice@example.com\n"))
        #expect(detail.standardError.contains("alice+tag@example.com: looked up as alice@example.com (detail 'tag' removed, as LMTP does)"))
        let broken = try await HomingBinary.run(["user", "-v", "-c", fixture.configPath, "broken@example.com"])
        #expect(broken.status == 75, "\(broken.standardOutput)\(broken.standardError)")
    }
}
