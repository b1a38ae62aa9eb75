import Foundation
import HomingTestSupport
import Testing

/// A sql userdb on a replicated PostgreSQL: a primary and a streaming-replication hot standby
/// (two real clusters on loopback), `connect` naming both. The primary is stopped in the middle
/// of a load of deliveries; Homing goes on through the standby without a restart.
@Suite("sql userdb on a primary and a standby", .serialized)
struct ReplicatedSQLFailoverTests {
    /// Waits until the standby has replayed everything the primary has written so far.
    static func waitForReplay(primary: TestPostgres, standby: TestPostgres) async throws {
        let lsn = try await primary.psql("SELECT pg_current_wal_lsn()").trimmingCharacters(in: .whitespacesAndNewlines)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let caughtUp = try? await standby.psql("SELECT pg_last_wal_replay_lsn() >= '\(lsn)'::pg_lsn")
            if caughtUp?.trimmingCharacters(in: .whitespacesAndNewlines) == "t" { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestProcessError(message: "the standby did not replay up to \(lsn) in 60 s")
    }

    @Test("the primary stopped mid-load: every reply 250 or 451 (no 5xx), every 250'd message in its maildir, deliveries go on through the standby without a restart")
    func primaryStoppedMidLoad() async throws {
        let primary = try await TestPostgres.start(label: "homing-it-primary")
        defer { Task { await primary.destroy() } }
        let database = try await TestPostgresSampleDatabase.create(in: primary)
        let fixture = try await SQLUserdbIntegrationTests.fixture(database)
        defer { fixture.dir.remove() }
        let standby = try await primary.startStandby()
        defer { Task { await standby.destroy() } }
        try await Self.waitForReplay(primary: primary, standby: standby)
        #expect(try await standby.psql("SELECT count(*) FROM users", database: database.database).contains("6"))

        // libpq's host list: the primary first, then the standby (libpq tries them in order).
        let confPath = fixture.dir.file("dovecot-sql.conf.ext")
        let conf = try String(contentsOfFile: confPath, encoding: .utf8)
        let single = "host=127.0.0.1 port=\(primary.port) "
        try #require(conf.contains(single))
        try conf.replacingOccurrences(
            of: single, with: "host=127.0.0.1,127.0.0.1 port=\(primary.port),\(standby.port) connect_timeout=2 ")
            .write(toFile: confPath, atomically: false, encoding: .utf8)

        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let socket = fixture.socketPath
        try await FailoverLoad.run(fixture: fixture, server: server) { try await primary.stop() }
        let client = try await LMTPTestClient.session(unixPath: socket)
        let accepted = try await waitUntilRecipientAccepted(client, "bob@example.com", seconds: 60, pause: .milliseconds(500))
        #expect(accepted, "\(server.log)")
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: after failover\r\n\r\nhi\r\n.\r\n")
        #expect(try await client.readReply().first?.hasPrefix("250 2.0.0 <bob@example.com>") == true)
    }
}

/// A bounded delivery load with a directory server stopped in its middle, and what must hold
/// afterwards: no 5xx, every acknowledged message stored once and whole, deliveries going on.
enum FailoverLoad {
    /// One delivery attempt of the load and what it got.
    struct Attempt: Sendable {
        var recipient: String
        var subject: String
        var rcptReply: String
        var dataReply: String?
    }

    /// One session's share of the load: `count` messages to `recipients` in turn, each in its
    /// own transaction; a 451 at RCPT or DATA is recorded and the next message goes on.
    static func load(
        socket: String, session: Int, count: Int, recipients: [String], done: Locked<Int>
    ) async throws -> [Attempt] {
        let client = try await LMTPTestClient.session(unixPath: socket)
        var attempts: [Attempt] = []
        for n in 0..<count {
            let recipient = recipients[n % recipients.count]
            let subject = "load-\(session)-\(n)"
            _ = try await client.command("MAIL FROM:<sender@example.org>")
            let rcpt = try await client.command("RCPT TO:<\(recipient)>").last ?? ""
            var attempt = Attempt(recipient: recipient, subject: subject, rcptReply: rcpt)
            if rcpt.hasPrefix("250") {
                _ = try await client.command("DATA")
                try await client.send("Subject: \(subject)\r\n\r\nbody \(subject)\r\n.\r\n")
                attempt.dataReply = try await client.readReply().last
            } else {
                _ = try await client.command("RSET")
            }
            attempts.append(attempt)
            done.withValue { $0 += 1 }
        }
        _ = try? await client.command("QUIT")
        return attempts
    }

    /// 4 sessions of 40 messages to alice, bob and carol; `stop` runs once a quarter is through.
    static func run(
        fixture: IntegrationFixture, server: HomingServerProcess, stop: @Sendable () async throws -> Void
    ) async throws {
        let socket = fixture.socketPath
        let recipients = ["alice@example.com", "bob@example.com", "carol@example.org"]
        let done = Locked(0)
        let sessions = 4, perSession = 40
        let loads = Task {
            try await withThrowingTaskGroup(of: [Attempt].self) { group in
                for session in 0..<sessions {
                    group.addTask {
                        try await Self.load(
                            socket: socket, session: session, count: perSession, recipients: recipients, done: done)
                    }
                }
                var all: [Attempt] = []
                for try await attempts in group { all += attempts }
                return all
            }
        }
        // Stop the primary once a quarter of the load is through.
        let deadline = Date().addingTimeInterval(120)
        while done.current < sessions * perSession / 4 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await stop()
        let attempts = try await loads.value
        #expect(attempts.count == sessions * perSession)

        // Never a permanent answer: each RCPT is accepted or deferred, each DATA saved or deferred.
        for attempt in attempts {
            #expect(
                attempt.rcptReply == "250 2.1.5 OK" || attempt.rcptReply.hasPrefix("451 4.3.0"),
                "\(attempt.subject): \(attempt.rcptReply)")
            if let data = attempt.dataReply {
                let saved = data.hasPrefix("250 2.0.0"), deferred = data.hasPrefix("451")
                #expect(saved || deferred, "\(attempt.subject): \(data)")
            }
        }
        // Every acknowledged message is there, whole, exactly once.
        var stored: [String: Int] = [:]
        for (user, domain) in [("alice", "example.com"), ("bob", "example.com"), ("carol", "example.org")] {
            let maildir = fixture.maildir(user, domain: domain)
            for name in fixture.files(maildir) {
                let text = try String(contentsOfFile: maildir + "/new/" + name, encoding: .utf8)
                guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Subject: ") }) else { continue }
                let subject = String(line.dropFirst("Subject: ".count))
                #expect(text.hasSuffix("body \(subject)\n"), "\(name)")
                stored[subject, default: 0] += 1
            }
        }
        let acknowledged = attempts.filter { ($0.dataReply ?? "").hasPrefix("250") }
        for attempt in acknowledged {
            #expect(stored[attempt.subject] == 1, "\(attempt.subject) acknowledged but stored \(stored[attempt.subject] ?? 0) times")
        }
        #expect(stored.values.reduce(0, +) == acknowledged.count)
        // Lookups went on through the standby: some deliveries after the stop succeeded, and a
        // new one does, without restarting Homing.
        let afterStop = attempts.filter { attempt in
            guard let n = Int(attempt.subject.split(separator: "-").last ?? "") else { return false }
            return n >= perSession * 3 / 4
        }
        let savedAfterStop = afterStop.contains { ($0.dataReply ?? "").hasPrefix("250") }
        #expect(savedAfterStop, "\(server.log)")
    }
}
