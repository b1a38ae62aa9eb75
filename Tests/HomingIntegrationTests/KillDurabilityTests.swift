import Foundation
import Glibc
import HomingTestSupport
import Testing

/// A 250 means the message is whole in the maildir: the server killed with SIGKILL in the
/// middle of a load of concurrent deliveries leaves every acknowledged message complete in
/// `new/` (or `cur/`), and no partial message there.
@Suite("SIGKILL during a load", .serialized)
struct KillDurabilityTests {
    /// The users the load goes to (no quota limit reached).
    static let users = [("alice", "example.com"), ("carol", "example.org")]

    /// Message `index`: a Subject and Message-ID naming it and a body of 2 to 60 KiB whose
    /// lines name it too, so a truncated or mixed-up file cannot pass for it.
    static func message(_ index: Int) -> (wire: String, stored: String) {
        let lineCount = 30 + (index * 37) % 800
        var body = ""
        for line in 0..<lineCount {
            body += "message \(index) line \(line) " + String(repeating: "z", count: 40) + "\r\n"
        }
        let text = "Subject: load \(index)\r\nMessage-ID: <load.\(index)@test>\r\n\r\n" + body
        return (text + ".\r\n", text.replacingOccurrences(of: "\r\n", with: "\n"))
    }

    @Test("SIGKILL in the middle of concurrent deliveries: every message that got 250 is whole in new/ or cur/, nothing partial there")
    func killMidLoad() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        try QuotaIntegrationTests.enableQuota(fixture)
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }

        // (message index, user index) of each 250.
        let acknowledged = Locked<[(Int, Int)]>([])
        let clients = 6
        let perClient = 60
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        guard let connection = try? await QuotaIntegrationTests.connect(fixture) else { return }
                        for round in 0..<perClient {
                            let index = client * perClient + round
                            let user = index % Self.users.count
                            let (name, domain) = Self.users[user]
                            do {
                                _ = try await connection.command("MAIL FROM:<sender@example.org>")
                                let rcpt = try await connection.command("RCPT TO:<\(name)@\(domain)>")
                                guard rcpt == ["250 2.1.5 OK"] else { return }
                                _ = try await connection.command("DATA")
                                try await connection.send(Self.message(index).wire)
                                let reply = try await connection.readReply()
                                if reply.first?.hasPrefix("250 2.0.0") == true {
                                    acknowledged.withValue { $0.append((index, user)) }
                                }
                            } catch {
                                return  // the server is gone
                            }
                        }
                    }
                }
            }
        }
        // Kill it once a good part of the load has been answered, with more in flight.
        let deadline = Date().addingTimeInterval(120)
        while acknowledged.withValue({ $0.count }) < 60 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(kill(server.pid, SIGKILL) == 0)
        await load.value
        let acked = acknowledged.withValue { $0 }
        #expect(acked.count >= 60 && acked.count < clients * perClient, "\(acked.count) acknowledged")

        // Every file in new/ and cur/ is one whole message; remember which.
        var found: [Int: Set<Int>] = [:]  // user index -> message indexes on disk
        for (user, (name, domain)) in Self.users.enumerated() {
            let maildir = fixture.maildir(name, domain: domain)
            for sub in ["new", "cur"] {
                for file in fixture.files(maildir, sub) {
                    let contents = try String(contentsOfFile: "\(maildir)/\(sub)/\(file)", encoding: .utf8)
                    guard let range = contents.range(of: #"Subject: load \d+"#, options: .regularExpression),
                        let index = Int(contents[range].dropFirst("Subject: load ".count))
                    else {
                        Issue.record("\(sub)/\(file) has no load Subject: \(contents.prefix(300))")
                        continue
                    }
                    let stored = Self.message(index).stored
                    #expect(contents.hasSuffix(stored), "\(sub)/\(file) is not the whole message \(index)")
                    #expect(contents.hasPrefix("Return-Path: <sender@example.org>\n"), "\(sub)/\(file)")
                    #expect(!(found[user]?.contains(index) ?? false), "message \(index) stored twice")
                    found[user, default: []].insert(index)
                }
            }
        }
        for (index, user) in acked {
            #expect(found[user]?.contains(index) == true, "message \(index) got 250 but is not in the maildir")
        }
    }
}
