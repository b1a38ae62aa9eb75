import Foundation
import Glibc
import HomingTestSupport
import Testing

/// `login_trusted_networks` and XCLIENT against the real `homing serve` (issue 15).
@Suite("homing serve: XCLIENT from trusted proxies", .serialized)
struct XClientIntegrationTests {
    @Test("a trusted client's XCLIENT makes the log, the Received header and the userdb see the original client")
    func trustedClient() async throws {
        let fixture = try IntegrationFixture(extraSettings: "login_trusted_networks = 10.0.0.0/8, 127.0.0.1")
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        let client = try await LMTPTestClient.connect(port: fixture.port)
        #expect(try await client.readReply() == ["220 mx.example.com Homing ready."])
        let lhlo = try await client.command("LHLO proxy.example.net")
        #expect(lhlo.suffix(3) == ["250-PIPELINING", "250-XCLIENT ADDR PORT PROTO HELO LOGIN SESSION TTL TIMEOUT", "250 XRCPTFORWARD"], "\(lhlo)")
        #expect(
            try await client.command("XCLIENT ADDR=192.0.2.7 PORT=4321 PROTO=ESMTP HELO=client.example.org TTL=3")
                == ["220 mx.example.com Homing ready."])
        #expect(try await client.command("XCLIENT PORT=0") == ["501 5.5.4 Invalid PORT parameter"])
        #expect(try await client.command("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"])
        #expect(
            try await client.command("XCLIENT ADDR=192.0.2.8")
                == ["503 5.5.0 XCLIENT not permitted during a mail transaction"])
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: proxied\r\n\r\nhello\r\n.\r\n")
        let saved = try await client.readReply()
        #expect(saved.first?.hasPrefix("250 2.0.0 <alice@example.com> ") == true, "\(saved)")
        #expect(try await client.command("QUIT") == ["221 2.0.0 Bye"])
        let log = await server.waitForLog { $0.contains("XCLIENT from proxy") }
        await server.stop()
        #expect(log.contains("XCLIENT from proxy 127.0.0.1: client is 192.0.2.7 port 4321 (TTL=3, HELO=client.example.org)"), "\(log)")

        let names = fixture.files(fixture.maildir("alice"))
        try #require(names.count == 1, "\(log)")
        let text = try String(contentsOfFile: fixture.maildir("alice") + "/new/" + names[0], encoding: .utf8)
        #expect(text.contains("Received: from client.example.org ([192.0.2.7])\n\tby mx.example.com with LMTP\n"), "\(text)")
    }

    @Test("%r in userdb templates is the address XCLIENT named, not the proxy's")
    func remoteIPVariable() async throws {
        // The fixture's mail user (as IntegrationFixture chooses it); the mail root is only
        // known once the fixture exists, so the userdb names it MAILROOT until then.
        let uid = geteuid() == 0 ? 5000 : geteuid()
        let gid = geteuid() == 0 ? 5000 : getegid()
        let fixture = try IntegrationFixture(
            extraSettings: "login_trusted_networks = 127.0.0.1",
            userdb: """
                userdb {
                  driver = static
                  args = uid=\(uid) gid=\(gid) home=MAILROOT/by-client/%r/%n allow_all_users=yes
                }
                """)
        defer { fixture.dir.remove() }
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try text.replacingOccurrences(of: "MAILROOT", with: fixture.mailRoot)
            .write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let server = try await fixture.startServer()
        let client = try await LMTPTestClient.connect(port: fixture.port)
        _ = try await client.readReply()
        _ = try await client.command("LHLO proxy.example.net")
        #expect(try await client.command("XCLIENT ADDR=192.0.2.7") == ["220 mx.example.com Homing ready."])
        #expect(try await client.command("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"])
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: where\r\n\r\nhello\r\n.\r\n")
        let saved = try await client.readReply()
        _ = try await client.command("QUIT")
        await server.stop()
        #expect(saved.first?.hasPrefix("250 2.0.0 ") == true, "\(saved) \(server.log)")
        let maildir = fixture.mailRoot + "/by-client/192.0.2.7/alice/Maildir"
        #expect(fixture.files(maildir).count == 1, "\(server.log)")
        #expect(!FileManager.default.fileExists(atPath: fixture.mailRoot + "/by-client/127.0.0.1"))
    }

    @Test("a client outside login_trusted_networks is not offered XCLIENT, is refused it, and keeps its own address")
    func untrustedClient() async throws {
        let fixture = try IntegrationFixture(extraSettings: "login_trusted_networks = 127.0.0.1")
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        // 127.0.0.2 is loopback too, but not the trusted 127.0.0.1.
        let client = try await LMTPTestClient.connect(port: fixture.port, sourceAddress: "127.0.0.2")
        #expect(try await client.readReply() == ["220 mx.example.com Homing ready."])
        let lhlo = try await client.command("LHLO client.example.org")
        #expect(lhlo.last == "250 PIPELINING", "\(lhlo)")
        #expect(!lhlo.contains { $0.contains("XCLIENT") })
        #expect(try await client.command("XCLIENT ADDR=192.0.2.7") == ["550 5.7.14 You are not from trusted IP"])
        #expect(try await client.command("XCLIENT PORT=nonsense") == ["550 5.7.14 You are not from trusted IP"])
        #expect(try await client.command("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"])
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: direct\r\n\r\nhello\r\n.\r\n")
        #expect(try await client.readReply().first?.hasPrefix("250 2.0.0 <alice@example.com> ") == true)
        _ = try await client.command("QUIT")
        await server.stop()
        #expect(!server.log.contains("XCLIENT from proxy"), "\(server.log)")
        let names = fixture.files(fixture.maildir("alice"))
        try #require(names.count == 1, "\(server.log)")
        let text = try String(contentsOfFile: fixture.maildir("alice") + "/new/" + names[0], encoding: .utf8)
        #expect(text.contains("Received: from client.example.org ([127.0.0.2])\n"), "\(text)")
    }

    @Test("a unix socket client is never trusted, whatever login_trusted_networks says")
    func unixSocketUntrusted() async throws {
        let fixture = try IntegrationFixture(extraSettings: "login_trusted_networks = 0.0.0.0/0 ::/0")
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        let client = try await LMTPTestClient.connect(unixPath: fixture.socketPath)
        _ = try await client.readReply()
        #expect(!(try await client.command("LHLO x")).contains { $0.contains("XCLIENT") })
        #expect(try await client.command("XCLIENT ADDR=192.0.2.7") == ["550 5.7.14 You are not from trusted IP"])
        _ = try await client.command("QUIT")
        await server.stop()
    }

    @Test("a bad login_trusted_networks entry stops homing serve with a message naming it")
    func badSetting() async throws {
        let fixture = try IntegrationFixture(extraSettings: "login_trusted_networks = 127.0.0.1 mail.example.com")
        defer { fixture.dir.remove() }
        let result = try await HomingBinary.run(["config", "--check", "-c", fixture.configPath])
        #expect(result.status != 0)
        #expect(
            (result.standardError + result.standardOutput).contains(
                "login_trusted_networks: invalid network 'mail.example.com'"), "\(result)")
    }
}
