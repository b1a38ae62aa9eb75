import Foundation
import Glibc
import HomingTestSupport
import Testing

/// The integration tests' configurations written in Dovecot 2.4 syntax deliver exactly as
/// their 2.3 twins: the same LMTP replies, the same files, the same `homing user` output. Each
/// 2.4 file is what `homing config --print-2.4` makes of the 2.3 one (so these are also the
/// round trips of those configurations, .conf.ext contents folded in), except the passwd-file
/// one, which is also written by hand.
@Suite("Dovecot 2.4 configurations deliver as their 2.3 twins", .serialized)
struct Dovecot24IntegrationTests {
    /// Replaces the fixture's homing.conf by its `--print-2.4` output and returns that text.
    @discardableResult
    static func convert(_ fixture: IntegrationFixture) async throws -> String {
        let printed = try await HomingBinary.run(["config", "--print-2.4", "-c", fixture.configPath])
        #expect(printed.status == 0, "\(printed.standardError)")
        try printed.standardOutput.write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let check = try await HomingBinary.run(["config", "--check", "-c", fixture.configPath])
        #expect(check.status == 0, "\(check.standardError)\n\(printed.standardOutput)")
        return printed.standardOutput
    }

    /// What one run shows: `homing user` for some names, an LMTP transaction, the stored mail.
    struct Observation: Equatable {
        var users: [String] = []
        var replies: [String] = []
        var mail: [String: [String]] = [:]
    }

    static func observe(_ fixture: IntegrationFixture, users: [String], recipients: [String]) async throws -> Observation {
        var observation = Observation()
        let root = fixture.dir.path
        func normalised(_ text: String) -> String { text.replacingOccurrences(of: root, with: "DIR") }
        for user in users {
            let result = try await HomingBinary.run(["user", "-c", fixture.configPath, user])
            observation.users.append("\(result.status) \(normalised(result.standardOutput))")
        }
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.connect(unixPath: fixture.socketPath)
        observation.replies += try await client.readReply().map { _ in "greeting" }
        observation.replies += try await client.command("LHLO client.example")
        observation.replies += try await client.command("MAIL FROM:<sender@example.org>")
        var accepted = 0
        for recipient in recipients {
            let reply = try await client.command("RCPT TO:<\(recipient)>")
            if reply.first?.hasPrefix("250") == true { accepted += 1 }
            observation.replies += reply
        }
        if accepted > 0 {
            observation.replies += try await client.command("DATA")
            try await client.send("From: sender@example.org\r\nSubject: twins\r\nMessage-ID: <twin@example.org>\r\n\r\nhello\r\n.\r\n")
            for _ in 0..<accepted {
                let reply = try await client.readReply()
                // `250 2.0.0 <rcpt> SESSIONID Saved mail to INBOX`: the session id differs per run.
                observation.replies += reply.map { line in
                    var words = line.split(separator: " ").map(String.init)
                    if words.count > 3, words[0] == "250" { words[3] = "ID" }
                    return words.joined(separator: " ")
                }
            }
        }
        _ = try await client.command("QUIT")
        observation.mail = storedMail(under: fixture.mailRoot)
        return observation
    }

    /// Every stored message by its directory, without the headers that hold times and ids.
    static func storedMail(under root: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        guard let walker = FileManager.default.enumerator(atPath: root) else { return result }
        while let relative = walker.nextObject() as? String {
            let path = root + "/" + relative
            guard relative.contains("/new/") || relative.contains("/cur/"),
                  let data = FileManager.default.contents(atPath: path) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            var kept: [String] = []
            var skipping = false
            for line in text.components(separatedBy: "\n") {
                if line.hasPrefix("Received:") { skipping = true; continue }
                if skipping, line.hasPrefix(" ") || line.hasPrefix("\t") { continue }
                skipping = false
                kept.append(line)
            }
            let directory = String(relative[..<(relative.range(of: "/new/") ?? relative.range(of: "/cur/")!).upperBound])
            result[directory, default: []].append(kept.joined(separator: "\n"))
        }
        for key in result.keys { result[key]?.sort() }
        return result
    }

