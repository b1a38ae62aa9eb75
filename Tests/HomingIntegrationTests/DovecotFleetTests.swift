import Foundation
import Glibc
import HomingTestSupport
import Testing

/// Mixed fleets: Debian's Dovecot 2.3 and Homing on loopback, each in its own temporary
/// directory (issue 15).
@Suite("Dovecot and Homing in one fleet", .serialized)
struct DovecotFleetTests {
    @Test("TestDovecot runs a private Dovecot LMTP that stores mail in its own directory and stops cleanly")
    func testDovecotDeliversLocally() async throws {
        let dovecot = try await runOnThread { try TestDovecot.start() }
        defer { dovecot.remove() }
        let client = try await LMTPTestClient.connect(port: dovecot.port)
        #expect(try await client.readReply() == ["220 mx.example.com Dovecot (Debian) ready."])
        let lhlo = try await client.command("LHLO client.example.org")
        // Our own connection is not in login_trusted_networks: no XCLIENT offered.
        #expect(lhlo.last == "250 PIPELINING", "\(lhlo)")
        #expect(try await client.command("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"])
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: hi\r\n\r\nhello\r\n.\r\n")
        let saved = try await client.readReply()
        #expect(saved.first?.hasPrefix("250 2.0.0 <alice@example.com> ") == true, "\(saved) \(dovecot.log)")
        #expect(try await client.command("QUIT") == ["221 2.0.0 Bye"])
        let new = dovecot.mailRoot + "/example.com/alice/Maildir/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: new)) ?? []
        #expect(names.count == 1, "\(dovecot.log)")

        await runOnThreadQuietly { dovecot.stop() }
        #expect(!dovecot.isRunning)
        #expect((try? await LMTPTestClient.connect(port: dovecot.port)) == nil)
        // Again on the same directory and port (a backend coming back).
        try await runOnThread { try dovecot.start() }
        let again = try await LMTPTestClient.connect(port: dovecot.port)
        #expect(try await again.readReply() == ["220 mx.example.com Dovecot (Debian) ready."])
        _ = try await again.command("QUIT")
    }
}

extension DovecotFleetTests {
    /// A Homing backend trusting the Dovecot front (127.0.0.1), and a Dovecot front with
    /// `lmtp_proxy = yes` whose static passdb sends every recipient to it.
    struct Fleet {
        let homing: IntegrationFixture
        let dovecot: TestDovecot

        init(proxyExtra: String = "") async throws {
            homing = try IntegrationFixture(extraSettings: "login_trusted_networks = 127.0.0.1")
            let port = homing.port
            dovecot = try await runOnThread {
                try TestDovecot.start(
                    .init(
                        hostname: "front.example.com",
                        passdbs: [TestDovecot.proxyPassdb(port: port, extra: proxyExtra)],
                        settings: [("lmtp_proxy", "yes")]))
            }
        }

        func remove() {
            dovecot.remove()
            homing.dir.remove()
        }
    }

