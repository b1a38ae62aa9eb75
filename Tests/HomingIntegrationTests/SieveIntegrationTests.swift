import Foundation
import Glibc
import HomingTestSupport
import Testing

/// `mail_plugins = sieve` against the real server: what lands in which folder with which flags,
/// what mail is sent (through a stand-in sendmail that records its arguments and input), and
/// that a broken script never loses mail.
@Suite("Sieve plugin end to end", .serialized)
struct SieveIntegrationTests {
    /// A fixture with the sieve plugin on, `sendmail_path` pointing at a recorder, and a
    /// directory of administrator scripts.
    struct SieveFixture {
        let base: IntegrationFixture
        var outbox: String { base.dir.file("outbox") }
        var globalDir: String { base.dir.file("global") }

        init(plugin: String = "", topLevel: String = "", extraUsers: String = "", bobFields: String = "") throws {
            base = try IntegrationFixture(extraSettings: "lda_mailbox_autocreate = yes\n\(topLevel)")
            try FileManager.default.createDirectory(atPath: base.dir.file("outbox"), withIntermediateDirectories: true)
            // sendmail runs as the user (uid 5000 when the tests run as root).
            chmod(base.dir.file("outbox"), 0o1777)
            try FileManager.default.createDirectory(atPath: base.dir.file("global"), withIntermediateDirectories: true)
            try base.dir.write(
                "sendmail.sh",
                """
                name="\(base.dir.file("outbox"))/$(date +%s%N)-$$"
                printf '%s\\n' "$@" > "$name.args"
                cat > "$name.msg"

                """)
            var users = try String(contentsOfFile: base.dir.file("users"), encoding: .utf8)
            if !bobFields.isEmpty {
                users = users.replacingOccurrences(
                    of: "userdb_quota_rule=*:storage=1M", with: "userdb_quota_rule=*:storage=1M \(bobFields)")
            }
            try (users + extraUsers).write(toFile: base.dir.file("users"), atomically: false, encoding: .utf8)
            let text = try String(contentsOfFile: base.configPath, encoding: .utf8)
            try (text + """
                sendmail_path = /bin/sh \(base.dir.file("sendmail.sh"))
                protocol lmtp {
                  mail_plugins = $mail_plugins sieve
                }
                plugin {
                  sieve = file:~/sieve;active=~/.dovecot.sieve
                  sieve_global = \(base.dir.file("global"))
                  \(plugin)
                }

                """).write(toFile: base.configPath, atomically: false, encoding: .utf8)
        }

        func home(_ user: String, domain: String = "example.com") -> String {
            "\(base.mailRoot)/\(domain)/\(user)"
        }

        /// Writes the user's active script (owned by the user, as a user's upload would be).
        func install(_ script: String, for user: String, domain: String = "example.com", name: String = ".dovecot.sieve") throws {
            let home = home(user, domain: domain)
            try FileManager.default.createDirectory(atPath: home + "/sieve", withIntermediateDirectories: true)
            try script.write(toFile: home + "/" + name, atomically: false, encoding: .utf8)
            let domainDir = (home as NSString).deletingLastPathComponent
            for path in [domainDir, home, home + "/sieve", home + "/" + name] where geteuid() == 0 {
                chown(path, base.uid, base.gid)
            }
        }

