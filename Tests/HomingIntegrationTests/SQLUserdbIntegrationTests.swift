import Foundation
import Glibc
import HomingTestSupport
import Testing

/// `homing serve` and `homing user` with the sql userdb against a real PostgreSQL loaded with
/// the shipped sql/ files and sql/dovecot-sql.conf.ext.
@Suite("sql userdb end to end", .serialized)
struct SQLUserdbIntegrationTests {
    /// A fixture whose userdb is the shipped dovecot-sql.conf.ext pointed at `database`.
    static func fixture(_ database: TestPostgresSampleDatabase) async throws -> IntegrationFixture {
        let fixture = try IntegrationFixture(userdb: "userdb {\n  driver = sql\n  args = SQLCONF\n}")
        try await database.relocateHomes(to: fixture.mailRoot, uid: Int(fixture.uid), gid: Int(fixture.gid))
        let conf = try database.writeDovecotSQLConf(to: fixture.dir.file("dovecot-sql.conf.ext"))
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "SQLCONF", with: conf)
        try text.write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        return fixture
    }

    @Test("homing user shows an SQL user's fields, exit 67 for an inactive one")
    func userLookup() async throws {
        let database = try await TestPostgresSampleDatabase.create()
        let fixture = try await Self.fixture(database)
        defer { fixture.dir.remove() }
        let alice = try await HomingBinary.run(["user", "-c", fixture.configPath, "alice@example.com"])
        #expect(alice.status == 0, "\(alice.standardError)")
        // doveadm's order (uid, gid, home, mail, then the rest), not the user_query's columns.
        #expect(
            alice.standardOutput == """
                field\tvalue
                uid\t\(fixture.uid)
                gid\t\(fixture.gid)
                home\t\(fixture.mailRoot)/example.com/alice
                mail\tmaildir:~/Maildir
                quota_rule\t*:bytes=1073741824

                """)
        let disabled = try await HomingBinary.run(["user", "-c", fixture.configPath, "disabled@example.com"])
        #expect(disabled.status == 67)
        #expect(disabled.standardOutput.contains("userdb lookup: user disabled@example.com doesn't exist"))
        let all = try await HomingBinary.run(["user", "-c", fixture.configPath, "*"])
        #expect(all.standardOutput == "alice@example.com\nbob@example.com\npostmaster@example.com\nsmallquota@example.com\ncarol@example.org\n")
    }

    @Test("an LMTP delivery for SQL users, an injection attempt refused as unknown")
    func delivery() async throws {
        let database = try await TestPostgresSampleDatabase.create()
        let fixture = try await Self.fixture(database)
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "sender@example.org")
        #expect(try await client.command("RCPT TO:<carol@example.org>") == ["250 2.1.5 OK"])
        #expect(
            try await client.command("RCPT TO:<\"x'; DROP TABLE users; --\"@example.com>").first?.hasPrefix("550 5.1.1") == true)
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: sql\r\n\r\nhi\r\n.\r\n")
        #expect(try await client.readReply().first?.hasPrefix("250 2.0.0 <carol@example.org>") == true)
        #expect(fixture.files(fixture.maildir("carol", domain: "example.org")).count == 1, "\(server.log)")
        #expect(try await database.execute("SELECT count(*) FROM users").contains("6"))
    }

    @Test("PostgreSQL stopped: 451 over LMTP and exit 75 in homing user; started again: delivery works without a restart")
    func outageAndRecovery() async throws {
        let cluster = try await TestPostgres.start(label: "homing-it-outage")
        defer { Task { await cluster.destroy() } }
        let database = try await TestPostgresSampleDatabase.create(in: cluster)
        let fixture = try await Self.fixture(database)
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
        #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
        _ = try await client.command("RSET")

        try await cluster.stop()
        _ = try await client.command("MAIL FROM:<a@b>")
        let started = Date()
        #expect(
            try await client.command("RCPT TO:<bob@example.com>") == ["451 4.3.0 <bob@example.com> Temporary internal error"])
        #expect(
            try await client.command("RCPT TO:<nosuch@example.com>")
                == ["451 4.3.0 <nosuch@example.com> Temporary internal error"])
        #expect(Date().timeIntervalSince(started) < 20)  // loose: the suite shares two cores
        let lookup = try await HomingBinary.run(["user", "-c", fixture.configPath, "bob@example.com"])
        #expect(lookup.status == 75)
        _ = try await client.command("RSET")

        try await cluster.start()
        let accepted = try await waitUntilRecipientAccepted(client, "bob@example.com", seconds: 40, pause: .milliseconds(500))
        #expect(accepted, "\(server.log)")
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: back\r\n\r\nhi\r\n.\r\n")
        #expect(try await client.readReply().first?.hasPrefix("250 2.0.0 <bob@example.com>") == true)
    }

    @Test("auth_cache rides over a PostgreSQL outage: a user seen before is delivered from the expired entry (logged), a never-seen one gets 451, all fine after the restart")
    func cacheRidesOverOutage() async throws {
        let cluster = try await TestPostgres.start(label: "homing-it-cache")
        defer { Task { await cluster.destroy() } }
        let database = try await TestPostgresSampleDatabase.create(in: cluster)
        let fixture = try await Self.fixture(database)
        defer { fixture.dir.remove() }
        // auth_cache_ttl = 0: every lookup asks PostgreSQL (no freshness to wait out), and the
        // entry is there to fall back to when it cannot answer.
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            + "auth_cache_size = 1M\nauth_cache_ttl = 0\nauth_cache_negative_ttl = 1h\n"
        try config.write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
        #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("RCPT TO:<nosuch@example.com>") == ["550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com"])
        _ = try await client.command("RSET")

        try await cluster.stop()
        _ = try await client.command("MAIL FROM:<a@b>")
        #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"], "\(server.log)")
        // The cached "unknown" answer stands too, within its negative TTL.
        #expect(try await client.command("RCPT TO:<nosuch@example.com>") == ["550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com"])
        #expect(
            try await client.command("RCPT TO:<alice@example.com>")
                == ["451 4.3.0 <alice@example.com> Temporary internal error"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: during the outage\r\n\r\nhi\r\n.\r\n")
        #expect(try await client.readReply().first?.hasPrefix("250 2.0.0 <bob@example.com>") == true, "\(server.log)")
        #expect(fixture.files(fixture.maildir("bob")).count == 1, "\(server.log)")
        #expect(server.log.contains("userdb(bob@example.com): Falling back to expired data from cache (lookup failed: "), "\(server.log)")
        // homing user is its own process with an empty cache: it says what the userdb says now.
        #expect(try await HomingBinary.run(["user", "-c", fixture.configPath, "bob@example.com"]).status == 75)

        try await cluster.start()
        let accepted = try await waitUntilRecipientAccepted(client, "alice@example.com", seconds: 40, pause: .milliseconds(500))
        #expect(accepted, "\(server.log)")
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: back\r\n\r\nhi\r\n.\r\n")
        #expect(try await client.readReply().first?.hasPrefix("250 2.0.0 <alice@example.com>") == true)
    }
}
