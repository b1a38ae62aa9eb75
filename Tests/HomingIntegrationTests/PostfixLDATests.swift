import Foundation
import Glibc
import HomingTestSupport
import Testing

/// `homing deliver` behind a real Postfix, as dovecot-lda is used: a `pipe(8)` transport run as a
/// virtual mail owner (a system account created for the test: pipe refuses root), and local(8)'s
/// `mailbox_command` run as each local account. No `homing serve` runs: every delivery is one
/// `homing deliver` process started by Postfix.
@Suite("Postfix in front: homing deliver through pipe(8) and mailbox_command", .serialized, .enabled(if: geteuid() == 0),
       .timeLimit(.minutes(3)))
struct PostfixLDATests {
    /// The configuration `homing deliver` reads, the users file and the mail root, all owned by
    /// or readable for the mail owner `owner`.
    struct LDASetup {
        let dir: ScratchDirectory
        let owner: (name: String, uid: uid_t, gid: gid_t)

        var configPath: String { dir.file("homing.conf") }
        /// The `homing` binary as the mail owner and the local accounts can run it: the build's,
        /// or a copy in the scratch directory when a directory above the build (a checkout under
        /// /root, say) is closed to other users.
        let binary: String
        var usersPath: String { dir.file("users") }
        var mailRoot: String { dir.file("mail") }
        func maildir(_ user: String) -> String { mailRoot + "/" + user + "/Maildir" }

        init(owner name: String) throws {
            let account = try #require(TestProcess.systemUser(name))
            owner = (name, account.uid, account.gid)
            dir = try ScratchDirectory("homing-lda")
            binary = try Self.binaryRunnableByOthers(copyInto: dir)
            _ = try dir.makeDirectory("tmp", mode: 0o1777)
            chmod(dir.file("tmp"), 0o1777)
            _ = try dir.makeDirectory("mail", mode: 0o750)
            chown(mailRoot, account.uid, account.gid)
            try dir.write(
                "users",
                """
                alice@example.com::\(account.uid):\(account.gid)::\(mailRoot)/alice::
                bob@example.org::\(account.uid):\(account.gid)::\(mailRoot)/bob::userdb_quota_rule=*:storage=1k
                dora@example.com::\(account.uid):\(account.gid)::\(mailRoot)/dora::userdb_quota_rule=*:storage=1k

                """)
            try dir.write(
                "homing.conf",
                """
                protocols = lmtp
                postmaster_address = postmaster@example.com
                hostname = mx.example.com
                mail_location = maildir:~/Maildir
                mail_temp_dir = \(dir.file("tmp"))
                first_valid_uid = 1000
                mail_plugins = quota
                plugin {
                  quota = maildir:User quota
                }
                userdb {
                  driver = passwd-file
                  args = \(usersPath)
                }
                log_path = /dev/stderr

                """)
        }

        static func binaryRunnableByOthers(copyInto dir: ScratchDirectory) throws -> String {
            let path = URL(fileURLWithPath: HomingBinary.path).standardizedFileURL.path
            var open = true
            var current = path
            while true {
                // Search permission on each directory, execute permission on the file: for others.
                var info = stat()
                if stat(current, &info) != 0 || info.st_mode & 0o001 == 0 { open = false }
                if current == "/" { break }
                current = (current as NSString).deletingLastPathComponent
            }
            if open { return path }
            let copy = dir.file("homing")
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            chmod(copy, 0o755)
            return copy
        }

        /// master.cf's two pipe transports: Dovecot's recipe (with `-m ${extension}`), and the
        /// same with `-e` for example.org.
        var services: String {
            let command = "\(binary) deliver -c \(configPath)"
            return """
                homing    unix  -       n       n       -       -       pipe
                  flags=DRhu user=\(owner.name) argv=\(command) -f ${sender} -d ${user}@${nexthop} -a ${original_recipient} -m ${extension}
                homing-e  unix  -       n       n       -       -       pipe
                  flags=DRhu user=\(owner.name) argv=\(command) -e -f ${sender} -d ${user}@${nexthop} -a ${original_recipient}
                """
        }