    @Test("Dovecot front, Homing backend: mail lands in Homing's maildir, Dovecot accepts on Homing's 250, Homing logs the original client")
    func dovecotFrontHomingBackend() async throws {
        let fleet = try await Fleet()
        defer { fleet.remove() }
        let server = try await fleet.homing.startServer()
        // From 127.0.0.2, so that the address Dovecot passes on differs from its own.
        let client = try await LMTPTestClient.connect(port: fleet.dovecot.port, sourceAddress: "127.0.0.2")
        #expect(try await client.readReply() == ["220 front.example.com Dovecot (Debian) ready."])
        _ = try await client.command("LHLO client.example.org")
        #expect(try await client.command("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"])
        let rcpt = try await client.command("RCPT TO:<alice@example.com>")
        #expect(rcpt == ["250 2.1.5 OK"], "\(rcpt) \(fleet.dovecot.log) \(server.log)")
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Message-ID: <fleet1@example.org>\r\nSubject: via Dovecot\r\n\r\nhello\r\n.\r\n")
        let saved = try await client.readReply()
        #expect(try await client.command("QUIT") == ["221 2.0.0 Bye"])
        let log = await server.waitForLog { $0.contains("XCLIENT from proxy") }
        await server.stop()
        // Dovecot answers a proxied recipient with its own `Saved` text once the backend said
        // 250, and logs the backend's reply: Homing's, with the id Dovecot passed as SESSION=.
        let reply = try #require(saved.first, "\(fleet.dovecot.log)")
        let frontID = try #require(replyID(reply), "\(reply)")
        #expect(reply == "250 2.0.0 <alice@example.com> \(frontID) Saved", "\(saved)")
        let dovecotLog = await fleet.dovecot.waitForLog { $0.contains("Sent message to <alice@example.com>") }
        #expect(
            dovecotLog.contains(
                "Sent message to <alice@example.com> at 127.0.0.1:\(fleet.homing.port): 250 2.0.0 <alice@example.com> \(frontID):P1 Saved"
            ), "\(dovecotLog)")
        // Dovecot's proxy passes the client's address and port, its LHLO name, its session and
        // TTL 5; Homing logs them with the proxy's own address.
        let xclientLine = log.split(separator: "\n").first { $0.contains("XCLIENT from proxy") }.map(String.init) ?? ""
        #expect(
            xclientLine.range(
                of: #"XCLIENT from proxy 127\.0\.0\.1: client is 127\.0\.0\.2 port \d+ \(TTL=5, HELO=client\.example\.org, previous session "#,
                options: .regularExpression) != nil, "\(log)")
        let maildir = fleet.homing.maildir("alice")
        let names = fleet.homing.files(maildir)
        try #require(names.count == 1, "\(log)")
        let text = try String(contentsOfFile: maildir + "/new/" + names[0], encoding: .utf8)
        // Homing's Received header names the original client's address (the LHLO the front
        // sends after XCLIENT names the front, as on a Dovecot backend), then the front's own.
        #expect(
            text.contains(
                "Received: from front.example.com ([127.0.0.2])\n\tby mx.example.com with LMTP\n\tid \(frontID):P1\n"),
            "\(text)")
        #expect(text.contains("Received: from client.example.org ([127.0.0.2])\n\tby front.example.com with LMTP\n"), "\(text)")
        #expect(text.hasSuffix("Subject: via Dovecot\n\nhello\n"))
        // Dovecot itself stored nothing.
        #expect(!FileManager.default.fileExists(atPath: fleet.dovecot.mailRoot + "/example.com"))
    }

    @Test("Dovecot front, Homing backend: a recipient Homing does not know gets Homing's 550 through Dovecot; the others are delivered")
    func unknownRecipientThroughDovecot() async throws {
        let fleet = try await Fleet()
        defer { fleet.remove() }
        let server = try await fleet.homing.startServer()
        let client = try await LMTPTestClient.connect(port: fleet.dovecot.port)
        _ = try await client.readReply()
        _ = try await client.command("LHLO client.example.org")
        #expect(try await client.command("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"])
        let unknown = try await client.command("RCPT TO:<nosuch@example.com>")
        #expect(
            unknown == ["550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com"],
            "\(unknown) \(fleet.dovecot.log)")
        #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: two\r\n\r\nhello\r\n.\r\n")
        let saved = try await client.readReply()
        #expect(saved.first?.hasPrefix("250 2.0.0 <bob@example.com> ") == true, "\(saved)")
        _ = try await client.command("QUIT")
        await server.stop()
        #expect(fleet.homing.files(fleet.homing.maildir("bob")).count == 1, "\(server.log)")
    }

    @Test("Dovecot front, Homing backend down: the recipient gets Dovecot's 451 4.4.0, so the sender retries")
    func homingDownThroughDovecot() async throws {
        let fleet = try await Fleet()
        defer { fleet.remove() }
        // Homing is not started: its port refuses connections.
        let client = try await LMTPTestClient.connect(port: fleet.dovecot.port)
        _ = try await client.readReply()
        _ = try await client.command("LHLO client.example.org")
        #expect(try await client.command("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"])
        let rcpt = try await client.command("RCPT TO:<alice@example.com>")
        #expect(rcpt.count == 1 && rcpt[0].hasPrefix("451 4.4.0 Proxy failed (connect"), "\(rcpt) \(fleet.dovecot.log)")
        #expect(try await client.command("DATA") == ["503 5.5.0 No valid recipients"])
        _ = try await client.command("QUIT")
    }
}

extension DovecotFleetTests {
    /// Sends one message to `recipient` over LMTP on `port`; returns the greeting and the
    /// end-of-data reply.
    func deliverOne(port: Int, to recipient: String, subject: String) async throws -> (greeting: String, reply: String) {
        let client = try await LMTPTestClient.connect(port: port)
        let greeting = try await client.readReply().first ?? ""
        _ = try await client.command("LHLO client.example.org")
        _ = try await client.command("MAIL FROM:<sender@example.org>")
        let rcpt = try await client.command("RCPT TO:<\(recipient)>")
        guard rcpt == ["250 2.1.5 OK"] else { return (greeting, rcpt.joined(separator: " ")) }
        _ = try await client.command("DATA")
        try await client.send("Subject: \(subject)\r\n\r\nhello\r\n.\r\n")
        let reply = try await client.readReply().joined(separator: " ")
        _ = try await client.command("QUIT")
        return (greeting, reply)
    }

