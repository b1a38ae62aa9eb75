import Foundation
import Glibc
import HomingTestSupport
import Testing

/// Issue 12's "no stall across users": one user's maildir locked by another process, or one
/// userdb back end that accepts connections and never answers, holds up that recipient only:
/// deliveries to everyone else go on, and the stuck recipient gets a 4xx after the configured
/// wait, never a hang.
@Suite("no stall across users", .serialized)
struct StallIsolationTests {
    /// A first delivery creates alice's maildir and its maildirsize; then another process's
    /// lock is taken on it (an exclusive flock on the maildir, the lock the quota plugin takes).
    /// Returns the descriptor holding it: close it (or `flock(fd, LOCK_UN)`) to let go.
    static func lockAlice(_ fixture: IntegrationFixture) async throws -> Int32 {
        let first = try await QuotaIntegrationTests.transaction(
            try await QuotaIntegrationTests.connect(fixture), to: ["alice@example.com"],
            body: QuotaIntegrationTests.message(kib: 1))
        #expect(first.data.first?.hasPrefix("250 2.0.0") == true, "\(first)")
        let lockFD = open(fixture.maildir("alice"), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(lockFD >= 0)
        #expect(flock(lockFD, LOCK_EX) == 0)
        return lockFD
    }

    @Test("a maildir locked by another process: other users are delivered meanwhile, the locked one gets 451 after mail_max_lock_timeout")
    func lockedMaildir() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        try QuotaIntegrationTests.enableQuota(fixture, topLevel: "mail_max_lock_timeout = 15s")
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let lockFD = try await Self.lockAlice(fixture)
        defer { close(lockFD) }

        // 20 deliveries to alice at once, more than the storage pool has threads: each waits for
        // the lock, a few at a time on the pool, the rest without a thread.
        let stuck = (0..<20).map { index in
            Task { () throws -> [String] in
                try await QuotaIntegrationTests.transaction(
                    try await QuotaIntegrationTests.connect(fixture), to: ["alice@example.com"],
                    body: QuotaIntegrationTests.message(kib: 1, subject: "stuck \(index)")).data
            }
        }
        try await Task.sleep(for: .milliseconds(500))
        // Meanwhile, bob and carol, one after the other, as a steady stream. Were the pool's
        // threads all waiting for alice's lock, these would wait the 15 s too.
        let othersStarted = ContinuousClock.now
        for index in 0..<10 {
            let result = try await QuotaIntegrationTests.transaction(
                try await QuotaIntegrationTests.connect(fixture), to: ["bob@example.com", "carol@example.org"],
                body: QuotaIntegrationTests.message(kib: 4, subject: "other \(index)"))
            #expect(result.data.count == 2 && result.data.allSatisfy { $0.hasPrefix("250 2.0.0") }, "\(result)")
        }
        let othersDone = ContinuousClock.now - othersStarted
        #expect(othersDone < .seconds(12), "the other users took \(othersDone) while alice's maildir was locked")
        #expect(fixture.files(fixture.maildir("bob")).count == 10)
        #expect(fixture.files(fixture.maildir("carol", domain: "example.org")).count == 10)

        // Released before the wait is over: every waiting delivery goes through.
        #expect(flock(lockFD, LOCK_UN) == 0)
        for task in stuck {
            let reply = try await task.value
            #expect(reply.count == 1 && reply[0].hasPrefix("250 2.0.0"), "\(reply)")
        }
        #expect(fixture.files(fixture.maildir("alice")).count == 21)

        // Held for longer than mail_max_lock_timeout: 451 after the wait, nothing stored.
        #expect(flock(lockFD, LOCK_EX) == 0)
        let started = ContinuousClock.now
        let refused = try await QuotaIntegrationTests.transaction(
            try await QuotaIntegrationTests.connect(fixture), to: ["alice@example.com"],
            body: QuotaIntegrationTests.message(kib: 1, subject: "refused"))
        let waited = ContinuousClock.now - started
        #expect(refused.data == ["451 4.3.0 <alice@example.com> Temporary internal error"], "\(refused)")
        #expect(waited >= .seconds(14) && waited < .seconds(50), "alice's reply came after \(waited)")
        #expect(fixture.files(fixture.maildir("alice")).count == 21, "nothing stored for the refused copy")
        #expect(server.log.contains("timed out after 15 s"), "\(server.log)")
        #expect(server.exited() == nil)
    }

