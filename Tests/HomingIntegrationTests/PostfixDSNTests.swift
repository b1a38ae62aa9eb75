import Foundation
import Glibc
import HomingTestSupport
import Testing

/// DSN (RFC 3461) between a real Postfix and Homing: Homing advertises `DSN`, so Postfix passes
/// the original recipient (`ORCPT`, the address before `virtual_alias_maps`) and `NOTIFY`; the
/// original address reaches `Delivered-To`, Sieve and the delivery log, and a `NOTIFY=SUCCESS`
/// recipient's "delivered" report goes back through Postfix (`submission_host`) to the sender,
/// here a Homing user too.
@Suite("Postfix in front: DSN and the original recipient", .serialized, .enabled(if: geteuid() == 0), .timeLimit(.minutes(3)))
struct PostfixDSNTests {
    static func start() async throws -> PostfixFixture {
        try await PostfixFixture.start(
            postfixSettings: [("virtual_alias_maps", "inline:{ info@example.com=alice@example.com }")],
            homingSettings: """
                submission_host = 127.0.0.1:@POSTFIX_SMTP_PORT@
                lmtp_hdr_delivery_address = original
                deliver_log_format = msgid=%m orig=<%{to_envelope}>: %$
                protocol lmtp {
                  mail_plugins = sieve
                }
                plugin {
                  sieve = file:~/sieve;active=~/.dovecot.sieve
                }
                """
        ) { fixture in
            let home = fixture.mailRoot + "/example.com/alice"
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            try """
                require ["envelope", "fileinto", "mailbox"];
                if envelope :is "orig_to" "info@example.com" { fileinto :create "Info"; }
                """.write(toFile: home + "/.dovecot.sieve", atomically: false, encoding: .utf8)
            try TestProcess.chownRecursively(fixture.mailRoot, uid: fixture.uid, gid: fixture.gid)
        }
    }

    /// Waits until `maildir`/new holds `count` files; returns their texts.
    static func waitForMessages(_ setup: PostfixFixture, in maildir: String, count: Int) async throws -> [String] {
        let deadline = Date().addingTimeInterval(60)
        while setup.homing.files(maildir).count < count && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        return try setup.homing.files(maildir).map { try String(contentsOfFile: maildir + "/new/" + $0, encoding: .utf8) }
    }

    @Test("mail to an alias arrives with the original address: Delivered-To, Sieve's envelope orig_to and the delivery log")
    func originalRecipientArrives() async throws {
        let setup = try await Self.start()
        try await setup.run {
            let sent = try await setup.postfix.send(
                from: "carol@example.org", to: ["info@example.com"], message: "Subject: via alias\r\n\r\nhello\r\n")
            let queueID = try #require(sent.queueID, "\(sent)")
            let line = try await setup.postfix.waitForLog("\(queueID): to=<alice@example.com>", "orig_to=<info@example.com>", "status=sent")
            #expect(line[0].contains("Saved"), "\(line)")
            let info = try await Self.waitForMessages(setup, in: setup.homing.maildir("alice") + "/.Info", count: 1)
            try #require(info.count == 1, "\(setup.logs)")
            #expect(info[0].contains("\nDelivered-To: info@example.com\n"), "\(info[0])")
            #expect(setup.homing.files(setup.homing.maildir("alice")).isEmpty)
            // Mail to alice's own address is not filed.
            let direct = try await setup.postfix.send(from: "carol@example.org", to: ["alice@example.com"], message: "Subject: direct\r\n\r\nhi\r\n")
            try await setup.postfix.waitForLog("\(try #require(direct.queueID)): to=<alice@example.com>", "status=sent")
            let inbox = try await Self.waitForMessages(setup, in: setup.homing.maildir("alice"), count: 1)
            #expect(inbox.count == 1 && inbox[0].contains("\nDelivered-To: alice@example.com\n"), "\(inbox)")
            #expect(setup.server.log.contains("orig=<info@example.com>: saved mail to Info"), "\(setup.server.log)")
            #expect(setup.server.log.contains("orig=<alice@example.com>: saved mail to INBOX"), "\(setup.server.log)")
            // No report was asked for: carol gets nothing.
            #expect(setup.homing.files(setup.homing.maildir("carol", domain: "example.org")).isEmpty)
        }
    }

    /// (To a virtual alias, Postfix itself answers `NOTIFY=SUCCESS` with an "expanded" report and
    /// does not pass the request on, as RFC 3461 section 6.2.7.3 says; so the request goes to
    /// alice's own address here, with an explicit ORCPT as a relaying MTA would send.)
    @Test("NOTIFY=SUCCESS: Homing sends an RFC 3464 delivered report through Postfix to the sender, with the null sender")
    func successNotification() async throws {
        let setup = try await Self.start()
        try await setup.run {
            let sent = try await setup.postfix.send(
                from: "carol@example.org", to: ["alice@example.com"],
                message: "From: carol@example.org\r\nTo: alice@example.com\r\nMessage-ID: <dsn1@example.org>\r\nSubject: tell me\r\n\r\nsecret body\r\n",
                mailParameters: "RET=HDRS ENVID=carol-envid-1", rcptParameters: "NOTIFY=SUCCESS ORCPT=rfc822;Alice.Smith+2Bdsn@example.com")
            let queueID = try #require(sent.queueID, "\(sent)")
            try await setup.postfix.waitForLog("\(queueID): to=<alice@example.com>", "status=sent")
            let reports = try await Self.waitForMessages(setup, in: setup.homing.maildir("carol", domain: "example.org"), count: 1)
            try #require(reports.count == 1, "\(setup.logs)")
            let report = reports[0]
            #expect(report.hasPrefix("Return-Path: <>\n"), "\(report)")
            #expect(report.contains("\nTo: <carol@example.org>\n"), "\(report)")
            #expect(report.contains("\nAuto-Submitted: auto-replied\n"))
            let type = try #require(report.range(of: "Content-Type: multipart/report; report-type=delivery-status;"), "\(report)")
            let boundaryStart = try #require(report.range(of: "boundary=\"", range: type.upperBound..<report.endIndex))
            let boundaryEnd = try #require(report.range(of: "\"", range: boundaryStart.upperBound..<report.endIndex))
            let boundary = String(report[boundaryStart.upperBound..<boundaryEnd.lowerBound])
            let parts = report.components(separatedBy: "\n--\(boundary)")
            // preamble, text, delivery-status, headers, and the closing "--".
            try #require(parts.count == 5, "\(report)")
            #expect(parts[4].hasPrefix("--"))
            #expect(parts[1].contains("Content-Type: text/plain"))
            let status = parts[2]
            #expect(status.contains("Content-Type: message/delivery-status\n\n"), "\(status)")
            #expect(status.contains("Reporting-MTA: dns; mx.example.com\n"))
            #expect(status.contains("Original-Envelope-Id: carol-envid-1\n"), "\(status)")
            #expect(status.contains("\n\nOriginal-Recipient: rfc822; Alice.Smith+dsn@example.com\nFinal-Recipient: rfc822; alice@example.com\nAction: delivered\nStatus: 2.0.0\n"), "\(status)")
            // RET=HDRS: the headers only.
            #expect(parts[3].contains("Content-Type: text/rfc822-headers"), "\(parts[3])")
            #expect(parts[3].contains("Message-ID: <dsn1@example.org>"))
            #expect(!report.contains("secret body"))
            // Exactly one report: Postfix sends none of its own for a recipient the DSN-capable
            // LMTP server took.
            try await Task.sleep(for: .seconds(2))
            #expect(setup.homing.files(setup.homing.maildir("carol", domain: "example.org")).count == 1)
        }
    }
}
