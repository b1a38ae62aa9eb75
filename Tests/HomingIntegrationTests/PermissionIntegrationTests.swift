import Foundation
import Glibc
import HomingTestSupport
import Testing

@Suite("Permission errors say as whom and what is missing", .enabled(if: geteuid() == 0))
struct PermissionIntegrationTests {
    @Test("a home that cannot be created: 451, and the log names euid/egid, the directory, the missing bit, owner and mode")
    func missingWritePermission() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        // example.com belongs to root, mode 0755: the user (uid 5000) cannot create alice's home in it.
        let domain = fixture.mailRoot + "/example.com"
        try #require(mkdir(domain, 0o755) == 0)
        chown(domain, 0, 0)
        chmod(domain, 0o755)
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: p\r\n\r\nx\r\n.\r\n")
        #expect(try await client.readReply() == ["451 4.3.0 <alice@example.com> Temporary internal error"])
        let deadline = Date().addingTimeInterval(20)
        while !server.log.contains("Permission denied") && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(
            server.log.contains(
                "mkdir(\(domain)/alice) failed: Permission denied (euid=\(fixture.uid)(")
                && server.log.contains("missing +w perm: \(domain), dir owned by 0:0 mode=0755)"),
            "\(server.log)")
    }
}
