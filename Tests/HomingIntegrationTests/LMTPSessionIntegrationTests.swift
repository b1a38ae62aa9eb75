import Foundation
import Glibc
import HomingTestSupport
import Testing

@Suite("homing serve: LMTP sessions against the real server", .serialized)
struct LMTPSessionIntegrationTests {
    @Test("two known and one unknown recipient over the unix socket: Dovecot's replies, one file per known user")
    func twoKnownOneUnknown() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        // The socket gets the configured mode (0600 here, as in the seed's unix_listener).
        #expect(ownership(fixture.socketPath)?.mode == 0o600)
        if geteuid() == 0 {
            // Owned by the configured user and group, like the seed's `user = postfix`.
            #expect(ownership(fixture.socketPath)?.uid == 65534)
            #expect(ownership(fixture.socketPath)?.gid == 65534)
        }
        let client = try await LMTPTestClient.connect(unixPath: fixture.socketPath)
        #expect(try await client.readReply() == ["220 mx.example.com Homing ready."])
        let lhlo = try await client.command("LHLO client.example.org")
        #expect(lhlo.first == "250-mx.example.com")
        #expect(lhlo.contains("250-ENHANCEDSTATUSCODES"))
        #expect(lhlo.contains { $0.hasSuffix("PIPELINING") })
        #expect(try await client.command("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"])
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(
            try await client.command("RCPT TO:<nosuch@example.com>")
                == ["550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com"])
        #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Message-ID: <t1@example.org>\r\nSubject: test\r\n\r\nHello\r\n..dot\r\n.\r\n")
        let replies = try await client.readReplies(2)
        #expect(replies.count == 2)
        let sid = try #require(replyID(replies[0]))
        #expect(sid.count == 22)
        #expect(replies[0] == "250 2.0.0 <alice@example.com> \(sid) Saved")
        #expect(replies[1] == "250 2.0.0 <bob@example.com> \(sid):R3 Saved")
        #expect(try await client.command("QUIT") == ["221 2.0.0 Bye"])
        await server.stop()

