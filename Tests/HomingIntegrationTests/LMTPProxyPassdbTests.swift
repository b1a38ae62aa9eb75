import Foundation
import HomingTestSupport
import Testing

/// `lmtp_proxy = yes` with the passdb drivers a fleet uses: static, sql and ldap.
@Suite("lmtp_proxy: static, sql and ldap passdbs", .serialized)
struct LMTPProxyPassdbTests {
    /// A front whose passdb block is `passdb` (`USERS_FILE` replaced) and whose
    /// userdb is its passwd-file.
    private func front(passdb: String) throws -> IntegrationFixture {
        let fixture = try IntegrationFixture(
            extraSettings: "lmtp_proxy = yes",
            userdb: passdb + "\nuserdb {\n  driver = passwd-file\n  args = USERS_FILE\n}")
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "USERS_FILE", with: fixture.dir.file("users"))
        try fixture.dir.write("homing.conf", config)
        return fixture
    }

    private func deliver(port: Int, to recipients: [String]) async throws -> [String] {
        let client = try await LMTPTestClient.connect(port: port)
        try await client.open(from: "sender@example.org")
        var rcptReplies: [String] = []
        for recipient in recipients { rcptReplies += try await client.command("RCPT TO:<\(recipient)>") }
        guard rcptReplies.allSatisfy({ $0 == "250 2.1.5 OK" }) else { return rcptReplies }
        _ = try await client.command("DATA")
        try await client.send("Subject: x\r\n\r\nx\r\n.\r\n")
        let replies = try await client.readReplies(recipients.count)
        _ = try await client.command("QUIT")
        return replies
    }

    @Test("a static passdb sends every recipient to its host")
    func staticPassdb() async throws {
        let backend = try IntegrationFixture()
        defer { backend.dir.remove() }
        let frontNode = try front(
            passdb: "passdb {\n  driver = static\n  args = proxy=y host=127.0.0.1 port=\(backend.port) nopassword=y\n}")
        defer { frontNode.dir.remove() }
        let backendServer = try await backend.startServer()
        let frontServer = try await frontNode.startServer()
        defer { Task { _ = await frontServer.stop(); _ = await backendServer.stop() } }
        let replies = try await deliver(port: frontNode.port, to: ["alice@example.com", "bob@example.com"])
        #expect(replies.count == 2 && replies.allSatisfy { $0.hasPrefix("250 2.0.0 ") }, "\(replies) \(frontServer.log)")
        #expect(backend.files(backend.maildir("alice")).count == 1)
        #expect(backend.files(backend.maildir("bob")).count == 1)
        #expect(frontNode.files(frontNode.maildir("alice")).isEmpty)
    }

    @Test("an sql passdb's password_query routes users to their host; users it does not return stay local")
    func sqlPassdb() async throws {
        let database = try await TestPostgresSampleDatabase.create()
        _ = try await database.execute(
            "CREATE TABLE proxy_hosts (userid text PRIMARY KEY, host text NOT NULL, port integer NOT NULL);")
        let backend = try IntegrationFixture()
        defer { backend.dir.remove() }
        _ = try await database.execute(
            "INSERT INTO proxy_hosts VALUES ('bob@example.com', '127.0.0.1', \(backend.port));")
        let placeholder = try front(passdb: "passdb {\n  driver = sql\n  args = SQLCONF\n}")
        let conf = placeholder.dir.file("dovecot-sql.conf.ext")
        try """
            driver = pgsql
            connect = \(database.conninfo)
            password_query = SELECT NULL AS password, 'Y' AS nopassword, 'Y' AS proxy, host, port \\
              FROM proxy_hosts WHERE userid = '%u'

            """.write(toFile: conf, atomically: false, encoding: .utf8)
        let config = try String(contentsOfFile: placeholder.configPath, encoding: .utf8)
            .replacingOccurrences(of: "SQLCONF", with: conf)
        try placeholder.dir.write("homing.conf", config)
        defer { placeholder.dir.remove() }
        let backendServer = try await backend.startServer()
        let frontServer = try await placeholder.startServer()
        defer { Task { _ = await frontServer.stop(); _ = await backendServer.stop() } }
        let replies = try await deliver(port: placeholder.port, to: ["bob@example.com", "alice@example.com"])
        #expect(replies.count == 2 && replies.allSatisfy { $0.hasPrefix("250 2.0.0 ") }, "\(replies) \(frontServer.log)")
        #expect(backend.files(backend.maildir("bob")).count == 1, "\(frontServer.log)")
        #expect(placeholder.files(placeholder.maildir("alice")).count == 1, "\(frontServer.log)")
        #expect(placeholder.files(placeholder.maildir("bob")).isEmpty)
    }

    @Test("an ldap passdb's pass_filter and pass_attrs route a user to their host; users it does not find stay local")
    func ldapPassdb() async throws {
        let backend = try IntegrationFixture()
        defer { backend.dir.remove() }
        let slapd = try await runOnThread { try TestSlapd.start() }
        defer { slapd.remove() }
        let frontNode = try front(passdb: "passdb {\n  driver = ldap\n  args = LDAPCONF\n}")
        defer { frontNode.dir.remove() }
        let conf = try slapd.writeDovecotLDAPConf(
            to: frontNode.dir.file("dovecot-ldap.conf.ext"),
            overrides: [
                ("pass_filter", "(&(objectClass=homingMailUser)(mail=%u)(mail=bob@example.com))"),
                ("pass_attrs", "mail=user,=proxy=y,=host=127.0.0.1,=port=\(backend.port)"),
            ])
        let config = try String(contentsOfFile: frontNode.configPath, encoding: .utf8)
            .replacingOccurrences(of: "LDAPCONF", with: conf)
        try frontNode.dir.write("homing.conf", config)
        let backendServer = try await backend.startServer()
        let frontServer = try await frontNode.startServer()
        defer { Task { _ = await frontServer.stop(); _ = await backendServer.stop() } }
        let replies = try await deliver(port: frontNode.port, to: ["bob@example.com", "alice@example.com"])
        #expect(replies.count == 2 && replies.allSatisfy { $0.hasPrefix("250 2.0.0 ") }, "\(replies) \(frontServer.log)")
        #expect(backend.files(backend.maildir("bob")).count == 1, "\(frontServer.log)")
        #expect(frontNode.files(frontNode.maildir("alice")).count == 1, "\(frontServer.log)")
        #expect(frontNode.files(frontNode.maildir("bob")).isEmpty)
    }
}