        /// The texts of the files in `maildir`/new.
        func messages(in maildir: String) -> [String] {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: maildir + "/new")) ?? []).sorted()
            return names.compactMap { try? String(contentsOfFile: maildir + "/new/" + $0, encoding: .utf8) }
        }
    }

    static func startPipe(_ setup: LDASetup) async throws -> TestPostfix {
        try await TestPostfix.start(
            settings: [
                ("virtual_transport", "homing"),
                ("homing_destination_recipient_limit", "1"),
                ("homing-e_destination_recipient_limit", "1"),
                ("transport_maps", "inline:{ example.org=homing-e: }"),
                ("recipient_delimiter", "+"),
            ],
            services: setup.services)
    }

    @Test("pipe(8) with flags=DRhu: stored in the user's maildir as the mail owner; -m ${extension} picks an existing folder, INBOX otherwise")
    func pipeDelivers() async throws {
        let account = try PostfixLocalUsersTests.SystemAccounts(count: 1)
        defer { account.remove() }
        let setup = try LDASetup(owner: account.names[0])
        defer { setup.dir.remove() }
        // alice has a lists folder; there is no Missing folder. (pipe's u flag folds ${extension} to lower case.)
        for sub in ["", "/cur", "/new", "/tmp", "/.lists", "/.lists/cur", "/.lists/new", "/.lists/tmp"] {
            let path = setup.maildir("alice") + sub
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        try TestProcess.chownRecursively(setup.mailRoot, uid: setup.owner.uid, gid: setup.owner.gid)
        let postfix = try await Self.startPipe(setup)
        do {
        for (recipient, subject) in [("alice@example.com", "plain"), ("alice+lists@example.com", "lists"), ("alice+Missing@example.com", "missing")] {
            let sent = try await postfix.send(
                from: "sender@example.org", to: [recipient], message: "Subject: \(subject)\r\n\r\nhello \(subject)\r\n")
            let queueID = try #require(sent.queueID, "\(sent)")
            let line = try await postfix.waitForLog("\(queueID): to=<", "status=sent")
            #expect(line[0].contains("relay=homing"), "\(line)")
            #expect(line[0].contains("delivered via homing service"), "\(line)")
        }
        try await postfix.waitForQueueEmpty()
        let inbox = setup.messages(in: setup.maildir("alice"))
        #expect(inbox.count == 2, "\(postfix.maillog)")
        let plain = try #require(inbox.first { $0.contains("Subject: plain") })
        // pipe's D and R flags add the trace headers; homing deliver adds none of its own.
        #expect(plain.hasPrefix("Return-Path: <sender@example.org>\nDelivered-To: alice@example.com\n"), "\(plain)")
        #expect(!plain.contains("with LMTP"))
        #expect(plain.hasSuffix("\n\nhello plain\n"))
        #expect(inbox.contains { $0.contains("Subject: missing") && $0.contains("Delivered-To: alice+Missing@example.com") })
        let work = setup.messages(in: setup.maildir("alice") + "/.lists")
        #expect(work.count == 1 && work[0].contains("Subject: lists"), "\(work)")
        // Written as the mail owner pipe ran us as.
        let names = try FileManager.default.contentsOfDirectory(atPath: setup.maildir("alice") + "/new")
        for name in names {
            let owner = try #require(ownership(setup.maildir("alice") + "/new/" + name))
            #expect(owner.uid == setup.owner.uid && owner.gid == setup.owner.gid && owner.mode == 0o600)
        }
        } catch {
            await postfix.stop()
            throw error
        }
        await postfix.stop()
    }

    @Test("exit statuses through pipe(8): 67 for an unknown user bounces, 75 during a userdb outage defers, 77 over quota with -e bounces with the reason, 0 and a rejection to the sender without -e")
    func pipeExitStatuses() async throws {
        let account = try PostfixLocalUsersTests.SystemAccounts(count: 1)
        defer { account.remove() }
        let setup = try LDASetup(owner: account.names[0])
        defer { setup.dir.remove() }
        let postfix = try await Self.startPipe(setup)
        do {

        let unknown = try await postfix.send(from: "sender@example.org", to: ["nosuch@example.com"], message: "Subject: u\r\n\r\nx\r\n")
        let unknownID = try #require(unknown.queueID)
        let bounced = try await postfix.waitForLog("\(unknownID): to=<nosuch@example.com>", "status=bounced")
        #expect(bounced[0].contains("dsn=5.1.1"), "\(bounced)")
        #expect(bounced[0].contains("user unknown"), "\(bounced)")

        // bob's quota is 1 KiB: a 2 KiB message is refused for good; -e sends the reason back to
        // pipe, which bounces with it (EX_NOPERM, 77).
        let big = "Subject: big\r\n\r\n" + String(repeating: "x", count: 2048) + "\r\n"
        let full = try await postfix.send(from: "sender@example.org", to: ["bob@example.org"], message: big)
        let fullID = try #require(full.queueID)
        let refused = try await postfix.waitForLog("\(fullID): to=<bob@example.org>", "status=bounced")
        #expect(refused[0].contains("relay=homing-e"), "\(refused)")
        #expect(refused[0].contains("Quota exceeded (mailbox for user is full)"), "\(refused)")
        #expect(setup.messages(in: setup.maildir("bob")).isEmpty)

        // Without -e (Dovecot's recipe): homing deliver sends the rejection to the sender itself
        // (here through Postfix's smtpd, submission_host) and exits 0; Postfix logs it as sent.
        let withSubmission = try String(contentsOfFile: setup.configPath, encoding: .utf8)
            + "submission_host = 127.0.0.1:\(postfix.smtpPort)\n"
        try withSubmission.write(toFile: setup.configPath, atomically: true, encoding: .utf8)
        chmod(setup.configPath, 0o644)
        let rejected = try await postfix.send(
            from: "alice@example.com", to: ["dora@example.com"],
            message: "Subject: too big for dora\r\nMessage-ID: <big1@example.com>\r\n\r\n" + String(repeating: "x", count: 2048) + "\r\n")
        try await postfix.waitForLog("\(try #require(rejected.queueID)): to=<dora@example.com>", "status=sent")
        #expect(setup.messages(in: setup.maildir("dora")).isEmpty)
        let deadline = Date().addingTimeInterval(60)
        while setup.messages(in: setup.maildir("alice")).isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        let reports = setup.messages(in: setup.maildir("alice"))
        try #require(reports.count == 1, "\(postfix.maillog)")
        // Sent with the null sender; pipe(8) writes that as MAILER-DAEMON in Return-Path (and in ${sender}).
        #expect(reports[0].hasPrefix("Return-Path: <MAILER-DAEMON>\n"), "\(reports[0])")
        #expect(reports[0].contains("Subject: Rejected: too big for dora\n"), "\(reports[0])")
        #expect(reports[0].contains("Your message to <dora@example.com> was automatically rejected:\nQuota exceeded (mailbox for user is full)\n"), "\(reports[0])")
        #expect(reports[0].contains("Action: failed\n"))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: setup.maildir("alice") + "/new")) ?? [] {
            unlink(setup.maildir("alice") + "/new/" + name)
        }

        // PostgreSQL down: the userdb cannot answer, EX_TEMPFAIL, Postfix keeps the message.
        // (Each homing deliver reads the configuration anew: swapping the file is enough.)
        let normal = try String(contentsOfFile: setup.configPath, encoding: .utf8)
        let sql = try setup.dir.write(
            "dovecot-sql.conf.ext",
            "driver = pgsql\nconnect = host=127.0.0.1 port=\(freeLoopbackPort()) dbname=mail user=mail\nuser_query = SELECT home, uid, gid FROM users WHERE userid = '%u'\n")
        try normal.replacingOccurrences(of: "driver = passwd-file\n  args = \(setup.usersPath)", with: "driver = sql\n  args = \(sql)")
            .write(toFile: setup.configPath, atomically: true, encoding: .utf8)
        chmod(setup.configPath, 0o644)
        let outage = try await postfix.send(from: "sender@example.org", to: ["alice@example.com"], message: "Subject: later\r\n\r\nx\r\n")
        let outageID = try #require(outage.queueID)
        let deferred = try await postfix.waitForLog("\(outageID): to=<alice@example.com>", "status=deferred")
        #expect(deferred[0].contains("dsn=4."), "\(deferred)")
        #expect(try await postfix.queueListing().contains("\"queue_id\": \"\(outageID)\""))
        // Back: the next retry delivers it (flushed, so the test does not depend on qmgr's
        // schedule; see TestPostfix.flushQueue).
        try normal.write(toFile: setup.configPath, atomically: true, encoding: .utf8)
        chmod(setup.configPath, 0o644)
        try await postfix.flushQueue()
        try await postfix.waitForLog("\(outageID): to=<alice@example.com>", "status=sent", timeout: 60)
        #expect(setup.messages(in: setup.maildir("alice")).count == 1)
        } catch {
            await postfix.stop()
            throw error
        }
        await postfix.stop()
    }

    @Test("mailbox_command without -d: local(8) runs homing deliver as each local account, who delivers to ~/Maildir as itself")
    func mailboxCommand() async throws {
        let accounts = try PostfixLocalUsersTests.SystemAccounts(count: 2)
        defer { accounts.remove() }
        let setup = try LDASetup(owner: accounts.names[0])
        defer { setup.dir.remove() }
        let postfix = try await TestPostfix.start(settings: [
            ("mydestination", "mx.example.com"),
            ("mailbox_command", "\(setup.binary) deliver -c \(setup.configPath)"),
        ])
        do {
        let recipients = accounts.names.map { "\($0)@mx.example.com" }
        let sent = try await postfix.send(from: "sender@example.org", to: recipients, message: "Subject: local\r\n\r\nhi\r\n")
        let queueID = try #require(sent.queueID, "\(sent)")
        let lines = try await postfix.waitForLog("\(queueID): to=<", "status=sent", count: 2)
        #expect(lines.allSatisfy { $0.contains("relay=local") && $0.contains("delivered to command") }, "\(lines)")
        for name in accounts.names {
            let account = try #require(TestProcess.systemUser(name))
            let maildir = accounts.homes.file(name) + "/Maildir"
            let texts = setup.messages(in: maildir)
            try #require(texts.count == 1, "\(name): \(postfix.maillog)")
            #expect(texts[0].contains("Delivered-To: \(name)@mx.example.com\n"), "\(texts[0])")
            #expect(texts[0].hasSuffix("\n\nhi\n"), "\(texts[0])")
            let names = try FileManager.default.contentsOfDirectory(atPath: maildir + "/new")
            let owner = try #require(ownership(maildir + "/new/" + names[0]))
            #expect(owner.uid == account.uid && owner.gid == account.gid && owner.mode == 0o600)
        }
        } catch {
            await postfix.stop()
            throw error
        }
        await postfix.stop()
    }
}
