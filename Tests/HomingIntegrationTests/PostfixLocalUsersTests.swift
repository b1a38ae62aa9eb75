import Foundation
import Glibc
import HomingTestSupport
import Testing

/// Postfix's local delivery (`mydestination`, `mailbox_transport = lmtp:unix:private/dovecot-lmtp`)
/// into Homing with the `passwd` userdb and `mail_location = maildir:~/.maildir`: system accounts
/// created for the test, Homing running as root.
@Suite("Postfix in front: non-virtual local users", .serialized, .enabled(if: geteuid() == 0), .timeLimit(.minutes(3)))
struct PostfixLocalUsersTests {
    /// System accounts with homes under a temporary directory, removed by `remove()`.
    struct SystemAccounts {
        let homes: ScratchDirectory
        let names: [String]

        init(count: Int) throws {
            homes = try ScratchDirectory("homing-pf-homes")
            let tag = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
            var created: [String] = []
            do {
                for index in 1...count {
                    let name = "hmt\(tag)u\(index)"
                    // Suites run in parallel and several create accounts: useradd refuses while
                    // another holds /etc/passwd's lock ("cannot lock /etc/passwd"), so retry.
                    var attempt = 1
                    while true {
                        do {
                            try TestProcess.runChecked(
                                "/usr/sbin/useradd", ["-m", "-d", homes.file(name), "-s", "/usr/sbin/nologin", name])
                            break
                        } catch let error as TestProcessError where error.message.contains("lock") && attempt < 10 {
                            attempt += 1
                            usleep(300_000)
                        }
                    }
                    created.append(name)
                }
            } catch {
                for name in created { _ = try? TestProcess.run("/usr/sbin/userdel", [name]) }
                homes.remove()
                throw error
            }
            names = created
        }

        func remove() {
            for name in names { _ = try? TestProcess.run("/usr/sbin/userdel", [name]) }
            homes.remove()
        }
    }

    static func start() async throws -> PostfixFixture {
        try await PostfixFixture.start(
            postfixSettings: [
                ("mydestination", "mx.example.com"),
                ("local_recipient_maps", ""),
                ("mailbox_transport", "lmtp:unix:private/dovecot-lmtp"),
            ],
            homingSettings: "auth_username_format = %Ln",
            userdb: "userdb {\n  driver = passwd\n}",
            rewrite: [
                ("mail_location = maildir:~/Maildir", "mail_location = maildir:~/.maildir"),
                ("first_valid_uid = 100", "first_valid_uid = 1000"),
            ])
    }

    @Test("mail to two local accounts lands in each ~/.maildir/new, every file and folder owned by that user")
    func deliveredAsEachUser() async throws {
        let accounts = try SystemAccounts(count: 2)
        defer { accounts.remove() }
        let setup = try await Self.start()
        try await setup.run {
            let recipients = accounts.names.map { "\($0)@mx.example.com" }
            let sent = try await setup.postfix.send(
                from: "sender@example.org", to: recipients, message: "Subject: local\r\n\r\nhello\r\n")
            #expect(sent.recipientReplies == ["250 2.1.5 Ok", "250 2.1.5 Ok"])
            let queueID = try #require(sent.queueID, "\(sent)")
            let lines = try await setup.postfix.waitForLog("\(queueID): to=<", "status=sent", count: 2)
            for recipient in recipients {
                let line = try #require(lines.first { $0.contains("to=<\(recipient)>") }, "\(lines)")
                #expect(line.contains("relay=mx.example.com[private/dovecot-lmtp]"), "\(line)")
                let reply = try #require(lmtpReplyInLogLine(line))
                #expect(reply.hasPrefix("250 2.0.0 <\(recipient)> ") && reply.hasSuffix(" Saved"), "\(reply)")
            }
            try await setup.postfix.waitForQueueEmpty()
            for name in accounts.names {
                let account = try #require(TestProcess.systemUser(name))
                #expect(account.uid >= 1000)
                let maildir = accounts.homes.file(name) + "/.maildir"
                let files = setup.homing.files(maildir)
                try #require(files.count == 1, "\(name): \(files)\n\(setup.logs)")
                let path = maildir + "/new/" + files[0]
                let text = try String(contentsOfFile: path, encoding: .utf8)
                #expect(text.hasPrefix("Return-Path: <sender@example.org>\nDelivered-To: \(name)@mx.example.com\n"), "\(text)")
                #expect(text.hasSuffix("\n\nhello\n"))
                let owner = try #require(ownership(path))
                #expect(owner.uid == account.uid && owner.gid == account.gid && owner.mode == 0o600)
                for sub in ["", "/new", "/cur", "/tmp"] {
                    let dir = try #require(ownership(maildir + sub), "\(maildir + sub)")
                    #expect(dir.uid == account.uid && dir.gid == account.gid && dir.mode == 0o700, "\(maildir + sub)")
                }
                // Nothing else appeared in the home, and nothing in ~/Maildir.
                #expect(!FileManager.default.fileExists(atPath: accounts.homes.file(name) + "/Maildir"))
            }
        }
    }

    @Test("root and an account below first_valid_uid (daemon) are refused with 451 4.3.0: Postfix defers, nothing is written")
    func rootAndSystemAccountsRefused() async throws {
        let setup = try await Self.start()
        try await setup.run {
            let sent = try await setup.postfix.send(
                from: "sender@example.org", to: ["root@mx.example.com", "daemon@mx.example.com"],
                message: "Subject: privileged\r\n\r\nno\r\n")
            let queueID = try #require(sent.queueID, "\(sent)")
            for name in ["root", "daemon"] {
                let lines = try await setup.postfix.waitForLog("\(queueID): to=<\(name)@mx.example.com>", "status=deferred")
                #expect(
                    lines[0].contains(
                        "status=deferred (host mx.example.com[private/dovecot-lmtp] said: 451 4.3.0 <\(name)@mx.example.com> Temporary internal error"),
                    "\(lines)")
                #expect(setup.postfix.logLines(containing: "to=<\(name)@mx.example.com>").allSatisfy {
                    !$0.contains("status=sent") && !$0.contains("status=bounced")
                })
            }
            #expect(setup.server.log.contains("mail delivery as root (uid 0) is not permitted"), "\(setup.server.log)")
            #expect(setup.server.log.contains("uid 1 is not permitted"), "\(setup.server.log)")
            // Still in Postfix's queue, to be retried.
            #expect(try await setup.postfix.queueListing().contains("\"queue_id\": \"\(queueID)\""))
            #expect(!FileManager.default.fileExists(atPath: "/usr/sbin/.maildir"))
        }
    }
}
