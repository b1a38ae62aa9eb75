import Foundation
import Glibc
import HomingTestSupport
import Testing

/// `XCLIENT TIMEOUT=`: a proxy says when it gives up on the connection. The delivering node
/// keeps its lock waits below that (so a copy never ends after the proxy left and retried it
/// elsewhere, storing it twice), and a proxying node passes the value on, as Dovecot's lmtp does.
@Suite("XCLIENT TIMEOUT: lock waits below the proxy's timeout, passed on by a proxying node", .serialized)
struct ProxyTimeoutTests {
    @Test("a trusted proxy's TIMEOUT=4 caps the maildirsize lock wait at 3 s (mail_max_lock_timeout is 60 s): 451, nothing stored")
    func lockWaitBelowProxyTimeout() async throws {
        let fixture = try IntegrationFixture(extraSettings: "login_trusted_networks = 127.0.0.0/8")
        defer { fixture.dir.remove() }
        try QuotaIntegrationTests.enableQuota(fixture, topLevel: "mail_max_lock_timeout = 60s")
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let lockFD = try await StallIsolationTests.lockAlice(fixture)
        defer { close(lockFD) }

        let client = try await LMTPTestClient.connect(port: fixture.port)
        _ = try await client.readReply()
        _ = try await client.command("LHLO front.example.com")
        let greeting = try await client.command("XCLIENT ADDR=192.0.2.7 PORT=4321 TTL=4 TIMEOUT=4")
        #expect(greeting.first?.hasPrefix("220 ") == true, "\(greeting)")
        _ = try await client.command("LHLO front.example.com")
        let started = ContinuousClock.now
        let result = try await QuotaIntegrationTests.transaction(
            client, to: ["alice@example.com"], body: QuotaIntegrationTests.message(kib: 1, subject: "behind a proxy"))
        let waited = ContinuousClock.now - started
        #expect(result.data == ["451 4.3.0 <alice@example.com> Temporary internal error"], "\(result)")
        #expect(waited >= .milliseconds(2_500) && waited < .seconds(20), "the reply came after \(waited)")
        #expect(server.log.contains("timed out after 3 s"), "\(server.log)")
        #expect(server.log.contains("TIMEOUT=4"), "the XCLIENT log line names the timeout: \(server.log)")
        #expect(fixture.files(fixture.maildir("alice")).count == 1, "nothing stored for the refused copy")

        // A client that gave no TIMEOUT waits for mail_max_lock_timeout: released after 5 s,
        // its copy is stored.
        let plain = Task {
            try await QuotaIntegrationTests.transaction(
                try await QuotaIntegrationTests.connect(fixture), to: ["alice@example.com"],
                body: QuotaIntegrationTests.message(kib: 1, subject: "no proxy"))
        }
        try await Task.sleep(for: .seconds(5))
        #expect(flock(lockFD, LOCK_UN) == 0)
        let stored = try await plain.value
        #expect(stored.data.first?.hasPrefix("250 2.0.0") == true, "\(stored)")
        #expect(fixture.files(fixture.maildir("alice")).count == 2)
    }

    @Test("a front passes the TIMEOUT its own proxy sent on to the backend's XCLIENT, after TTL")
    func frontPassesTimeoutOn() async throws {
        let backend = try IntegrationFixture(extraSettings: "login_trusted_networks = 127.0.0.0/8")
        defer { backend.dir.remove() }
        let front = try IntegrationFixture(
            extraSettings: "lmtp_proxy = yes\nlogin_trusted_networks = 127.0.0.0/8",
            userdb: """
                passdb {
                  driver = static
                  args = nopassword=y proxy=y host=127.0.0.1 port=\(backend.port)
                }
                userdb {
                  driver = passwd-file
                  args = USERS_FILE
                }
                """)
        defer { front.dir.remove() }
        let config = try String(contentsOfFile: front.configPath, encoding: .utf8)
            .replacingOccurrences(of: "USERS_FILE", with: front.dir.file("users"))
        try front.dir.write("homing.conf", config)
        let backendServer = try await backend.startServer()
        let frontServer = try await front.startServer()
        defer { Task { _ = await frontServer.stop(); _ = await backendServer.stop() } }

        let client = try await LMTPTestClient.connect(port: front.port)
        _ = try await client.readReply()
        _ = try await client.command("LHLO mx.example.com")
        _ = try await client.command("XCLIENT ADDR=192.0.2.9 TIMEOUT=7")
        _ = try await client.command("LHLO mx.example.com")
        let result = try await QuotaIntegrationTests.transaction(
            client, to: ["bob@example.com"], body: QuotaIntegrationTests.message(kib: 1, subject: "relayed"))
        #expect(result.data.first?.hasPrefix("250 2.0.0") == true, "\(result) front: \(frontServer.log) backend: \(backendServer.log)")
        let log = await backendServer.waitForLog { $0.contains("XCLIENT from proxy") }
        let line = log.split(separator: "\n").first { $0.contains("XCLIENT from proxy") }.map(String.init) ?? ""
        #expect(line.contains("client is 192.0.2.9") && line.contains("(TTL=5, TIMEOUT=7"), "\(line)")
        #expect(backend.files(backend.maildir("bob")).count == 1)
    }
}
