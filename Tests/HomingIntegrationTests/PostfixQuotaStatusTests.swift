import Foundation
import Glibc
import HomingTestSupport
import Testing

/// Homing's quota-status policy service asked by a real Postfix (`check_policy_service`) during
/// the SMTP session, as Dovecot's `quota-status -p postfix` is: over-quota mail is refused before
/// Postfix accepts it, so no bounce is ever sent.
@Suite("Postfix in front: the quota-status policy service", .serialized, .enabled(if: geteuid() == 0), .timeLimit(.minutes(3)))
struct PostfixQuotaStatusTests {
    /// Postfix asking Homing's quota-status listener on 127.0.0.1 at RCPT and at END-OF-DATA;
    /// full@example.com (1 KiB quota, 2000 bytes used) and small@example.com (10 KiB, 5000 used).
    /// With `unixSocket` the listener is `unix_listener QUEUE/private/quota-status` (user and
    /// group postfix, mode 0600) and Postfix asks `unix:private/quota-status`.
    static func start(unixSocket: Bool = false) async throws -> (PostfixFixture, Int) {
        let policyPort = freeLoopbackPort()
        let policy = unixSocket ? "check_policy_service unix:private/quota-status" : "check_policy_service inet:127.0.0.1:\(policyPort)"
        let listener = unixSocket
            ? """
              unix_listener @POSTFIX_CONFIG@/../queue/private/quota-status {
                user = postfix
                group = postfix
                mode = 0600
              }
              """
            : """
              inet_listener {
                address = 127.0.0.1
                port = \(policyPort)
              }
              """
        let setup = try await PostfixFixture.start(
            postfixSettings: [
                ("smtpd_recipient_restrictions", "reject_unauth_destination, \(policy)"),
                ("smtpd_end_of_data_restrictions", policy),
            ],
            homingSettings: """
                mail_plugins = quota
                plugin {
                  quota = maildir:User quota
                  quota_status_success = DUNNO
                  quota_status_nouser = DUNNO
                  quota_status_overquota = "552 5.2.2 Mailbox is full"
                }
                service quota-status {
                  executable = quota-status -p postfix
                \(listener)
                  client_limit = 1
                }
                """
        ) { fixture in
            var users = try String(contentsOfFile: fixture.dir.file("users"), encoding: .utf8)
            for (name, quota, used) in [("full", "1k", 2000), ("small", "10k", 5000)] {
                let home = "\(fixture.mailRoot)/example.com/\(name)"
                users += "\(name)@example.com::\(fixture.uid):\(fixture.gid)::\(home)::userdb_quota_rule=*:storage=\(quota)\n"
                for sub in ["cur", "new", "tmp"] {
                    try FileManager.default.createDirectory(atPath: home + "/Maildir/" + sub, withIntermediateDirectories: true)
                }
                try (String(repeating: "x", count: used - 1) + "\n").write(
                    toFile: home + "/Maildir/cur/1700000000.M1P1.mx,S=\(used):2,S", atomically: false, encoding: .utf8)
                try TestProcess.chownRecursively(fixture.mailRoot, uid: fixture.uid, gid: fixture.gid)
            }
            try users.write(toFile: fixture.dir.file("users"), atomically: false, encoding: .utf8)
        }
        return (setup, policyPort)
    }

    @Test("a full mailbox is refused at RCPT with 552 during the SMTP session; a user under quota is accepted and delivered")
    func fullMailboxAtRcpt() async throws {
        let (setup, _) = try await Self.start()
        try await setup.run {
            let refused = try await setup.postfix.rcptReply(to: "full@example.com")
            #expect(refused == "552 5.2.2 <full@example.com>: Recipient address rejected: Mailbox is full", "\(setup.logs)")
            let sent = try await setup.postfix.send(
                from: "sender@example.org", to: ["full@example.com", "alice@example.com"], message: "Subject: q\r\n\r\nhi\r\n")
            #expect(sent.recipientReplies == ["552 5.2.2 <full@example.com>: Recipient address rejected: Mailbox is full", "250 2.1.5 Ok"])
            let queueID = try #require(sent.queueID)
            try await setup.postfix.waitForLog("\(queueID): to=<alice@example.com>", "status=sent")
            // Refused before the message was accepted: no log line, no bounce for full@.
            #expect(setup.postfix.logLines(containing: "to=<full@example.com>").allSatisfy { !$0.contains("status=") })
            #expect(setup.homing.files(setup.homing.maildir("full")).isEmpty)
        }
    }

    @Test("a message larger than the remaining space passes RCPT (size unknown) and is refused at END-OF-DATA; a declared SIZE is refused at RCPT")
    func tooLargeAtEndOfData() async throws {
        let (setup, _) = try await Self.start()
        try await setup.run {
            let big = "Subject: big\r\n\r\n" + String(repeating: "y", count: 8000) + "\r\n"
            let sent = try await setup.postfix.send(from: "sender@example.org", to: ["small@example.com"], message: big)
            #expect(sent.recipientReplies == ["250 2.1.5 Ok"], "\(setup.logs)")
            let dataReply = try #require(sent.dataReply)
            #expect(dataReply.hasPrefix("552 5.2.2 "), "\(dataReply)")
            #expect(dataReply.hasSuffix("Mailbox is full"), "\(dataReply)")
            #expect(sent.queueID == nil)
            // With SIZE= on MAIL FROM Postfix sends the size at RCPT already.
            let declared = try await setup.postfix.send(
                from: "sender@example.org", to: ["small@example.com"], message: big, mailParameters: "SIZE=8020",
                rcptParameters: "")
            #expect(declared.recipientReplies == ["552 5.2.2 <small@example.com>: Recipient address rejected: Mailbox is full"])
            // A small one still fits.
            let fits = try await setup.postfix.send(from: "sender@example.org", to: ["small@example.com"], message: "Subject: s\r\n\r\nok\r\n")
            let queueID = try #require(fits.queueID, "\(fits)")
            try await setup.postfix.waitForLog("\(queueID): to=<small@example.com>", "status=sent")
            #expect(setup.homing.files(setup.homing.maildir("small")).count == 1)
        }
    }

    @Test("the same through a unix_listener in Postfix's private/ directory: check_policy_service unix:private/quota-status")
    func unixListener() async throws {
        let (setup, _) = try await Self.start(unixSocket: true)
        try await setup.run {
            let socket = setup.postfix.queueDirectory + "/private/quota-status"
            let owner = try #require(ownership(socket), "\(setup.logs)")
            #expect(owner.uid == TestProcess.systemUser("postfix")?.uid && owner.mode == 0o600)
            #expect(try await setup.postfix.rcptReply(to: "full@example.com")
                    == "552 5.2.2 <full@example.com>: Recipient address rejected: Mailbox is full", "\(setup.logs)")
            #expect(try await setup.postfix.rcptReply(to: "alice@example.com") == "250 2.1.5 Ok")
        }
    }

    @Test("during a userdb outage the service answers DEFER_IF_PERMIT: Postfix replies 450 and the sender retries")
    func userdbOutage() async throws {
        let (setup, _) = try await Self.start()
        try await setup.run {
            let users = setup.homing.dir.file("users")
            try #require(rename(users, users + ".away") == 0)
            let reply = try await setup.postfix.rcptReply(to: "alice@example.com")
            #expect(reply == "450 4.7.1 <alice@example.com>: Recipient address rejected: Temporary internal error", "\(setup.logs)")
            try #require(rename(users + ".away", users) == 0)
            #expect(try await setup.postfix.rcptReply(to: "alice@example.com") == "250 2.1.5 Ok")
        }
    }
}
