import Foundation
import HomingTestSupport
import Testing

/// `auth_username_chars` and `auth_username_translation` against the real server and CLI, with
/// a static userdb (where every name would otherwise exist), as Dovecot 2.3.19 answers.
@Suite("auth_username_chars and auth_username_translation end to end", .serialized)
struct UsernameCharactersIntegrationTests {
    static func staticUserdb(_ fixture: IntegrationFixture) -> String {
        """
        userdb {
          driver = static
          args = uid=\(fixture.uid) gid=\(fixture.gid) home=\(fixture.mailRoot)/%d/%n allow_all_users=yes
        }
        """
    }

    /// A fixture whose userdb is static (the mail root is only known once the fixture exists).
    static func fixture(_ settings: String = "") throws -> IntegrationFixture {
        let fixture = try IntegrationFixture(extraSettings: settings)
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        let start = try #require(config.range(of: "userdb {"))
        try (String(config[..<start.lowerBound]) + staticUserdb(fixture) + "\n")
            .write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        return fixture
    }

    @Test("with Dovecot's default characters, a=b@, x#y@ and o'neil@ do not exist over LMTP (550 5.1.1) and get no home; others are delivered")
    func refusedOverLMTP() async throws {
        let fixture = try Self.fixture()
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, lhlo: "client", from: "sender@example.org")
        for address in ["a=b@example.com", "x#y@example.com", "o'neil@example.com"] {
            #expect(
                try await client.command("RCPT TO:<\(address)>")
                    == ["550 5.1.1 <\(address)> User doesn't exist: \(address)"], "\(server.log)")
        }
        // The detail is split off first (LMTP does that before asking auth): only `alice` is checked.
        #expect(try await client.command("RCPT TO:<alice+a=b@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: x\r\n\r\nHello\r\n.\r\n")
        let replies = try await client.readReplies(1)
        #expect(replies.first?.hasPrefix("250 2.0.0 <alice+a=b@example.com> ") == true)
        _ = try await client.command("QUIT")
        let homes = try FileManager.default.contentsOfDirectory(atPath: fixture.mailRoot + "/example.com")
        #expect(homes == ["alice"])
        #expect(server.log.contains("Username character disallowed by auth_username_chars: 0x3d (username: a=b@example.com)"))
    }

    @Test("homing user: a refused name does not exist (exit 67, doveadm's text); auth_username_translation turns = into . first")
    func homingUser() async throws {
        let fixture = try Self.fixture()
        defer { fixture.dir.remove() }
        let refused = try await HomingBinary.run(["user", "-c", fixture.configPath, "a=b@example.com"])
        #expect(refused.status == 67)
        #expect(refused.standardOutput == "field\tvalue\n\nuserdb lookup: user a=b@example.com doesn't exist\n")

        let translating = try Self.fixture("auth_username_translation = \"=.#@\"")
        defer { translating.dir.remove() }
        let translated = try await HomingBinary.run(["user", "-c", translating.configPath, "A=B@example.com"])
        #expect(translated.status == 0, "\(translated.standardError)")
        // Translation, then %Lu: the looked-up name differs from the one given, so doveadm's `user` row comes first.
        #expect(translated.standardOutput.hasPrefix(
            "field\tvalue\nuser\ta.b@example.com\nuid\t\(translating.uid)\ngid\t\(translating.gid)\nhome\t\(translating.mailRoot)/example.com/a.b\n"))
    }

    @Test("an empty auth_username_chars permits every character, over LMTP and in homing user")
    func disabled() async throws {
        let fixture = try Self.fixture("auth_username_chars =")
        defer { fixture.dir.remove() }
        let user = try await HomingBinary.run(["user", "-c", fixture.configPath, "o'neil@example.com"])
        #expect(user.status == 0, "\(user.standardError)")
        #expect(user.standardOutput.contains("home\t\(fixture.mailRoot)/example.com/o'neil\n"))
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "sender@example.org")
        #expect(try await client.command("RCPT TO:<a=b@example.com>") == ["250 2.1.5 OK"])
        _ = try await client.command("QUIT")
    }
}