        /// The messages handed to sendmail, oldest first: arguments and input.
        func sent() -> [(args: [String], message: String)] {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: outbox)) ?? [])
                .filter { $0.hasSuffix(".args") }.sorted()
            return names.map { name in
                let stem = outbox + "/" + name.dropLast(5)
                let args = ((try? String(contentsOfFile: stem + ".args", encoding: .utf8)) ?? "")
                    .split(separator: "\n").map(String.init)
                let message = (try? String(contentsOfFile: stem + ".msg", encoding: .utf8)) ?? ""
                return (args, message)
            }
        }

        /// Files in a folder's new/ and cur/ (INBOX for nil).
        func stored(_ user: String, folder: String? = nil, domain: String = "example.com") -> (new: [String], cur: [String]) {
            var maildir = base.maildir(user, domain: domain)
            if let folder { maildir += "/." + folder }
            return (base.files(maildir, "new"), base.files(maildir, "cur"))
        }
    }

    /// Delivers one message to `recipients`; returns the replies after DATA.
    static func deliver(
        _ fixture: SieveFixture, to recipients: [String], from sender: String = "sender@example.org",
        _ message: String
    ) async throws -> [String] {
        let client = try await LMTPTestClient.session(unixPath: fixture.base.socketPath, lhlo: "client", from: "\(sender)")
        for recipient in recipients {
            #expect(try await client.command("RCPT TO:<\(recipient)>") == ["250 2.1.5 OK"])
        }
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send(message.replacingOccurrences(of: "\n", with: "\r\n") + ".\r\n")
        let replies = try await client.readReplies(recipients.count)
        _ = try await client.command("QUIT")
        return replies
    }

    static func message(_ subject: String, id: String, extra: String = "", body: String = "Hello\n") -> String {
        "From: Sender <sender@example.org>\nTo: alice@example.com\nSubject: \(subject)\nMessage-ID: <\(id)@example.org>\n\(extra)\n\(body)"
    }

    @Test("fileinto with imap4flags: the matching message lands in .Lists/cur with :2,S, the other in INBOX/new")
    func fileintoWithFlags() async throws {
        let fixture = try SieveFixture()
        defer { fixture.base.dir.remove() }
        try fixture.install(
            """
            require ["fileinto", "imap4flags"];
            if header :contains "subject" "[lists]" {
                fileinto :flags "\\\\Seen" "Lists";
            }
            """, for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let first = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("[lists] hello", id: "l1"))
        #expect(first.first?.hasPrefix("250 2.0.0 <alice@example.com>") == true)
        _ = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("personal", id: "p1"))
        let lists = fixture.stored("alice", folder: "Lists")
        #expect(lists.new.isEmpty)
        #expect(lists.cur.count == 1)
        #expect(lists.cur.first?.hasSuffix(":2,S") == true)
        #expect(fixture.stored("alice").new.count == 1)
        #expect(FileManager.default.fileExists(atPath: fixture.base.maildir("alice") + "/.Lists/maildirfolder"))
        #expect(server.log.contains("msgid=<l1@example.org>: saved mail to Lists"), "\(server.log)")
    }

    @Test("discard stores nothing and still answers 250; keep stores into the detail folder of alice+news")
    func discardAndKeep() async throws {
        let fixture = try SieveFixture(topLevel: "lmtp_save_to_detail_mailbox = yes")
        defer { fixture.base.dir.remove() }
        try fixture.install(
            """
            if header :is "subject" "junk" { discard; stop; }
            keep;
            """, for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let junk = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("junk", id: "d1"))
        #expect(junk.first?.hasPrefix("250 2.0.0") == true)
        #expect(fixture.stored("alice").new.isEmpty)
        _ = try await Self.deliver(fixture, to: ["alice+news@example.com"], Self.message("news", id: "d2"))
        #expect(fixture.stored("alice", folder: "news").new.count == 1, "\(server.log)")
        #expect(fixture.stored("alice").new.isEmpty)
    }

    @Test("fileinto \"inbox\" with keep stores one copy, with the flags of both")
    func fileintoInboxAndKeepStoreOnce() async throws {
        let fixture = try SieveFixture()
        defer { fixture.base.dir.remove() }
        try fixture.install(
            #"require ["fileinto", "imap4flags"]; fileinto :flags "\\Flagged" "inbox"; keep :flags "\\Seen";"#, for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        _ = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("once", id: "o1"))
        let inbox = fixture.stored("alice")
        #expect(inbox.new.isEmpty && inbox.cur.count == 1, "\(inbox) \(server.log)")
        #expect(inbox.cur.first?.hasSuffix(":2,FS") == true)
    }

    @Test("a fileinto folder name from the message cannot leave the maildir: .., / and ~ names fall back to INBOX")
    func fileintoCannotEscape() async throws {
        let fixture = try SieveFixture()
        defer { fixture.base.dir.remove() }
        try fixture.install(
            """
            require ["fileinto", "variables"];
            if header :matches "subject" "*" { fileinto :create "${1}"; }
            """, for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let absolute = fixture.base.dir.file("escaped")
        for (index, subject) in ["../../../etc", "a/../../b", "~root", absolute, "a..b"].enumerated() {
            let replies = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message(subject, id: "esc\(index)"))
            #expect(replies.first?.hasPrefix("250 2.0.0") == true)
        }
        #expect(fixture.stored("alice").new.count == 5, "\(server.log)")
        let entries = try FileManager.default.contentsOfDirectory(atPath: fixture.base.maildir("alice"))
        #expect(entries.filter { $0.hasPrefix(".") }.isEmpty, "\(entries)")
        #expect(!FileManager.default.fileExists(atPath: fixture.base.mailRoot + "/example.com/b"))
        #expect(!FileManager.default.fileExists(atPath: absolute))
    }

    @Test("redirect :copy forwards through sendmail_path with the envelope sender kept and X-Sieve-Redirected-From; the copy is kept")
    func redirectCopy() async throws {
        let fixture = try SieveFixture()
        defer { fixture.base.dir.remove() }
        try fixture.install(#"require "copy"; redirect :copy "carol@example.org";"#, for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let replies = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("fwd", id: "r1", body: "forward me\n"))
        #expect(replies.first?.hasPrefix("250 2.0.0") == true)
        let sent = fixture.sent()
        try #require(sent.count == 1, "\(server.log)")
        #expect(sent[0].args == ["-i", "-f", "sender@example.org", "--", "carol@example.org"])
        // sendmail ran as the user, not as root (as Dovecot runs it).
        let recorded = try FileManager.default.contentsOfDirectory(atPath: fixture.outbox).filter { $0.hasSuffix(".args") }
        #expect(recorded.compactMap { ownership(fixture.outbox + "/" + $0)?.uid } == [fixture.base.uid])
        // As Pigeonhole's copy: its two headers, then the message as delivered to alice without
        // Return-Path: Delivered-To and Received (the next hops count them), the original.
        let sid = try #require(replies.first.flatMap(replyID))
        let copy = sent[0].message
        #expect(
            copy.hasPrefix(
                "X-Sieve: Homing Sieve\nX-Sieve-Redirected-From: alice@example.com\nDelivered-To: alice@example.com\n"
                    + "Received: from client\n\tby mx.example.com with LMTP\n\tid \(sid)\n"
                    + "\t(envelope-from <sender@example.org>)\n\tfor <alice@example.com>; "), "\(copy)")
        #expect(copy.contains("\nFrom: Sender <sender@example.org>\nTo: alice@example.com\n"))
        #expect(!copy.contains("Return-Path:"))
        #expect(copy.hasSuffix("\n\nforward me\n"))
        #expect(fixture.stored("alice").new.count == 1)
        #expect(server.log.contains("redirect action: forwarded to <carol@example.org>"))
        // The same message delivered again (a retry) is not forwarded twice.
        _ = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("fwd", id: "r1", body: "forward me\n"))
        #expect(fixture.sent().count == 1)
        #expect(server.log.contains("discarded duplicate forward to <carol@example.org>"))
    }

    @Test("a redirected copy of a message without Message-ID, with a Return-Path of its own, for two recipients: Pigeonhole's layout")
    func redirectHeadersSeveralRecipients() async throws {
        let fixture = try SieveFixture()
        defer { fixture.base.dir.remove() }
        try fixture.install(#"redirect "carol@example.org";"#, for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let replies = try await Self.deliver(
            fixture, to: ["alice@example.com", "bob@example.com"],
            "Return-Path: <bogus@example.net>\nFrom: Sender <sender@example.org>\nSubject: no id\n\nbody\n")
        #expect(replies.allSatisfy { $0.hasPrefix("250 2.0.0") }, "\(replies)")
        let sid = try #require(replies.first.flatMap(replyID))
        let sent = fixture.sent()
        try #require(sent.count == 1, "\(server.log)")
        let lines = sent[0].message.components(separatedBy: "\n")
        // Pigeonhole adds a Message-ID when there is none, right after its own headers; with two
        // recipients there is no Delivered-To and no `for <>` (as in the stored copies); every
        // Return-Path is gone, the message's own too.
        try #require(lines.count == 12, "\(lines)")
        #expect(Array(lines[0...1]) == ["X-Sieve: Homing Sieve", "X-Sieve-Redirected-From: alice@example.com"])
        #expect(lines[2].hasPrefix("Message-ID: <homing-sieve.") && lines[2].hasSuffix("@mx.example.com>"), "\(lines)")
        #expect(Array(lines[3...5]) == ["Received: from client", "\tby mx.example.com with LMTP", "\tid \(sid)"])
        #expect(lines[6].hasPrefix("\t(envelope-from <sender@example.org>); "))
        #expect(Array(lines[7...]) == ["From: Sender <sender@example.org>", "Subject: no id", "", "body", ""])
    }

    @Test("alice+news@, alice+@ and Alice@Example.COM in one transaction are three deliveries: own envelope for Sieve, own detail folder, no Delivered-To; an identical address is answered as the first")
    func severalAddressesOfOneUser() async throws {
        let fixture = try SieveFixture(topLevel: "lmtp_save_to_detail_mailbox = yes")
        defer { fixture.base.dir.remove() }
        try fixture.install(
            """
            require ["envelope", "fileinto", "variables", "mailbox"];
            if envelope :localpart :matches "to" "*" { fileinto :create "env-${1}"; }
            keep;
            """, for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let replies = try await Self.deliver(
            fixture, to: ["alice+news@example.com", "alice+@example.com", "Alice@Example.COM", "alice+news@EXAMPLE.com"],
            Self.message("three", id: "three"))
        let sid = try #require(replies.first.flatMap(replyID))
        // As Dovecot 2.3.19.1 answered the same transaction: the fourth is identical to the
        // first (the domain compares in any case) and gets the first's reply word for word.
        #expect(
            replies == [
                "250 2.0.0 <alice+news@example.com> \(sid) Saved", "250 2.0.0 <alice+@example.com> \(sid):R2 Saved",
                "250 2.0.0 <Alice@Example.COM> \(sid):R3 Saved", "250 2.0.0 <alice+news@example.com> \(sid) Saved",
            ], "\(server.log)")
        // Sieve saw each envelope address: one fileinto copy per address; the keeps went to the
        // detail folder (news) or INBOX (an empty detail, no detail).
        for folder in ["env-alice+news", "env-alice+", "env-Alice", "news"] {
            #expect(fixture.stored("alice", folder: folder).new.count == 1, "\(folder): \(server.log)")
        }
        let inbox = fixture.stored("alice").new
        #expect(inbox.count == 2)
        let maildir = fixture.base.maildir("alice")
        for path in inbox.map({ maildir + "/new/" + $0 }) + [maildir + "/.news/new/" + fixture.stored("alice", folder: "news").new[0]] {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!text.contains("Delivered-To:"))
            #expect(text.contains("\t(envelope-from <sender@example.org>); "))
        }
    }

    @Test("reject: the LMTP reply is still 250, nothing is stored, the sender gets an MDN from the postmaster with the null envelope sender")
    func reject() async throws {
        let fixture = try SieveFixture()
        defer { fixture.base.dir.remove() }
        try fixture.install(#"require "reject"; reject "I do not want this";"#, for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let replies = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("offer", id: "j1"))
        #expect(replies.first?.hasPrefix("250 2.0.0 <alice@example.com>") == true)
        #expect(fixture.stored("alice").new.isEmpty)
        let sent = fixture.sent()
        try #require(sent.count == 1, "\(server.log)")
        #expect(sent[0].args == ["-i", "-f", "<>", "--", "sender@example.org"])
        let mdn = sent[0].message
        #expect(mdn.contains("From: Postmaster <postmaster@example.com>\n"))
        #expect(mdn.contains("Subject: Rejected: offer\n"))
        #expect(mdn.contains("report-type=disposition-notification"))
        #expect(mdn.contains("Disposition: automatic-action/MDN-sent-automatically; deleted"))
        #expect(mdn.contains("I do not want this"))
        #expect(server.log.contains("reject action: rejected message from <sender@example.org> (reject)"))
    }

    @Test("ereject during the LMTP transaction rejects at protocol level for that recipient alone: 550 5.7.1 with the reason, nothing sent")
    func erejectAtProtocolLevel() async throws {
        let fixture = try SieveFixture()
        defer { fixture.base.dir.remove() }
        try fixture.install("require \"ereject\";\nereject text:\nNo offers,\nplease.\n.\n;\n", for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let replies = try await Self.deliver(
            fixture, to: ["alice@example.com", "bob@example.com"], Self.message("offer", id: "e1"))
        #expect(replies.first == "550 5.7.1 <alice@example.com> No offers, please.", "\(replies) \(server.log)")
        #expect(replies.last?.hasPrefix("250 2.0.0 <bob@example.com>") == true)
        #expect(fixture.stored("alice").new.isEmpty)
        #expect(fixture.stored("bob").new.count == 1)
        #expect(fixture.sent().isEmpty)
        #expect(server.log.contains("ereject action: rejected message from <sender@example.org> at protocol level"))
    }

    @Test("vacation: one reply per sender per period, none to mailing lists or auto-submitted mail")
    func vacation() async throws {
        let fixture = try SieveFixture()
        defer { fixture.base.dir.remove() }
        try fixture.install(
            #"require "vacation"; vacation :days 7 :subject "Out of office" "I am away until Monday.";"#, for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        _ = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("hi", id: "v1"))
        _ = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("hi again", id: "v2"))
        _ = try await Self.deliver(
            fixture, to: ["alice@example.com"], from: "list-bounces@example.net",
            Self.message("list", id: "v3", extra: "List-Id: <news.example.net>\n"))
        _ = try await Self.deliver(
            fixture, to: ["alice@example.com"], from: "robot@example.net",
            Self.message("auto", id: "v4", extra: "Auto-Submitted: auto-generated\n"))
        let sent = fixture.sent()
        try #require(sent.count == 1, "\(sent.map(\.args)) \(server.log)")
        #expect(sent[0].args == ["-i", "-f", "<>", "--", "sender@example.org"])
        let reply = sent[0].message
        #expect(reply.contains("Subject: Out of office\n"))
        #expect(reply.contains("Auto-Submitted: auto-replied (vacation)\n"))
        #expect(reply.contains("In-Reply-To: <v1@example.org>\n"))
        // Pigeonhole's header set and order; To: carries the From display name.
        let fieldNames = reply.components(separatedBy: "\n\n")[0].split(separator: "\n")
            .filter { !$0.hasPrefix(" ") }.map { String($0.prefix { $0 != ":" }) }
        #expect(
            fieldNames == [
                "X-Sieve", "Message-ID", "Date", "From", "To", "Subject", "In-Reply-To", "References", "Auto-Submitted",
                "Precedence", "X-Auto-Response-Suppress", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
            ], "\(reply)")
        #expect(reply.contains("\nTo: Sender <sender@example.org>\n"))
        #expect(reply.contains("\nX-Auto-Response-Suppress: All\n"))
        #expect(reply.contains("I am away until Monday."))
        // Every message is still delivered.
        #expect(fixture.stored("alice").new.count == 4)
        #expect(server.log.contains("vacation action: sent vacation response to <sender@example.org>"))
        #expect(server.log.contains("discarded duplicate vacation response to <sender@example.org>"))
        let tracking = try #require(ownership(fixture.home("alice") + "/.homing.sieve-tracking"))
        #expect(tracking.uid == fixture.base.uid)
    }

    @Test("a script that does not compile: the message is kept in INBOX, the error is logged and written to ~/.dovecot.sieve.log")
    func brokenScriptKeepsMail() async throws {
        let fixture = try SieveFixture()
        defer { fixture.base.dir.remove() }
        try fixture.install("require \"fileinto\";\nfileinto \"x\"\nkeep;\n", for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let replies = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("x", id: "b1"))
        #expect(replies.count == 1 && replies.allSatisfy { $0.hasPrefix("250 2.0.0") }, "\(replies)")
        #expect(fixture.stored("alice").new.count == 1)
        #expect(server.log.contains("line 2: error: missing semicolon ';' after fileinto command."), "\(server.log)")
        let userLog = try String(contentsOfFile: fixture.home("alice") + "/.dovecot.sieve.log", encoding: .utf8)
        #expect(userLog.contains("line 2: error: missing semicolon ';' after fileinto command."))
        #expect(ownership(fixture.home("alice") + "/.dovecot.sieve.log")?.uid == fixture.base.uid)
    }

    @Test("a runtime error (more redirects than sieve_max_redirects) keeps the message in INBOX and sends nothing")
    func runtimeErrorKeepsMail() async throws {
        let fixture = try SieveFixture(plugin: "sieve_max_redirects = 1")
        defer { fixture.base.dir.remove() }
        try fixture.install("redirect \"a@example.net\";\nredirect \"b@example.net\";\n", for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let replies = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("x", id: "e1"))
        #expect(replies.first?.hasPrefix("250 2.0.0") == true)
        #expect(fixture.stored("alice").new.count == 1)
        #expect(fixture.sent().isEmpty)
        #expect(server.log.contains("keeping the message in INBOX"), "\(server.log)")
        let userLog = try String(contentsOfFile: fixture.home("alice") + "/.dovecot.sieve.log", encoding: .utf8)
        #expect(userLog.contains("redirect"))
    }

    @Test("sieve_before runs first (its fileinto ends the sequence), sieve_default serves users without a script, a userdb sieve field overrides the location")
    func beforeDefaultAndUserdbOverride() async throws {
        let fixture = try SieveFixture(
            plugin: "sieve_before = GLOBAL/spam.sieve\n  sieve_default = GLOBAL/default.sieve",
            bobFields: "userdb_sieve=BOBSCRIPT")
        defer { fixture.base.dir.remove() }
        let config = try String(contentsOfFile: fixture.base.configPath, encoding: .utf8)
            .replacingOccurrences(of: "GLOBAL", with: fixture.globalDir)
        try config.write(toFile: fixture.base.configPath, atomically: false, encoding: .utf8)
        let users = try String(contentsOfFile: fixture.base.dir.file("users"), encoding: .utf8)
            .replacingOccurrences(of: "BOBSCRIPT", with: fixture.globalDir + "/bob-special.sieve")
        try users.write(toFile: fixture.base.dir.file("users"), atomically: false, encoding: .utf8)
        try #"require "fileinto"; if header :is "X-Spam" "yes" { fileinto "Junk"; }"#
            .write(toFile: fixture.globalDir + "/spam.sieve", atomically: false, encoding: .utf8)
        try #"require "fileinto"; fileinto "Default";"#
            .write(toFile: fixture.globalDir + "/default.sieve", atomically: false, encoding: .utf8)
        try #"require "fileinto"; fileinto "Special";"#
            .write(toFile: fixture.globalDir + "/bob-special.sieve", atomically: false, encoding: .utf8)
        try fixture.install(#"require "fileinto"; fileinto "Mine";"#, for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let all = ["alice@example.com", "bob@example.com", "carol@example.org"]
        let spam = try await Self.deliver(fixture, to: all, Self.message("spam", id: "s1", extra: "X-Spam: yes\n"))
        #expect(spam.allSatisfy { $0.hasPrefix("250 2.0.0") }, "\(spam) \(server.log)")
        let ham = try await Self.deliver(fixture, to: all, Self.message("ham", id: "h1"))
        #expect(ham.allSatisfy { $0.hasPrefix("250 2.0.0") })
        #expect(fixture.stored("alice", folder: "Junk").new.count == 1)
        #expect(fixture.stored("bob", folder: "Junk").new.count == 1)
        #expect(fixture.stored("carol", folder: "Junk", domain: "example.org").new.count == 1)
        #expect(fixture.stored("alice", folder: "Mine").new.count == 1)
        #expect(fixture.stored("bob", folder: "Special").new.count == 1)
        #expect(fixture.stored("carol", folder: "Default", domain: "example.org").new.count == 1)
        #expect(fixture.stored("alice").new.isEmpty && fixture.stored("bob").new.isEmpty)
        // homing user -v says which scripts run, in order.
        let bob = try await HomingBinary.run(["user", "-v", "-c", fixture.base.configPath, "bob@example.com"])
        #expect(bob.standardOutput.contains(
            "sieve_scripts\t\(fixture.globalDir)/spam.sieve, \(fixture.globalDir)/bob-special.sieve\n"), "\(bob.standardOutput)")
        let carol = try await HomingBinary.run(["user", "-v", "-c", fixture.base.configPath, "carol@example.org"])
        #expect(carol.standardOutput.contains(
            "sieve_scripts\t\(fixture.globalDir)/spam.sieve, \(fixture.globalDir)/default.sieve (sieve_default: no \(fixture.home("carol", domain: "example.org"))/.dovecot.sieve)\n"),
            "\(carol.standardOutput)")
    }

    @Test("scripts are read as the user: a userdb path to a root-only file is not read, and nothing of it reaches the log",
          .enabled(if: geteuid() == 0))
    func scriptsReadAsTheUser() async throws {
        let fixture = try SieveFixture(bobFields: "userdb_sieve_before=SECRET userdb_sieve=SECRET")
        defer { fixture.base.dir.remove() }
        let secret = fixture.base.dir.file("secret.sieve")
        try "secret-token-1234;\n".write(toFile: secret, atomically: false, encoding: .utf8)
        chmod(secret, 0o600)
        let users = try String(contentsOfFile: fixture.base.dir.file("users"), encoding: .utf8)
            .replacingOccurrences(of: "SECRET", with: secret)
        try users.write(toFile: fixture.base.dir.file("users"), atomically: false, encoding: .utf8)
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let replies = try await Self.deliver(fixture, to: ["bob@example.com"], Self.message("x", id: "sec1"))
        #expect(replies.first?.hasPrefix("250 2.0.0") == true)
        #expect(fixture.stored("bob").new.count == 1)
        #expect(server.log.contains("Permission denied"), "\(server.log)")
        #expect(!server.log.contains("secret-token"))
    }

    @Test("duplicate: the same Message-ID delivered twice is discarded the second time")
    func duplicateTest() async throws {
        let fixture = try SieveFixture()
        defer { fixture.base.dir.remove() }
        try fixture.install(#"require "duplicate"; if duplicate { discard; }"#, for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        _ = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("one", id: "dup1"))
        _ = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("one again", id: "dup1"))
        _ = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("two", id: "dup2"))
        #expect(fixture.stored("alice").new.count == 2, "\(server.log)")
    }

    @Test("duplicate tracking is recorded only once the copy is stored: a message refused with 452 and retried is not discarded as a duplicate")
    func duplicateNotRecordedForTemporaryFailure() async throws {
        let fixture = try SieveFixture(topLevel: "quota_full_tempfail = yes")
        defer { fixture.base.dir.remove() }
        let text = try String(contentsOfFile: fixture.base.configPath, encoding: .utf8)
        try (text + "protocol lmtp {\n  mail_plugins = $mail_plugins quota\n}\nplugin {\n  quota = maildir:User quota\n}\n")
            .write(toFile: fixture.base.configPath, atomically: false, encoding: .utf8)
        try fixture.install(#"require "duplicate"; if duplicate { discard; }"#, for: "bob")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let body = String(repeating: String(repeating: "z", count: 70) + "\n", count: 17_000)
        let big = Self.message("big", id: "retry1", body: body)
        let first = try await Self.deliver(fixture, to: ["bob@example.com"], big)
        #expect(first == ["452 4.2.2 <bob@example.com> Quota exceeded (mailbox for user is full)"], "\(server.log)")
        // The administrator raises bob's quota; the client retries the same message.
        let users = try String(contentsOfFile: fixture.base.dir.file("users"), encoding: .utf8)
            .replacingOccurrences(of: "userdb_quota_rule=*:storage=1M", with: "userdb_quota_rule=*:storage=10M")
        try users.write(toFile: fixture.base.dir.file("users"), atomically: false, encoding: .utf8)
        let retry = try await Self.deliver(fixture, to: ["bob@example.com"], big)
        #expect(retry.first?.hasPrefix("250 2.0.0") == true, "\(retry) \(server.log)")
        #expect(fixture.stored("bob").new.count == 1)
        // Now it is recorded: a third copy is a duplicate.
        _ = try await Self.deliver(fixture, to: ["bob@example.com"], big)
        #expect(fixture.stored("bob").new.count == 1)
    }

    @Test("with quota: a fileinto copy over quota is refused with 552 5.2.2 like any other copy")
    func fileintoOverQuota() async throws {
        let fixture = try SieveFixture()
        defer { fixture.base.dir.remove() }
        let text = try String(contentsOfFile: fixture.base.configPath, encoding: .utf8)
        try (text + "protocol lmtp {\n  mail_plugins = $mail_plugins quota\n}\nplugin {\n  quota = maildir:User quota\n}\n")
            .write(toFile: fixture.base.configPath, atomically: false, encoding: .utf8)
        try fixture.install(#"require "fileinto"; fileinto "Big";"#, for: "bob")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let body = String(repeating: String(repeating: "y", count: 70) + "\n", count: 17_000)
        let replies = try await Self.deliver(
            fixture, to: ["bob@example.com", "alice@example.com"], Self.message("big", id: "q1", body: body))
        #expect(replies.first == "552 5.2.2 <bob@example.com> Quota exceeded (mailbox for user is full)", "\(server.log)")
        #expect(replies.last?.hasPrefix("250 2.0.0 <alice@example.com>") == true, "\(replies)")
        #expect(fixture.stored("bob", folder: "Big").new.isEmpty)
    }

    /// One script using every extension the issue lists, for delivery and sieve-test alike.
    static let everyExtension = """
        require ["fileinto", "envelope", "encoded-character", "reject", "ereject",
                 "comparator-i;ascii-numeric", "relational", "subaddress", "copy", "variables",
                 "imap4flags", "body", "vacation", "vacation-seconds", "date", "index", "mailbox",
                 "include", "regex", "environment", "duplicate"];
        global "origin";
        set "origin" "${hex:4C 4D 54 50}";
        include :global :optional "helper";
        if envelope :detail "to" "lists" { set "base" "Lists"; } else { set "base" "Other"; }
        if header :regex "subject" "^\\\\[([a-z]+)\\\\]" { set :upperfirst "tag" "${1}"; }
        if header :value "ge" :comparator "i;ascii-numeric" "X-Priority" "3" { addflag "\\\\Flagged"; }
        if body :text :contains "urgent" { addflag "\\\\Seen"; }
        if date :value "ge" "date" "year" "2000" { addflag "\\\\Answered"; }
        if header :index 1 :last :contains "received" "first-hop" { addflag "$Hop"; }
        if environment :is "location" "MDA" { set "where" "mda"; }
        if allof(not mailboxexists "${base}.${tag}", string :is "${where}" "mda") {
            fileinto :create :copy "${base}.${tag}";
        }
        if address :domain :is "from" "example.org" {
            redirect :copy "carol@example.org";
        }
        if not duplicate :seconds 60 {
            vacation :seconds 1 :subject "Away (${origin})" "Back soon.";
        }
        """

    @Test("a script using every extension: delivery over LMTP stores, flags and sends as homing sieve-test says (vacation-seconds enabled with +name)")
    func everyExtensionInDeliveryAndSieveTest() async throws {
        let fixture = try SieveFixture(plugin: "sieve_vacation_min_period = 0\n  sieve_extensions = +vacation-seconds")
        defer { fixture.base.dir.remove() }
        try fixture.install(Self.everyExtension, for: "alice")
        try #"require ["imap4flags", "include", "variables"]; global "origin"; addflag "$FromHelper";"#
            .write(toFile: fixture.globalDir + "/helper.sieve", atomically: false, encoding: .utf8)
        let message = """
            Received: from first-hop by mx.example.org; Tue, 1 Jul 2025 10:00:00 +0000
            Received: from second-hop by mx.example.org; Tue, 1 Jul 2025 10:00:01 +0000
            From: Sender <sender@example.org>
            To: alice+lists@example.com
            Subject: [news] urgent things
            Date: Tue, 1 Jul 2025 10:00:02 +0000
            X-Priority: 5
            Message-ID: <every@example.org>

            This is urgent.

            """
        // sieve-test first: the documented, stable listing.
        try message.write(toFile: fixture.base.dir.file("every.eml"), atomically: false, encoding: .utf8)
        let test = try await HomingBinary.run([
            "sieve-test", "-x", "+vacation-seconds", "-r", "alice+lists@example.com", "-f", "sender@example.org",
            "--global-dir", fixture.globalDir, fixture.home("alice") + "/.dovecot.sieve", fixture.base.dir.file("every.eml"),
        ])
        #expect(test.status == 0, "\(test.standardError)")
        #expect(test.standardError.hasSuffix("sieve-test: Info: final result: success\n"), "\(test.standardError)")
        #expect(test.standardOutput.contains(" * store message in folder: Lists.News\n"), "\(test.standardOutput)")
        #expect(test.standardOutput.contains(" * redirect message to: carol@example.org\n"))
        #expect(test.standardOutput.contains("=> subject: Away (LMTP)"))
        #expect(test.standardOutput.contains("Implicit keep:\n\n * store message in folder: INBOX\n"))

        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let replies = try await Self.deliver(fixture, to: ["alice+lists@example.com"], message)
        #expect(replies.first?.hasPrefix("250 2.0.0") == true)
        let folder = fixture.stored("alice", folder: "Lists.News")
        #expect(folder.cur.count == 1, "\(server.log)")
        // \Answered \Flagged \Seen, then the keyword $FromHelper ($Hop is not set: the last
        // Received is the second hop).
        #expect(folder.cur.first?.hasSuffix(":2,FRSa") == true, "\(folder)")
        #expect(fixture.stored("alice").cur.first?.hasSuffix(":2,FRSa") == true)
        let keywords = try String(contentsOfFile: fixture.base.maildir("alice") + "/dovecot-keywords", encoding: .utf8)
        #expect(keywords == "0 $FromHelper\n")
        let sent = fixture.sent()
        #expect(sent.map { $0.args.last ?? "" }.sorted() == ["carol@example.org", "sender@example.org"], "\(server.log)")
        #expect(sent.contains { $0.message.contains("Subject: Away (LMTP)") })
    }

    @Test("lmtp_user_concurrency_limit: while a delivery to bob is running, another RCPT for bob gets 451, others are accepted")
    func userConcurrencyLimit() async throws {
        let fixture = try SieveFixture(topLevel: "lmtp_user_concurrency_limit = 1")
        defer { fixture.base.dir.remove() }
        // bob's delivery stays in progress while sendmail (his redirect) takes its time.
        try fixture.base.dir.write(
            "sendmail.sh", "touch \(fixture.outbox)/started\nsleep 3\ncat > /dev/null\n")
        try fixture.install(#"redirect "carol@example.org";"#, for: "bob")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        async let first = Self.deliver(fixture, to: ["bob@example.com"], Self.message("slow", id: "c1"))
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: fixture.outbox + "/started") && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let client = try await LMTPTestClient.session(unixPath: fixture.base.socketPath, lhlo: "client", from: "sender@example.org")
        #expect(
            try await client.command("RCPT TO:<bob@example.com>")
                == ["451 4.3.0 <bob@example.com> Too many concurrent deliveries for user"], "\(server.log)")
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        let replies = try await first
        #expect(replies.first?.hasPrefix("250 2.0.0 <bob@example.com>") == true)
        _ = try await client.command("RSET")
        _ = try await client.command("MAIL FROM:<sender@example.org>")
        #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
    }

    @Test("SIGTERM during a delivery: the delivery finishes and is answered 250, then 421; an idle session is closed at once")
    func shutdownDuringDelivery() async throws {
        let fixture = try SieveFixture()
        defer { fixture.base.dir.remove() }
        // bob's delivery stays in progress while sendmail (his redirect) takes its time.
        try fixture.base.dir.write(
            "sendmail.sh", "touch \(fixture.outbox)/started\nsleep 3\ncat > /dev/null\n")
        try fixture.install(#"redirect "carol@example.org";"#, for: "bob")
        let server = try await fixture.base.startServer()
        let idle = try await LMTPTestClient.session(unixPath: fixture.base.socketPath, lhlo: "client")
        let busy = try await LMTPTestClient.session(unixPath: fixture.base.socketPath, lhlo: "client", from: "sender@example.org")
        #expect(try await busy.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
        #expect(try await busy.command("DATA") == ["354 OK"])
        try await busy.send(Self.message("slow", id: "sd1").replacingOccurrences(of: "\n", with: "\r\n") + ".\r\n")
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: fixture.outbox + "/started") && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        async let stopped = server.stop()
        #expect(try await idle.readReply() == ["421 4.3.2 mx.example.com Shutting down"])
        #expect(try await busy.readReply().first?.hasPrefix("250 2.0.0 <bob@example.com>") == true, "\(server.log)")
        #expect(try await busy.readReply() == ["421 4.3.2 mx.example.com Shutting down"])
        #expect(await stopped == 0)
        // The redirect was carried out before the 250 (redirect alone stores nothing for bob).
        #expect(server.log.contains("redirect action: forwarded to <carol@example.org>"), "\(server.log)")
    }

    @Test("Sieve settings that do not parse stop start-up and fail homing config --check, naming the setting")
    func invalidSettings() async throws {
        for (plugin, topLevel, expected) in [
            ("sieve_before = ldap:/etc/x", "", "sieve_before: the 'ldap' script storage is not supported (use file:)"),
            ("sieve_max_actions = lots", "", "sieve_max_actions: 'lots' is not a number"),
            ("sieve_extensions = +editheadr", "", "sieve_extensions: unknown Sieve extension '+editheadr'"),
            ("sieve_global_extensions = -", "", "sieve_global_extensions: '-' names no extension"),
            (
                "sieve_spamtest_status_header = X-Spam-Score\n  sieve_spamtest_max_value = lots", "",
                "sieve_spamtest_max_value: invalid max value specification 'lots'"
            ),
            ("", "namespace inbox {\n  separator = ::\n}", "separator: '::' must be a single character"),
            ("", "submission_host = mail.example.com:smtp", "submission_host"),
        ] {
            let fixture = try SieveFixture(plugin: plugin, topLevel: topLevel)
            defer { fixture.base.dir.remove() }
            let check = try await HomingBinary.run(["config", "--check", "-c", fixture.base.configPath])
            #expect(check.status == 78)
            #expect(check.standardError.contains(expected), "\(check.standardError)")
            let serve = try await HomingBinary.run(["serve", "-c", fixture.base.configPath])
            #expect(serve.status == 78)
        }
    }

    @Test("homing sieve-test prints the actions, warnings and Pigeonhole's closing line, takes -x; a compile error exits 89 with Pigeonhole's text; sieve-check reports line and column")
    func sieveTestAndCheckCLI() async throws {
        let dir = try ScratchDirectory("homing-sievecli")
        defer { dir.remove() }
        try dir.write("good.sieve", "require \"fileinto\";\nif header :contains \"subject\" \"lists\" { fileinto \"Lists\"; }\n")
        try dir.write("bad.sieve", "require \"fileinto\";\nfileinto \"x\"\nkeep;\n")
        try dir.write("m.eml", "Subject: about lists\nFrom: a@example.org\n\nbody\n")
        let good = try await HomingBinary.run(["sieve-test", dir.file("good.sieve"), dir.file("m.eml")])
        #expect(good.status == 0)
        #expect(good.standardOutput == "Performed actions:\n\n * store message in folder: Lists\n\nImplicit keep:\n\n  (none)\n")
        #expect(good.standardError == "sieve-test: Info: final result: success\n")
        let bad = try await HomingBinary.run(["sieve-test", dir.file("bad.sieve"), dir.file("m.eml")])
        #expect(bad.status == 89)
        #expect(
            bad.standardError
                == "bad: line 2: error: missing semicolon ';' after fileinto command.\nbad: error: validation failed.\nsieve-test: Fatal: failed to compile sieve script\n")
        // Pigeonhole's output, checked with sieve-test 0.5.19: one store for fileinto "INBOX" and
        // keep, warnings on standard error (the compile warning with the script's name and line,
        // the runtime warning without), then the closing line.
        try dir.write("warn.sieve", "require [\"fileinto\", \"date\"];\nif date :is \"date\" \"century\" \"20\" { keep; }\nfileinto \"INBOX\"; keep;\n")
        let warned = try await HomingBinary.run(["sieve-test", dir.file("warn.sieve"), dir.file("m.eml")])
        #expect(warned.status == 0)
        #expect(warned.standardOutput == "Performed actions:\n\n * store message in folder: INBOX\n\nImplicit keep:\n\n  (none)\n")
        #expect(
            warned.standardError
                == "warn: line 2: warning: specified date part `century' is not known.\nwarning: specified date part argument `century' is not known.\nsieve-test: Info: final result: success\n")
        // A default-off extension is refused, then enabled with -x; -x also takes extensions away.
        try dir.write("edit.sieve", "require \"editheader\";\naddheader \"X-Seen\" \"yes\";\n")
        let off = try await HomingBinary.run(["sieve-test", dir.file("edit.sieve"), dir.file("m.eml")])
        #expect(off.status == 89)
        #expect(off.standardError.hasPrefix("edit: line 1: error: require command: unknown Sieve capability `editheader'.\n"))
        let on = try await HomingBinary.run(["sieve-test", "-x", "+editheader", dir.file("edit.sieve"), dir.file("m.eml")])
        #expect(on.status == 0, "\(on.standardError)")
        #expect(on.standardOutput.contains(" * store message in folder: INBOX\n        + add header field: X-Seen: yes\n"), "\(on.standardOutput)")
        let without = try await HomingBinary.run(["sieve-test", "-x", "-fileinto", dir.file("good.sieve"), dir.file("m.eml")])
        #expect(without.status == 89)
        #expect(without.standardError.hasPrefix("good: line 1: error: require command: unknown Sieve capability `fileinto'.\n"))
        let typo = try await HomingBinary.run(["sieve-test", "-x", "+editheadr", dir.file("edit.sieve"), dir.file("m.eml")])
        #expect(typo.status == 64)
        #expect(typo.standardError.contains("-x: unknown Sieve extension '+editheadr'"))
        // A run-time failure: Pigeonhole's closing line, exit 1.
        try dir.write("many.sieve", "redirect \"a@example.net\";\nredirect \"b@example.net\";\nredirect \"c@example.net\";\nredirect \"d@example.net\";\nredirect \"e@example.net\";\n")
        let failing = try await HomingBinary.run(["sieve-test", dir.file("many.sieve"), dir.file("m.eml")])
        #expect(failing.status == 1)
        #expect(failing.standardOutput.isEmpty)
        #expect(failing.standardError.hasPrefix("many: line 5: error: "))
        #expect(failing.standardError.hasSuffix("sieve-test: Info: final result: failed; resolved with successful implicit keep\n"))
        let check = try await HomingBinary.run(["sieve-check", dir.file("good.sieve"), dir.file("bad.sieve")])
        #expect(check.status == 1)
        #expect(check.standardOutput.hasPrefix(dir.file("bad.sieve") + ": line 2, column "), "\(check.standardOutput)")
        let ok = try await HomingBinary.run(["sieve-check", dir.file("good.sieve")])
        #expect(ok.status == 0 && ok.standardOutput.isEmpty)
        let checkOff = try await HomingBinary.run(["sieve-check", dir.file("edit.sieve")])
        #expect(checkOff.status == 1)
        let checkOn = try await HomingBinary.run(["sieve-check", "-x", "+editheader", dir.file("edit.sieve")])
        #expect(checkOn.status == 0 && checkOn.standardOutput.isEmpty)
    }

    @Test("/metrics counts Sieve actions and errors: a fileinto, an implicit keep, a script that does not compile")
    func sieveMetrics() async throws {
        let metricsPort = freeLoopbackPort()
        let fixture = try SieveFixture(topLevel: """
            service stats {
              inet_listener http {
                address = 127.0.0.1
                port = \(metricsPort)
              }
            }
            """)
        defer { fixture.base.dir.remove() }
        try fixture.install(
            """
            require "fileinto";
            if header :contains "subject" "[lists]" { fileinto "Lists"; }
            """, for: "alice")
        try fixture.install("if true { keep; ", for: "bob")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        // The metrics listener is bound just after the LMTP ones.
        await server.waitForLog { $0.contains("metrics at http://127.0.0.1:\(metricsPort)/metrics") }
        _ = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("[lists] one", id: "m1"))
        _ = try await Self.deliver(fixture, to: ["alice@example.com"], Self.message("two", id: "m2"))
        _ = try await Self.deliver(fixture, to: ["bob@example.com"], Self.message("three", id: "m3"))
        #expect(fixture.stored("alice", folder: "Lists").new.count == 1)
        #expect(fixture.stored("bob").new.count == 1)
        let (status, body) = try await MetricsIntegrationTests.get("/metrics", port: metricsPort)
        #expect(status == "HTTP/1.1 200 OK", "\(body)")
        #expect(body.contains(#"homing_sieve_actions_total{action="fileinto"} 1"#), "\(body)")
        #expect(body.contains(#"homing_sieve_actions_total{action="implicit_keep"} 1"#), "\(body)")
        #expect(body.contains(#"homing_sieve_errors_total{kind="compile"} 1"#), "\(body)")
        #expect(!body.contains(#"homing_sieve_errors_total{kind="runtime"}"#), "\(body)")
    }
}