    @Test("Homing drops in for Dovecot on the very same dovecot.conf: same port, same users, same maildir")
    func dropInOnSameConfiguration() async throws {
        let dovecot = try await runOnThread {
            try TestDovecot.start(.init(settings: [("postmaster_address", "postmaster@example.com")]))
        }
        defer { dovecot.remove() }
        let first = try await deliverOne(port: dovecot.port, to: "alice@example.com", subject: "by Dovecot")
        #expect(first.greeting == "220 mx.example.com Dovecot (Debian) ready.")
        #expect(first.reply.hasPrefix("250 2.0.0 <alice@example.com> "), "\(first) \(dovecot.log)")
        await runOnThreadQuietly { dovecot.stop() }

        let server = try await HomingServerProcess(
            config: dovecot.configPath, logPath: dovecot.directory + "/homing.err", waitForPort: dovecot.port)
        let second = try await deliverOne(port: dovecot.port, to: "alice@example.com", subject: "by Homing")
        await server.stop()
        #expect(second.greeting == "220 mx.example.com Homing ready.")
        #expect(second.reply.hasPrefix("250 2.0.0 <alice@example.com> "), "\(second) \(server.log) \(dovecot.log)")
        let new = dovecot.mailRoot + "/example.com/alice/Maildir/new"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: new)) ?? []).sorted()
        try #require(names.count == 2, "\(names) \(server.log) \(dovecot.log)")
        let subjects = try names.map { try String(contentsOfFile: new + "/" + $0, encoding: .utf8) }
            .compactMap { text in text.split(separator: "\n").first { $0.hasPrefix("Subject: ") }.map(String.init) }
        #expect(Set(subjects) == ["Subject: by Dovecot", "Subject: by Homing"])
        // Dovecot's maildir bookkeeping was there first; Homing's file sits next to it.
        #expect(FileManager.default.fileExists(atPath: dovecot.mailRoot + "/example.com/alice/Maildir/dovecot-uidlist"))
    }
}

extension DovecotFleetTests {
    /// XCLIENT commands whose replies Homing must give exactly as Dovecot 2.3 does (the
    /// deliberate differences, such as `ADDR=1.2.3`, are not in the list).
    static let xclientScript = [
        "XCLIENT", "XCLIENT ADDR=1.2.3.4  PORT=5", "XCLIENT ADDR", "XCLIENT PORT=0", "XCLIENT PORT=65536",
        "XCLIENT ADDR=1.2.3.4 PORT=+31", "XCLIENT ADDR=1.2.3.4 PORT=+3X", "XCLIENT TTL=-1", "XCLIENT TTL=",
        "XCLIENT TIMEOUT=x", "XCLIENT PROTO=foo", "XCLIENT HELO=..bad FOO=bar =x", "XCLIENT FOO=bar",
        "XCLIENT a=b=c", "xclient addr=IPV6:1.2.3.4", "XCLIENT ADDR=IPV6:::1", "XCLIENT ADDR=[::1]",
        "XCLIENT ADDR=[UNAVAILABLE] PORT=[unavailable]", "XCLIENT ADDR=+00", "XCLIENT ADDR=fe80::1%eth0",
        "XCLIENT LOGIN= SESSION=abc HELO=[1.2.3.4]", "XCLIENT TTL=0 TIMEOUT=125 PROTO=lmtp", "MAIL FROM:<a@b>",
        "XCLIENT ADDR=1.2.3.4", "RSET", "XCLIENT ADDR=10.1.2.3 PORT=4321",
    ]

    /// The replies to the command lines of `script` on `port`, from `source`, after the
    /// greeting and LHLO (returned first); Dovecot's greeting text is written as Homing's so
    /// the two compare.
    static func replies(to script: [String], port: Int, source: String) async throws -> (lhlo: [String], replies: [[String]]) {
        let client = try await LMTPTestClient.connect(port: port, sourceAddress: source)
        _ = try await client.readReply()
        let lhlo = try await client.command("LHLO proxy.example.net")
        var replies: [[String]] = []
        for line in script {
            let reply = try await client.command(line)
            replies.append(reply.map { $0.replacingOccurrences(of: "Dovecot (Debian) ready.", with: "Homing ready.") })
        }
        _ = try await client.command("QUIT")
        return (lhlo, replies)
    }

    @Test("XCLIENT answers, trusted and not, are Dovecot's, command for command")
    func xclientRepliesMatchDovecot() async throws {
        let dovecot = try await runOnThread {
            try TestDovecot.start(.init(settings: [("login_trusted_networks", "127.0.0.1")]))
        }
        defer { dovecot.remove() }
        let homing = try IntegrationFixture(extraSettings: "login_trusted_networks = 127.0.0.1")
        defer { homing.dir.remove() }
        let server = try await homing.startServer()
        for source in ["127.0.0.1", "127.0.0.2"] {
            let theirs = try await Self.replies(to: Self.xclientScript, port: dovecot.port, source: source)
            let ours = try await Self.replies(to: Self.xclientScript, port: homing.port, source: source)
            let trusted = source == "127.0.0.1"
            for (index, line) in Self.xclientScript.enumerated() {
                #expect(ours.replies[index] == theirs.replies[index], "\(source) \(line)")
            }
            let offer = "250-XCLIENT ADDR PORT PROTO HELO LOGIN SESSION TTL TIMEOUT"
            #expect(theirs.lhlo.contains(offer) == trusted, "\(theirs.lhlo)")
            #expect(ours.lhlo.contains { $0.hasSuffix(String(offer.dropFirst(4))) } == trusted, "\(ours.lhlo)")
        }
        await server.stop()
    }
}

/// Runs non-throwing blocking work on a thread of its own.
func runOnThreadQuietly(_ body: @escaping @Sendable () -> Void) async {
    _ = try? await runOnThread { body() }
}