    @Test("passwd-file: the integration configuration printed in 2.4 syntax delivers as the 2.3 one")
    func passwdFilePrinted() async throws {
        let old = try IntegrationFixture()
        defer { old.dir.remove() }
        let new = try IntegrationFixture()
        defer { new.dir.remove() }
        let text = try await Self.convert(new)
        #expect(text.contains("userdb passwd-file {"))
        #expect(text.contains("passwd_file_path = \(new.dir.file("users"))"))
        #expect(text.contains("listen = 127.0.0.1"))
        let users = ["alice@example.com", "bob@example.com", "nosuch@example.com", "broken@example.com"]
        let recipients = ["alice@example.com", "bob+box@example.com", "nosuch@example.com", "broken@example.com"]
        let before = try await Self.observe(old, users: users, recipients: recipients)
        let after = try await Self.observe(new, users: users, recipients: recipients)
        #expect(before == after)
        #expect(before.mail.count == 2, "\(before)")
    }

    @Test("passwd-file: a hand-written 2.4 file with 2.4 variables delivers as the 2.3 one")
    func passwdFileByHand() async throws {
        let old = try IntegrationFixture(extraSettings: "auth_username_format = %Ln@%Ld\nmail_plugins = quota")
        defer { old.dir.remove() }
        let new = try IntegrationFixture()
        defer { new.dir.remove() }
        try """
            dovecot_config_version = 2.4.1
            dovecot_storage_version = 2.4.1
            protocols = lmtp
            base_dir = \(new.dir.file("run"))
            postmaster_address = postmaster@example.com
            hostname = mx.example.com
            mail_driver = maildir
            mail_path = ~/Maildir
            mail_temp_dir = \(new.dir.file("tmp"))
            first_valid_uid = 100
            recipient_delimiter = +
            auth_username_format = %{user | username | lower}@%{user | domain | lower}
            lmtp_user_concurrency_limit = 0
            mail_plugins {
              quota = yes
            }
            service lmtp {
              unix_listener lmtp {
                mode = 0600
                \(geteuid() == 0 ? "user = nobody\n    group = nogroup" : "")
              }
              inet_listener lmtp {
                listen = 127.0.0.1
                port = \(new.port)
              }
            }
            userdb users {
              driver = passwd-file
              passwd_file_path = \(new.dir.file("users"))
            }

            """.write(toFile: new.configPath, atomically: false, encoding: .utf8)
        let check = try await HomingBinary.run(["config", "--check", "-c", new.configPath])
        #expect(check.status == 0, "\(check.standardError)")
        let users = ["Alice@Example.COM", "bob@example.com", "nosuch@example.com"]
        let recipients = ["ALICE@example.com", "bob@example.com", "nosuch@example.com"]
        let before = try await Self.observe(old, users: users, recipients: recipients)
        let after = try await Self.observe(new, users: users, recipients: recipients)
        #expect(before == after)
        #expect(before.replies.contains { $0.hasPrefix("550 5.1.1 <nosuch@example.com>") }, "\(before.replies)")
    }