        for user in ["alice", "bob"] {
            let maildir = fixture.maildir(user)
            let names = fixture.files(maildir)
            try #require(names.count == 1, "\(user): \(names) \(server.log)")
            let name = names[0]
            let path = maildir + "/new/" + name
            let data = try #require(FileManager.default.contents(atPath: path))
            let text = String(decoding: data, as: UTF8.self)
            let lineFeeds = data.filter { $0 == UInt8(ascii: "\n") }.count
            #expect(name.range(of: #"^\d+\.M\d+P\d+(Q\d+)?\.[^,/]+,S=\d+,W=\d+$"#, options: .regularExpression) != nil)
            #expect(name.hasSuffix(",S=\(data.count),W=\(data.count + lineFeeds)"))
            #expect(text.hasPrefix("Return-Path: <sender@example.org>\nReceived: from client.example.org\n\tby mx.example.com with LMTP\n\tid \(sid)\n\t(envelope-from <sender@example.org>); "))
            #expect(!text.contains("Delivered-To:"))
            #expect(text.hasSuffix("\nMessage-ID: <t1@example.org>\nSubject: test\n\nHello\n.dot\n"))
            #expect(!text.contains("\r"))
            let owner = try #require(ownership(path))
            #expect(owner.uid == fixture.uid && owner.gid == fixture.gid && owner.mode == 0o600)
            for sub in ["", "/new", "/cur", "/tmp"] {
                let dir = try #require(ownership(maildir + sub))
                #expect(dir.uid == fixture.uid && dir.gid == fixture.gid && dir.mode == 0o700, "\(maildir + sub)")
            }
            #expect(fixture.files(maildir, "tmp").isEmpty)
        }
        #expect(server.log.contains("msgid=<t1@example.org>: saved mail to INBOX"))
    }

    @Test("one recipient over TCP: Delivered-To and the for clause carry the address as sent, the peer's IP is recorded")
    func singleRecipientOverTCP() async throws {
        let fixture = try IntegrationFixture(extraSettings: "lmtp_save_to_detail_mailbox = yes\nlda_mailbox_autocreate = yes")
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.connect(port: fixture.port)
        _ = try await client.readReply()
        // Pipelined: everything up to DATA in one write.
        try await client.send("LHLO client\r\nMAIL FROM:<>\r\nRCPT TO:<Alice+Lists@example.com>\r\nDATA\r\n")
        let replies = try await client.readReplies(4)
        #expect(Array(replies.suffix(3)) == ["250 2.1.0 OK", "250 2.1.5 OK", "354 OK"])
        try await client.send("Subject: x\r\n\r\nbody\r\n.\r\n")
        let saved = try await client.readReply()
        let sid = try #require(replyID(saved[0]))
        #expect(saved == ["250 2.0.0 <Alice+Lists@example.com> \(sid) Saved"])
        let folder = fixture.maildir("alice") + "/.Lists"
        let names = fixture.files(folder)
        try #require(names.count == 1, "\(server.log)")
        let text = try String(contentsOfFile: folder + "/new/" + names[0], encoding: .utf8)
        #expect(text.hasPrefix("Return-Path: <>\nDelivered-To: Alice+Lists@example.com\nReceived: from client ([127.0.0.1])\n\tby mx.example.com with LMTP\n\tid \(sid)\n\t(envelope-from <>)\n\tfor <Alice+Lists@example.com>; "))
        #expect(FileManager.default.fileExists(atPath: folder + "/maildirfolder"))
        #expect(fixture.files(fixture.maildir("alice")).isEmpty)
    }

    @Test("a userdb that cannot answer gives 451 4.3.0, never 5xx, and the connection goes on")
    func temporaryFailure() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
        #expect(
            try await client.command("RCPT TO:<broken@example.com>")
                == ["451 4.3.0 <broken@example.com> Temporary internal error"])
        #expect(try await client.command("RCPT TO:<carol@example.org>") == ["250 2.1.5 OK"])
        #expect(try await client.command("RSET") == ["250 2.0.0 OK"])
        #expect(server.log.contains("broken@example.com"))
    }

    @Test("addresses that would name other directories are refused and nothing is created outside the tree")
    func pathTraversal() async throws {
        let fixture = try IntegrationFixture(
            userdb: """
                userdb {
                  driver = static
                  args = uid=\(geteuid() == 0 ? 5000 : geteuid()) gid=\(geteuid() == 0 ? 5000 : getegid()) home=MAILROOT/%d/%n allow_all_users=yes
                }
                """.replacingOccurrences(of: "MAILROOT", with: "/tmp/placeholder"))
        defer { fixture.dir.remove() }
        // Point the static home into this fixture's mail root.
        let conf = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "/tmp/placeholder", with: fixture.mailRoot)
        try conf.write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
        #expect(try await client.command("RCPT TO:<..@example.com>") == ["550 5.1.1 <..@example.com> User doesn't exist: ..@example.com"])
        #expect(try await client.command("RCPT TO:<\"a/b\"@example.com>").first?.hasPrefix("550 5.1.1") == true)
        #expect(try await client.command("RCPT TO:<alice@..>").first?.hasPrefix("5") == true)
        #expect(try await client.command("RCPT TO:<dave@example.net>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: s\r\n\r\nx\r\n.\r\n")
        #expect(try await client.readReply().first?.hasPrefix("250 2.0.0 <dave@example.net>") == true)
        let top = try FileManager.default.contentsOfDirectory(atPath: fixture.mailRoot)
        #expect(top == ["example.net"])
        #expect(fixture.files(fixture.maildir("dave", domain: "example.net")).count == 1)
    }
}

@Suite("homing serve: restarts", .serialized)
struct ServerRestartTests {
    @Test("a stale socket left by a killed server is replaced; SIGTERM closes idle sessions with 421 and exits 0")
    func staleSocket() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let first = try await fixture.startServer()
        kill(first.pid, SIGKILL)
        _ = await first.stop()
        #expect(FileManager.default.fileExists(atPath: fixture.socketPath))
        let second = try await fixture.startServer()
        let client = try await LMTPTestClient.connect(unixPath: fixture.socketPath)
        #expect(try await client.readReply() == ["220 mx.example.com Homing ready."])
        // SIGTERM: the idle session is told so and closed; the server exits cleanly and soon.
        let started = Date()
        async let stopped = second.stop()
        #expect(try await client.readReply() == ["421 4.3.2 mx.example.com Shutting down"])
        #expect(await stopped == 0)
        #expect(Date().timeIntervalSince(started) < 19)  // before stop() would SIGKILL; an exit status of 0 already says it was not killed
    }
}
