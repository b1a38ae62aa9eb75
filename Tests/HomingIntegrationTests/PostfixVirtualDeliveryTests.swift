import Foundation
import Glibc
import HomingTestSupport
import Testing

/// A real Postfix (`virtual_transport = lmtp:unix:private/dovecot-lmtp`) delivering into
/// `homing serve` for virtual users: mail goes in over SMTP, out over LMTP, into maildirs.
@Suite("Postfix in front: virtual users", .serialized, .enabled(if: geteuid() == 0), .timeLimit(.minutes(3)))
struct PostfixVirtualDeliveryTests {
    @Test("one message to a passwd-file user: Return-Path and Delivered-To right, Postfix logs Homing's 250 reply")
    func singleRecipient() async throws {
        let setup = try await PostfixFixture.start()
        try await setup.run {
            // The socket as the seed's unix_listener makes it: postfix:postfix, 0600.
            let postfixUser = try #require(TestProcess.systemUser("postfix"))
            let socket = try #require(ownership(setup.postfix.lmtpSocketPath))
            #expect(socket.uid == postfixUser.uid && socket.gid == postfixUser.gid && socket.mode == 0o600)

            let sent = try await setup.postfix.send(
                from: "sender@example.org", to: ["alice@example.com"],
                message: "Message-ID: <pf1@example.org>\r\nSubject: via postfix\r\n\r\nHello\r\n.leading dot\r\n")
            #expect(sent.recipientReplies == ["250 2.1.5 Ok"])
            let queueID = try #require(sent.queueID, "\(sent)")
            let lines = try await setup.postfix.waitForLog("\(queueID): to=<alice@example.com>", "status=sent")
            let reply = try #require(lmtpReplyInLogLine(lines[0]), "\(lines)")
            let sid = try #require(replyID(reply))
            #expect(reply == "250 2.0.0 <alice@example.com> \(sid) Saved")
            #expect(lines[0].contains("relay=mx.example.com[private/dovecot-lmtp]"))
            try await setup.postfix.waitForQueueEmpty()

            let maildir = setup.homing.maildir("alice")
            let text = try #require(try setup.onlyMessage(in: maildir), "\(setup.homing.files(maildir)) \(setup.logs)")
            #expect(
                text.hasPrefix(
                    "Return-Path: <sender@example.org>\nDelivered-To: alice@example.com\nReceived: from mx.example.com\n\tby mx.example.com with LMTP\n\tid \(sid)\n\t(envelope-from <sender@example.org>)\n\tfor <alice@example.com>; "),
                "\(text)")
            // Postfix's own Received: header follows Homing's, then the message as sent.
            #expect(text.contains("\nReceived: from client.example.org (localhost [127.0.0.1])\n\tby mx.example.com (Postfix) with ESMTP id \(queueID)\n"))
            #expect(text.contains("\nMessage-ID: <pf1@example.org>\nSubject: via postfix\n"))
            #expect(text.hasSuffix("\n\nHello\n.leading dot\n"))
            let owner = try #require(ownership(maildir + "/new/" + setup.homing.files(maildir)[0]))
            #expect(owner.uid == setup.homing.uid && owner.gid == setup.homing.gid && owner.mode == 0o600)
            #expect(setup.server.log.contains("msgid=<pf1@example.org>: saved mail to INBOX"))
        }
    }

    @Test("three recipients in one SMTP transaction: one LMTP transaction, each recipient's own 250 reply, one copy each")
    func severalRecipients() async throws {
        let setup = try await PostfixFixture.start()
        try await setup.run {
            let recipients = ["alice@example.com", "bob@example.com", "carol@example.org"]
            let sent = try await setup.postfix.send(
                from: "sender@example.org", to: recipients, message: "Subject: to three\r\n\r\nHi all\r\n")
            #expect(sent.recipientReplies == ["250 2.1.5 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok"])
            let queueID = try #require(sent.queueID)
            let lines = try await setup.postfix.waitForLog("\(queueID): to=<", "status=sent", count: 3)
            var replies: [String: String] = [:]
            for line in lines {
                for recipient in recipients where line.contains("to=<\(recipient)>") {
                    replies[recipient] = lmtpReplyInLogLine(line)
                }
            }
            let base = try #require(replies["alice@example.com"].flatMap(sessionBase), "\(lines)")
            // Postfix sends all three RCPTs in one LMTP transaction: the same session id, :R<n>.
            let suffixes = ["alice@example.com": "", "bob@example.com": ":R2", "carol@example.org": ":R3"]
            for recipient in recipients {
                #expect(replies[recipient] == "250 2.0.0 <\(recipient)> \(base)\(suffixes[recipient] ?? "") Saved", "\(lines)")
            }
            try await setup.postfix.waitForQueueEmpty()
            for (user, domain) in [("alice", "example.com"), ("bob", "example.com"), ("carol", "example.org")] {
                let maildir = setup.homing.maildir(user, domain: domain)
                let text = try #require(try setup.onlyMessage(in: maildir), "\(user): \(setup.logs)")
                // Several recipients in the transaction: no Delivered-To, as Dovecot does.
                #expect(text.hasPrefix("Return-Path: <sender@example.org>\nReceived: from mx.example.com\n"), "\(text)")
                #expect(!text.contains("Delivered-To:"))
                #expect(text.contains("\nSubject: to three\n"))
                #expect(text.hasSuffix("\n\nHi all\n"))
            }
        }
    }

    @Test("a detail address alice+tag@ is delivered to alice's INBOX with Delivered-To as sent")
    func detailAddress() async throws {
        let setup = try await PostfixFixture.start()
        try await setup.run {
            let sent = try await setup.postfix.send(
                from: "sender@example.org", to: ["alice+tag@example.com"], message: "Subject: tagged\r\n\r\nx\r\n")
            let queueID = try #require(sent.queueID, "\(sent)")
            let lines = try await setup.postfix.waitForLog("\(queueID): to=<alice+tag@example.com>", "status=sent")
            let reply = try #require(lmtpReplyInLogLine(lines[0]))
            #expect(reply.hasPrefix("250 2.0.0 <alice+tag@example.com> ") && reply.hasSuffix(" Saved"), "\(reply)")
            try await setup.postfix.waitForQueueEmpty()
            let text = try #require(try setup.onlyMessage(in: setup.homing.maildir("alice")), "\(setup.logs)")
            #expect(text.hasPrefix("Return-Path: <sender@example.org>\nDelivered-To: alice+tag@example.com\n"), "\(text)")
        }
    }

    @Test("an unknown recipient accepted by smtpd (no verification) is bounced with Homing's 550 text; the bounce reaches the sender")
    func unknownRecipientBounces() async throws {
        let setup = try await PostfixFixture.start()
        try await setup.run {
            let sent = try await setup.postfix.send(
                from: "alice@example.com", to: ["nosuch@example.com"], message: "Subject: lost\r\n\r\nx\r\n")
            let queueID = try #require(sent.queueID, "\(sent)")
            let lines = try await setup.postfix.waitForLog("\(queueID): to=<nosuch@example.com>", "status=bounced")
            #expect(
                lines[0].contains(
                    "status=bounced (host mx.example.com[private/dovecot-lmtp] said: 550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com (in reply to RCPT TO command))"
                ), "\(lines)")
            try await setup.postfix.waitForQueueEmpty()
            // The non-delivery report went to the sender, alice, through Homing too.
            let text = try #require(try setup.onlyMessage(in: setup.homing.maildir("alice")), "\(setup.logs)")
            #expect(text.hasPrefix("Return-Path: <>\nDelivered-To: alice@example.com\n"), "\(text)")
            #expect(text.contains("<nosuch@example.com>: host mx.example.com[private/dovecot-lmtp] said: 550"))
        }
    }

    @Test("the PostgreSQL userdb: a message to an SQL user lands in the maildir from the users table")
    func sqlUserdb() async throws {
        let database = try await TestPostgresSampleDatabase.create()
        let setup = try await PostfixFixture.start(userdb: "userdb {\n  driver = sql\n  args = SQLCONF\n}") { fixture in
            try await database.relocateHomes(to: fixture.mailRoot, uid: Int(fixture.uid), gid: Int(fixture.gid))
            let conf = try database.writeDovecotSQLConf(to: fixture.dir.file("dovecot-sql.conf.ext"))
            let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
                .replacingOccurrences(of: "SQLCONF", with: conf)
            try text.write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        }
        try await setup.run {
            let sent = try await setup.postfix.send(
                from: "sender@example.org", to: ["carol@example.org", "nosuch@example.org"],
                message: "Subject: sql\r\n\r\nhi\r\n")
            let queueID = try #require(sent.queueID, "\(sent)")
            let lines = try await setup.postfix.waitForLog("\(queueID): to=<carol@example.org>", "status=sent")
            let reply = try #require(lmtpReplyInLogLine(lines[0]))
            let sid = try #require(replyID(reply))
            #expect(reply == "250 2.0.0 <carol@example.org> \(sid) Saved")
            let bounced = try await setup.postfix.waitForLog("\(queueID): to=<nosuch@example.org>", "status=bounced")
            #expect(bounced[0].contains("said: 550 5.1.1 <nosuch@example.org> User doesn't exist: nosuch@example.org"))
            let text = try #require(
                try setup.onlyMessage(in: setup.homing.maildir("carol", domain: "example.org")), "\(setup.logs)")
            // Two RCPTs, one accepted: Homing's transaction has one recipient, so Delivered-To is there.
            #expect(text.hasPrefix("Return-Path: <sender@example.org>\nDelivered-To: carol@example.org\n"), "\(text)")
        }
    }

    @Test("the LDAP userdb: a message to an LDAP user lands in the maildir the directory names; an unknown one bounces")
    func ldapUserdb() async throws {
        let holder = SlapdHolder()
        let setup = try await PostfixFixture.start(userdb: "userdb {\n  driver = ldap\n  args = LDAPCONF\n}") { fixture in
            let root = fixture.mailRoot
            let uid = Int(fixture.uid)
            let gid = Int(fixture.gid)
            let slapd = try await runOnThread { try TestSlapd.start(vmailRoot: root, mailUID: uid, mailGID: gid) }
            holder.slapd = slapd
            let conf = try slapd.writeDovecotLDAPConf(to: fixture.dir.file("dovecot-ldap.conf.ext"))
            let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
                .replacingOccurrences(of: "LDAPCONF", with: conf)
            try text.write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        }
        defer { holder.slapd?.remove() }
        try await setup.run {
            let sent = try await setup.postfix.send(
                from: "sender@example.org", to: ["bob@example.com", "nosuch@example.com"],
                message: "Subject: ldap\r\n\r\nhi\r\n")
            let queueID = try #require(sent.queueID, "\(sent)")
            let lines = try await setup.postfix.waitForLog("\(queueID): to=<bob@example.com>", "status=sent")
            let reply = try #require(lmtpReplyInLogLine(lines[0]))
            let sid = try #require(replyID(reply))
            #expect(reply == "250 2.0.0 <bob@example.com> \(sid) Saved")
            let bounced = try await setup.postfix.waitForLog("\(queueID): to=<nosuch@example.com>", "status=bounced")
            #expect(bounced[0].contains("said: 550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com"))
            let text = try #require(try setup.onlyMessage(in: setup.homing.maildir("bob")), "\(setup.logs)")
            #expect(text.hasPrefix("Return-Path: <sender@example.org>\nDelivered-To: bob@example.com\n"), "\(text)")
        }
    }

    @Test("virtual_transport = lmtp:inet:127.0.0.1:PORT delivers as well as the unix socket")
    func inetTransport() async throws {
        let setup = try await PostfixFixture.start()
        try await setup.run {
            try await setup.postfix.reconfigure([("virtual_transport", "lmtp:inet:127.0.0.1:\(setup.homing.port)")])
            let sent = try await setup.postfix.send(
                from: "sender@example.org", to: ["bob@example.com", "alice@example.com"], message: "Subject: tcp\r\n\r\nx\r\n")
            let queueID = try #require(sent.queueID, "\(sent)")
            let lines = try await setup.postfix.waitForLog("\(queueID): to=<", "status=sent", count: 2)
            for line in lines {
                #expect(line.contains("relay=127.0.0.1[127.0.0.1]:\(setup.homing.port)"), "\(line)")
            }
            let bob = try #require(lines.first { $0.contains("to=<bob@example.com>") }.flatMap(lmtpReplyInLogLine))
            let alice = try #require(lines.first { $0.contains("to=<alice@example.com>") }.flatMap(lmtpReplyInLogLine))
            // One LMTP transaction; Postfix's queue manager sorts the recipients, so alice comes first.
            let base = try #require(sessionBase(alice))
            #expect(alice == "250 2.0.0 <alice@example.com> \(base) Saved")
            #expect(bob == "250 2.0.0 <bob@example.com> \(base):R2 Saved")
            try await setup.postfix.waitForQueueEmpty()
            for user in ["alice", "bob"] {
                let text = try #require(try setup.onlyMessage(in: setup.homing.maildir(user)), "\(setup.logs)")
                // Over TCP, Homing records the peer's address in its Received: header.
                #expect(text.hasPrefix("Return-Path: <sender@example.org>\nReceived: from mx.example.com ([127.0.0.1])\n"), "\(text)")
            }
        }
    }
}

/// Keeps the slapd a fixture's `prepare` step started, so the test can remove it afterwards.
private final class SlapdHolder: @unchecked Sendable {
    // @unchecked: set once inside `prepare`, read after `start` returns, never concurrently.
    var slapd: TestSlapd?
}
