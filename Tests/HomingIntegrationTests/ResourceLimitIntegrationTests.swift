import Foundation
import Glibc
import HomingTestSupport
import Testing

/// Issue 19, resource bounds: `service lmtp { process_limit × client_limit }` sessions at most,
/// the per-transaction recipient limit, and clean refusals at the file-descriptor limit.
@Suite("Resource bounds, end to end", .serialized)
struct ResourceLimitIntegrationTests {
    static let tooMany = "421 4.3.2 mx.example.com Too many connections"

    /// A connection greeted with 220, retried while the server still counts the start-up
    /// probes' connections (they close at once, but the server notices a moment later).
    static func greetedSession(_ fixture: IntegrationFixture) async throws -> LMTPTestClient {
        let deadline = Date().addingTimeInterval(20)
        while true {
            let client = try await LMTPTestClient.connect(unixPath: fixture.socketPath)
            let greeting = try await client.readReply()
            if greeting.first?.hasPrefix("220 ") == true { return client }
            if Date() > deadline { throw LimitTestFailure(description: "never greeted: \(greeting)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// User and system CPU time of a process so far, in seconds (`/proc/<pid>/stat`).
    static func cpuSeconds(of pid: pid_t) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        // Fields after "(comm)": state is the 3rd field of the line, utime the 14th, stime the 15th.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test("process_limit × client_limit sessions are served; the next connection gets 421 4.3.2 Too many connections and is closed")
    func sessionLimit() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try (text + "service lmtp {\n  process_limit = 2\n  client_limit = 1\n}\n")
            .write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let server = try await fixture.startServer()
        let first = try await Self.greetedSession(fixture)
        let second = try await Self.greetedSession(fixture)
        #expect(try await first.command("LHLO a").last?.hasPrefix("250 ") == true)
        #expect(try await second.command("LHLO b").last?.hasPrefix("250 ") == true)

        for connect in [{ try await LMTPTestClient.connect(unixPath: fixture.socketPath) },
                        { try await LMTPTestClient.connect(port: fixture.port) }] {
            let third = try await connect()
            #expect(try await third.readReply() == [Self.tooMany])
            #expect(try await third.isClosedByPeer())
        }
        // The sessions in progress are not disturbed.
        #expect(try await first.command("NOOP") == ["250 2.0.0 OK"])
        // One ends: a new connection is served again.
        #expect(try await second.command("QUIT") == ["221 2.0.0 Bye"])
        let again = try await Self.greetedSession(fixture)
        #expect(try await again.command("LHLO c").last?.hasPrefix("250 ") == true)
        await server.stop()
        #expect(server.log.contains("service(lmtp): process_limit × client_limit (2 × 1 = 2 sessions) reached, client connections are being refused"), "\(server.log)")
    }

    @Test("the default allows Dovecot's 100 × 1 sessions at once")
    func defaultLimit() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        var clients: [LMTPTestClient] = []
        for _ in 0..<100 { clients.append(try await Self.greetedSession(fixture)) }
        let extra = try await LMTPTestClient.connect(unixPath: fixture.socketPath)
        #expect(try await extra.readReply() == [Self.tooMany])
        #expect(try await clients[99].command("NOOP") == ["250 2.0.0 OK"])
        clients.removeAll()
        await server.stop()
        #expect(server.log.contains("(at most 100 sessions at once)"))
    }

    @Test("a transaction takes 1000 recipients; the next RCPT gets 452 4.5.3 Too many recipients")
    func recipientLimit() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "sender@example.org")
        try await client.send(String(repeating: "RCPT TO:<alice@example.com>\r\n", count: 1001))
        let replies = try await client.readReplies(1001)
        #expect(replies.prefix(1000).allSatisfy { $0 == "250 2.1.5 OK" })
        #expect(replies.last == "452 4.5.3 Too many recipients")
        #expect(try await client.command("RSET") == ["250 2.0.0 OK"])
        await server.stop()
    }

    @Test("at the file-descriptor limit new connections get 421 and are closed; the session in progress goes on and delivers")
    func descriptorLimit() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        let session = try await Self.greetedSession(fixture)
        #expect(try await session.command("LHLO a").last?.hasPrefix("250 ") == true)

        let open = (try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd")).count
        let soft = open + 12
        let limited = try await runOnThread { try TestProcess.run("/usr/bin/prlimit", ["--pid", "\(server.pid)", "--nofile=\(soft):"]) }
        try #require(limited.status == 0, "prlimit: \(limited.standardError)")

        var others: [LMTPTestClient] = []
        var refused = false
        for _ in 0..<60 {
            let client = try await LMTPTestClient.connect(unixPath: fixture.socketPath)
            let reply = try await client.readReply()
            if reply == [Self.tooMany] {
                #expect(try await client.isClosedByPeer())
                refused = true
                break
            }
            #expect(reply.first?.hasPrefix("220 ") == true, "\(reply)")
            others.append(client)
        }
        #expect(refused, "no connection was refused with \(soft) descriptors")
        // Connections waiting in the listen queue at the limit: accept backs off, it does not spin.
        var waiting: [LMTPTestClient] = []
        for _ in 0..<3 { waiting.append(try await LMTPTestClient.connect(unixPath: fixture.socketPath)) }
        let before = Self.cpuSeconds(of: server.pid)
        try await Task.sleep(for: .seconds(2))
        let used = Self.cpuSeconds(of: server.pid) - before
        #expect(used < 1.0, "the server used \(used) s of CPU in 2 s at the descriptor limit")
        for client in waiting { #expect(try await client.readReply() == [Self.tooMany]) }
        waiting.removeAll()
        #expect(server.exited() == nil)
        #expect(try await session.command("NOOP") == ["250 2.0.0 OK"])

        // Descriptors free again (once the server has seen the other clients go): the session
        // delivers, and new connections are served.
        others.removeAll()
        let deadline = Date().addingTimeInterval(60)
        var inUse = Int.max
        while Date() < deadline {
            inUse = (try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd")).count
            if inUse <= open + 1 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        // Should the server still hold the closed clients' descriptors, say which ones are open.
        let descriptors = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd")) ?? [])
            .map { "\($0) -> \((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(server.pid)/fd/\($0)")) ?? "?")" }
        try #require(inUse <= open + 1, "the server holds \(inUse) descriptors 60 s after the clients left (\(open) before): \(descriptors)\n\(server.log)")
        #expect(try await session.command("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"])
        #expect(try await session.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(try await session.command("DATA") == ["354 OK"])
        try await session.send("Subject: at the limit\r\n\r\nbody\r\n.\r\n")
        let delivered = try await session.readReply()
        #expect(delivered.first?.hasPrefix("250 2.0.0 <alice@example.com>") == true, "\(delivered) \(server.log)")
        let again = try await Self.greetedSession(fixture)
        #expect(try await again.command("LHLO c").last?.hasPrefix("250 ") == true)
        await server.stop()
        #expect(server.log.contains("accept failed: Too many open files"), "\(server.log)")
    }
}

struct LimitTestFailure: Error, CustomStringConvertible {
    var description: String
}
