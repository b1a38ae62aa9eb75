import Foundation
import Glibc
import HomingTestSupport
import Testing

/// Proxy hops between nodes: the TTL carried by XCLIENT, and a Dovecot backend behind a
/// Homing front.
@Suite("lmtp_proxy: hops, TTL and a Dovecot backend", .serialized)
struct LMTPProxyHopTests {
    /// A node with `lmtp_proxy = yes`, trusting loopback's XCLIENT, whose passdb is `lines`
    /// (`PEER` replaced by `peerPort`).
    private func node(passdb lines: [String], peerPort: () -> Int) throws -> IntegrationFixture {
        let fixture = try IntegrationFixture(
            extraSettings: "lmtp_proxy = yes\nlogin_trusted_networks = 127.0.0.0/8",
            userdb: """
                passdb {
                  driver = passwd-file
                  args = PASSDB_FILE
                }
                userdb {
                  driver = passwd-file
                  args = USERS_FILE
                }
                """)
        try fixture.dir.write(
            "passdb", lines.joined(separator: "\n").replacingOccurrences(of: "PEER", with: String(peerPort())) + "\n")
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "PASSDB_FILE", with: fixture.dir.file("passdb"))
            .replacingOccurrences(of: "USERS_FILE", with: fixture.dir.file("users"))
        try fixture.dir.write("homing.conf", config)
        return fixture
    }

    @Test("two nodes proxying a user to each other stop when the XCLIENT TTL runs out, with 554 5.4.6")
    func ttlStopsLoop() async throws {
        // Each node sends bob to the other: only the TTL ends it.
        let a = try node(passdb: ["bob@example.com:{PLAIN}x::::::proxy host=127.0.0.1 port=PEER"]) { 0 }
        let b = try node(passdb: ["bob@example.com:{PLAIN}x::::::proxy host=127.0.0.1 port=PEER"]) { a.port }
        try a.dir.write("passdb", "bob@example.com:{PLAIN}x::::::proxy host=127.0.0.1 port=\(b.port)\n")
        defer {
            a.dir.remove()
            b.dir.remove()
        }
        let serverA = try await a.startServer()
        let serverB = try await b.startServer()
        defer { Task { _ = await serverA.stop(); _ = await serverB.stop() } }
        let client = try await LMTPTestClient.connect(port: a.port)
        try await client.open(from: "sender@example.org")
        let reply = try await client.command("RCPT TO:<bob@example.com>")
        #expect(
            reply == ["554 5.4.6 <bob@example.com> Proxying appears to be looping (TTL=0)"],
            "\(reply) A: \(serverA.log) B: \(serverB.log)")
        // The nodes keep serving.
        #expect(try await client.command("RSET") == ["250 2.0.0 OK"])
    }

    @Test("a Homing front relays to a Dovecot 2.3 backend, which stores the mail and names the original client")
    func dovecotBackend() async throws {
        try #require(TestDovecot.isInstalled, "Dovecot is installed by scripts/install-deps.sh")
        let dovecot = try await runOnThread {
            try TestDovecot.start(.init(settings: [("login_trusted_networks", "127.0.0.0/8")]))
        }
        defer { dovecot.remove() }
        let front = try node(passdb: [
            "alice@example.com:{PLAIN}x::::::proxy host=127.0.0.1 port=PEER",
            "nosuch@example.com:{PLAIN}x::::::proxy host=127.0.0.1 port=PEER",
        ]) { dovecot.port }
        defer { front.dir.remove() }
        let server = try await front.startServer()
        defer { Task { _ = await server.stop() } }
        let client = try await LMTPTestClient.connect(port: front.port)
        try await client.open(lhlo: "postfix.example.net", from: "sender@example.org")
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: via Homing\r\n\r\n..dot\r\nhello\r\n.\r\n")
        let reply = try await client.readReply()
        #expect(reply.first?.hasPrefix("250 2.0.0 <alice@example.com> ") == true, "\(reply) \(server.log) \(dovecot.log)")
        let new = dovecot.mailRoot + "/example.com/alice/Maildir/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: new)) ?? []
        try #require(names.count == 1, "\(server.log) \(dovecot.log)")
        let stored = try String(contentsOfFile: new + "/" + names[0], encoding: .utf8)
        #expect(stored.contains("\n.dot\nhello\n"), "\(stored)")
        // XCLIENT ADDR was honoured: Dovecot's Received header names our test client's address.
        #expect(stored.contains("([127.0.0.1])"), "\(stored)")
        _ = try await client.command("QUIT")
    }
}
