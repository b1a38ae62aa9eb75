import Foundation
import Glibc
import HomingTestSupport
import Testing

/// `homing serve` and `homing user` with the ldap userdb against a real slapd loaded with the
/// shipped ldap/ schema and sample, through ldap/dovecot-ldap.conf.ext.
@Suite("ldap userdb end to end", .serialized)
struct LDAPUserdbIntegrationTests {
    /// A fixture whose userdb is the shipped dovecot-ldap.conf.ext pointed at a new slapd.
    static func start() async throws -> (IntegrationFixture, TestSlapd) {
        let fixture = try IntegrationFixture(userdb: "userdb {\n  driver = ldap\n  args = LDAPCONF\n}")
        let root = fixture.mailRoot
        let uid = Int(fixture.uid)
        let gid = Int(fixture.gid)
        let slapd = try await runOnThread { try TestSlapd.start(vmailRoot: root, mailUID: uid, mailGID: gid) }
        let conf = try slapd.writeDovecotLDAPConf(to: fixture.dir.file("dovecot-ldap.conf.ext"))
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "LDAPCONF", with: conf)
        try text.write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        return (fixture, slapd)
    }

    @Test("homing user shows an LDAP user's mapped fields; an inactive user exits 67; users can be listed")
    func userLookup() async throws {
        let (fixture, slapd) = try await Self.start()
        defer {
            slapd.remove()
            fixture.dir.remove()
        }
        let alice = try await HomingBinary.run(["user", "-c", fixture.configPath, "alice@example.com"])
        #expect(alice.status == 0, "\(alice.standardError)")
        let home = "\(fixture.mailRoot)/example.com/alice"
        #expect(alice.standardOutput.contains("home\t\(home)\n"), "\(alice.standardOutput)")
        #expect(alice.standardOutput.contains("uid\t\(fixture.uid)\ngid\t\(fixture.gid)\n"))
        #expect(alice.standardOutput.contains("mail\tmaildir:\(home)/Maildir\n"))
        #expect(alice.standardOutput.contains("quota_rule\t*:bytes=1073741824\n"))
        let disabled = try await HomingBinary.run(["user", "-c", fixture.configPath, "disabled@example.com"])
        #expect(disabled.status == 67)
        let hostile = try await HomingBinary.run(["user", "-c", fixture.configPath, "*)(uid=*))(|(uid=*@example.com"])
        #expect(hostile.standardOutput.isEmpty || !hostile.standardOutput.contains("alice"))
        let all = try await HomingBinary.run(["user", "-c", fixture.configPath, "*@example.org"])
        #expect(all.standardOutput == "carol@example.org\n")
    }

    @Test("an LMTP delivery for an LDAP user; slapd stopped gives 451 and exit 75, started again works without a restart")
    func deliveryOutageRecovery() async throws {
        let (fixture, slapd) = try await Self.start()
        defer {
            slapd.remove()
            fixture.dir.remove()
        }
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "sender@example.org")
        #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
        #expect(
            try await client.command("RCPT TO:<nosuch@example.com>")
                == ["550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: ldap\r\n\r\nhi\r\n.\r\n")
        #expect(try await client.readReply().first?.hasPrefix("250 2.0.0 <bob@example.com>") == true)
        #expect(fixture.files(fixture.maildir("bob")).count == 1, "\(server.log)")

        await runOnThreadIgnoringErrors { slapd.stop() }
        _ = try await client.command("MAIL FROM:<a@b>")
        #expect(
            try await client.command("RCPT TO:<alice@example.com>") == ["451 4.3.0 <alice@example.com> Temporary internal error"])
        #expect(
            try await client.command("RCPT TO:<nosuch@example.com>")
                == ["451 4.3.0 <nosuch@example.com> Temporary internal error"])
        let lookup = try await HomingBinary.run(["user", "-c", fixture.configPath, "alice@example.com"])
        #expect(lookup.status == 75)
        _ = try await client.command("RSET")

        try await runOnThread { try slapd.start() }
        let accepted = try await waitUntilRecipientAccepted(client, "alice@example.com", seconds: 30, pause: .milliseconds(300))
        #expect(accepted, "\(server.log)")
    }
}

private func runOnThreadIgnoringErrors(_ body: @escaping @Sendable () -> Void) async {
    _ = try? await runOnThread { body() }
}