    @Test("40 copies queued behind a maildir locked for good: every one gets 451 after about mail_max_lock_timeout, the wait for a storage slot included")
    func queuedBehindLock() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        try QuotaIntegrationTests.enableQuota(fixture, topLevel: "mail_max_lock_timeout = 5s")
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let lockFD = try await Self.lockAlice(fixture)
        defer { close(lockFD) }

        // Ten times alice's share of the storage pool: most wait for a slot first. Were the
        // slot wait not counted, the last ones would get their reply only after the lock waits
        // of the copies before them (5 s, then about 1 s for each round after: some 14 s).
        let started = ContinuousClock.now
        let stuck = (0..<40).map { index in
            Task { () throws -> ([String], Duration) in
                let reply = try await QuotaIntegrationTests.transaction(
                    try await QuotaIntegrationTests.connect(fixture), to: ["alice@example.com"],
                    body: QuotaIntegrationTests.message(kib: 1, subject: "queued \(index)")).data
                return (reply, ContinuousClock.now - started)
            }
        }
        var longest = Duration.zero
        for task in stuck {
            let (reply, after) = try await task.value
            #expect(reply == ["451 4.3.0 <alice@example.com> Temporary internal error"], "\(reply)")
            longest = max(longest, after)
        }
        #expect(longest >= .seconds(4) && longest < .seconds(10), "the last reply came after \(longest)")
        #expect(fixture.files(fixture.maildir("alice")).count == 1, "nothing stored for the refused copies")
        #expect(server.log.contains("earlier deliveries to alice@example.com were still storing"), "\(server.log)")
        #expect(server.exited() == nil)
    }

    @Test("a userdb that accepts and never answers (second userdb block): others are delivered at once, its recipients get 451 at query_timeout")
    func hangingUserdb() async throws {
        let silent = try SilentTCPServer()
        defer { silent.stop() }
        let dir = try ScratchDirectory("homing-stall-sql")
        defer { dir.remove() }
        try dir.write(
            "dovecot-sql.conf.ext",
            """
            driver = pgsql
            connect = host=127.0.0.1 port=\(silent.port) dbname=mail user=mail query_timeout=20
            user_query = SELECT home, uid, gid FROM users WHERE userid = '%u'

            """)
        let fixture = try IntegrationFixture(userdb: "")
        defer { fixture.dir.remove() }
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try (text + """
            userdb {
              driver = passwd-file
              args = \(fixture.dir.file("users"))
            }
            userdb {
              driver = sql
              args = \(dir.file("dovecot-sql.conf.ext"))
            }

            """).write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }

        let started = ContinuousClock.now
        // Three recipients of the stuck back end, each on its own connection, all at once.
        let stuck = (0..<3).map { index in
            Task { () throws -> (reply: [String], elapsed: Duration) in
                let client = try await QuotaIntegrationTests.connect(fixture)
                _ = try await client.command("MAIL FROM:<sender@example.org>")
                let reply = try await client.command("RCPT TO:<user\(index)@stuck.example>")
                return (reply, ContinuousClock.now - started)
            }
        }
        // Give the stuck lookups a moment to reach the silent server.
        try await waitFor(seconds: 10) { silent.acceptedCount > 0 }
        for index in 0..<10 {
            let result = try await QuotaIntegrationTests.transaction(
                try await QuotaIntegrationTests.connect(fixture), to: ["alice@example.com", "bob@example.com"],
                body: QuotaIntegrationTests.message(kib: 4, subject: "other \(index)"))
            #expect(result.rcpt == ["250 2.1.5 OK", "250 2.1.5 OK"], "\(result)")
            #expect(result.data.count == 2 && result.data.allSatisfy { $0.hasPrefix("250 2.0.0") }, "\(result)")
        }
        let othersDone = ContinuousClock.now - started
        #expect(othersDone < .seconds(15), "the other users took \(othersDone) while a userdb hung")
        #expect(fixture.files(fixture.maildir("alice")).count == 10)

        for (index, task) in stuck.enumerated() {
            let (reply, elapsed) = try await task.value
            #expect(reply == ["451 4.3.0 <user\(index)@stuck.example> Temporary internal error"], "\(reply)")
            #expect(elapsed >= .seconds(15) && elapsed < .seconds(60), "the stuck recipient's reply came after \(elapsed)")
        }
        #expect(server.exited() == nil)
    }

    /// Polls `condition` every 50 ms for up to `seconds`.
    func waitFor(seconds: Double, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { throw StallTestError( "timed out waiting for a condition") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A set-up step of these tests failed.
struct StallTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