    @Test("PostgreSQL: the sql userdb's 2.4 settings (sql_driver, pgsql { }, query) deliver as its dovecot-sql.conf.ext")
    func postgres() async throws {
        func fixture() async throws -> (IntegrationFixture, TestPostgresSampleDatabase) {
            let database = try await TestPostgresSampleDatabase.create()
            return (try await SQLUserdbIntegrationTests.fixture(database), database)
        }
        let (old, _) = try await fixture()
        defer { old.dir.remove() }
        let (new, _) = try await fixture()
        defer { new.dir.remove() }
        let text = try await Self.convert(new)
        #expect(text.contains("userdb sql {"))
        #expect(text.contains("sql_driver = pgsql"))
        #expect(text.contains("  pgsql ") && text.contains("    parameters {"))
        #expect(text.contains("WHERE u.username = '%{user | username}' AND u.domain = '%{user | domain}'"))
        #expect(text.contains("# password_query"))
        let users = ["alice@example.com", "disabled@example.com", "*"]
        let recipients = ["carol@example.org", "bob@example.com", "nosuch@example.com"]
        let before = try await Self.observe(old, users: users, recipients: recipients)
        let after = try await Self.observe(new, users: users, recipients: recipients)
        #expect(before == after)
        #expect(before.mail.count == 2, "\(before)")
    }

    @Test("LDAP: the ldap userdb's 2.4 settings (ldap_uris, filter, fields { %{ldap:...} }) deliver as its dovecot-ldap.conf.ext")
    func ldap() async throws {
        let (old, oldSlapd) = try await LDAPUserdbIntegrationTests.start()
        defer {
            oldSlapd.remove()
            old.dir.remove()
        }
        let users = ["alice@example.com", "disabled@example.com", "carol@example.org"]
        let recipients = ["bob@example.com", "carol@example.org", "nosuch@example.com"]
        let before = try await Self.observe(old, users: users, recipients: recipients)
        oldSlapd.remove()
        let (new, newSlapd) = try await LDAPUserdbIntegrationTests.start()
        defer {
            newSlapd.remove()
            new.dir.remove()
        }
        let text = try await Self.convert(new)
        #expect(text.contains("userdb ldap {"))
        #expect(text.contains("ldap_uris = "))
        #expect(text.contains("filter = (&(objectClass=homingMailUser)(mail=%{user})(!(homingMailActive=FALSE)))"))
        #expect(text.contains("home = %{ldap:homeDirectory | default}"))
        #expect(text.contains("quota_storage_size = %{ldap:homingMailQuota | default}"))
        let after = try await Self.observe(new, users: users, recipients: recipients)
        #expect(before == after)
        #expect(before.mail.count == 2, "\(before)")
    }

    @Test("homing config --check lists every error of a file with its line (errors first, then warnings) and exits 78")
    func checkListsEveryError() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        try """
            dovecot_config_version = 2.4.1
            dovecot_storage_version = 2.4.1
            protocols = lmtp
            imap_idle_notify_interval = 2 mins
            mail_location = maildir:~/Maildir
            lmtp_add_received_header = perhaps
            userdb users {
              driver = passwd-file
              args = \(fixture.dir.file("users"))
            }
            auth_username_format = %Lu

            """.write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let result = try await HomingBinary.run(["config", "--check", "-c", fixture.configPath])
        #expect(result.status == 78)
        let lines = result.standardError.split(separator: "\n").map(String.init)
        let path = fixture.configPath
        #expect(lines.count == 6, "\(result.standardError)")
        #expect(lines.first { $0.contains("\(path):5: mail_location was removed in Dovecot 2.4") } != nil)
        #expect(lines.first { $0.contains("\(path):6: lmtp_add_received_header: invalid boolean value 'perhaps'") } != nil)
        #expect(lines.first { $0.contains("\(path):9: userdb { args } is Dovecot 2.3 syntax") && $0.contains("passwd_file_path") } != nil)
        #expect(lines.first { $0.contains("\(path):11: auth_username_format: %Lu") && $0.contains("%{user | lower}") } != nil)
        #expect(lines.first { $0.contains("needs passwd_file_path") } != nil)
        #expect(lines.last == "Warning: \(path):4: imap_idle_notify_interval is not used by Homing (ignored)")
        #expect(lines.dropLast().allSatisfy { $0.hasPrefix("Error: ") })
        let serve = try await HomingBinary.run(["serve", "-c", fixture.configPath])
        #expect(serve.status == 78)
        #expect(serve.standardError.split(separator: "\n").count == 6)
    }
}
