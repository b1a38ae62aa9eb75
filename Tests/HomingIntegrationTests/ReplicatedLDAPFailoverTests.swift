import Foundation
import HomingTestSupport
import Testing

/// An ldap userdb on two slapd servers: a provider with the syncprov overlay and a
/// refreshAndPersist syncrepl consumer, `uris` naming both. The provider is stopped in the
/// middle of a load of deliveries; Homing goes on through the consumer without a restart.
@Suite("ldap userdb on a provider and a syncrepl consumer", .serialized)
struct ReplicatedLDAPFailoverTests {
    @Test("the provider stopped mid-load: every reply 250 or 451 (no 5xx), every 250'd message in its maildir, deliveries go on through the consumer without a restart")
    func providerStoppedMidLoad() async throws {
        let fixture = try IntegrationFixture(userdb: "userdb {\n  driver = ldap\n  args = LDAPCONF\n}")
        defer { fixture.dir.remove() }
        let root = fixture.mailRoot
        let uid = Int(fixture.uid)
        let gid = Int(fixture.gid)
        let provider = try await runOnThread {
            try TestSlapd.start(vmailRoot: root, mailUID: uid, mailGID: gid, replication: .provider)
        }
        defer { provider.remove() }
        let consumer = try await runOnThread { try TestSlapd.start(replication: .consumer(of: provider)) }
        defer { consumer.remove() }
        let conf = try provider.writeDovecotLDAPConf(
            to: fixture.dir.file("dovecot-ldap.conf.ext"), overrides: [("uris", "\(provider.uri) \(consumer.uri)")])
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "LDAPCONF", with: conf)
        try text.write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        // The consumer alone answers as the provider does.
        let direct = try String(contentsOfFile: conf, encoding: .utf8)
            .replacingOccurrences(of: "\(provider.uri) \(consumer.uri)", with: consumer.uri)
        let consumerOnly = try fixture.dir.write("consumer-ldap.conf.ext", direct)
        let consumerConfig = try fixture.dir.write("consumer.conf", text.replacingOccurrences(of: conf, with: consumerOnly))
        let lookup = try await HomingBinary.run(["user", "-c", consumerConfig, "bob@example.com"])
        #expect(lookup.status == 0 && lookup.standardOutput.contains("home\t\(root)/example.com/bob\n"), "\(lookup)")

        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        try await FailoverLoad.run(fixture: fixture, server: server) {
            _ = try? await runOnThread { provider.stop() }
        }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath)
        let accepted = try await waitUntilRecipientAccepted(client, "bob@example.com", seconds: 60, pause: .milliseconds(500))
        #expect(accepted, "\(server.log)")
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: after failover\r\n\r\nhi\r\n.\r\n")
        #expect(try await client.readReply().first?.hasPrefix("250 2.0.0 <bob@example.com>") == true)
    }
}
