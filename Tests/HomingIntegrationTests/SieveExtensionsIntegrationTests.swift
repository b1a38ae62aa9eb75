import Foundation
import Glibc
import HomingTestSupport
import Testing

/// The Sieve extensions whose effect reaches beyond the script, over LMTP against the real
/// server: notifications sent through `sendmail_path`, edited headers in the stored and
/// redirected copies (and in quota), the spam scanner's verdict, keywords and subscriptions as
/// Dovecot stores them, folder names under the namespace separator, and `sieve_extensions`.
@Suite("Sieve extensions end to end", .serialized)
struct SieveExtensionsIntegrationTests {
    typealias Fixture = SieveIntegrationTests.SieveFixture

    static func deliver(_ fixture: Fixture, to recipients: [String] = ["alice@example.com"], from sender: String = "sender@example.org", _ message: String)
        async throws -> [String]
    {
        try await SieveIntegrationTests.deliver(fixture, to: recipients, from: sender, message)
    }

    static func message(_ subject: String, id: String, extra: String = "", body: String = "Hello\n") -> String {
        SieveIntegrationTests.message(subject, id: id, extra: extra, body: body)
    }

    func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// A stored message without Homing's trace headers (Return-Path, Delivered-To and the
    /// Received field with its continuation lines); `nil` when it does not start with them.
    func withoutTrace(_ stored: String) -> String? {
        var lines = stored.split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard lines.first?.hasPrefix("Return-Path: ") == true else { return nil }
        lines = lines.dropFirst()
        if lines.first?.hasPrefix("Delivered-To: ") == true { lines = lines.dropFirst() }
        guard lines.first?.hasPrefix("Received: from ") == true else { return nil }
        lines = lines.dropFirst()
        while lines.first?.hasPrefix("\t") == true { lines = lines.dropFirst() }
        return lines.joined(separator: "\n")
    }

    @Test("notify (RFC 5435/5436): a mailto notification goes through sendmail_path as the user, from sieve_user_email, logged as Pigeonhole logs it; none for auto-submitted mail")
    func notify() async throws {
        let fixture = try Fixture(plugin: "sieve_user_email = alice@example.com")
        defer { fixture.base.dir.remove() }
        try fixture.install(
            #"require ["enotify", "variables"]; if header :matches "subject" "*" { notify :importance "1" :message "New: ${1}" "mailto:bob@example.org?cc=carol@example.org"; }"#,
            for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let replies = try await Self.deliver(fixture, Self.message("quarterly report", id: "n1"))
        #expect(replies.first?.hasPrefix("250 2.0.0 <alice@example.com>") == true)
        let sent = fixture.sent()
        try #require(sent.count == 1, "\(server.log)")
        #expect(sent[0].args == ["-i", "-f", "alice@example.com", "--", "bob@example.org", "carol@example.org"])
        let recorded = try FileManager.default.contentsOfDirectory(atPath: fixture.outbox).filter { $0.hasSuffix(".args") }
        #expect(recorded.compactMap { ownership(fixture.outbox + "/" + $0)?.uid } == [fixture.base.uid])
        let notification = sent[0].message
        #expect(notification.contains("Subject: New: quarterly report\n"))
        #expect(notification.contains("From: <alice@example.com>\n"))
        #expect(notification.contains("To: bob@example.org\nCc: carol@example.org\n"))
        #expect(notification.contains("Auto-Submitted: auto-notified; owner-email=\"alice@example.com\"\n"))
        #expect(notification.contains("X-Priority: 1 (Highest)\nImportance: High\n"))
        #expect(notification.hasSuffix("\n\nNotification of new message.\n"))
        #expect(server.log.contains(
            "sieve: msgid=<n1@example.org>: notify action: sent mail notification to <bob@example.org>, <carol@example.org>"),
            "\(server.log)")
        // The message itself is kept (notify does not cancel the implicit keep).
        #expect(fixture.stored("alice").new.count == 1)

        _ = try await Self.deliver(
            fixture, from: "robot@example.net", Self.message("automatic", id: "n2", extra: "Auto-Submitted: auto-generated\n"))
        #expect(fixture.sent().count == 1)
        #expect(server.log.contains(
            "sieve: msgid=<n2@example.org>: notify action: not sending notification for auto-submitted message from <robot@example.net>"))
        #expect(fixture.stored("alice").new.count == 2)
    }

    @Test("editheader (RFC 5293, enabled with +editheader): stored copies and the implicit keep carry the edits after the trace headers, the redirect sends them, quota counts the real size")
    func editheader() async throws {
        let fixture = try Fixture(plugin: "sieve_extensions = +editheader\n  quota = maildir:User quota")
        defer { fixture.base.dir.remove() }
        let config = try String(contentsOfFile: fixture.base.configPath, encoding: .utf8)
        try (config + "protocol lmtp {\n  mail_plugins = $mail_plugins quota\n}\n")
            .write(toFile: fixture.base.configPath, atomically: false, encoding: .utf8)
        try fixture.install(
            """
            require ["editheader", "fileinto", "mailbox", "copy"];
            addheader "X-Sieve-Filtered" "yes";
            deleteheader "X-Spam-Flag";
            deleteheader "Received";
            fileinto :copy :create "Filtered";
            addheader :last "X-Note" "\(String(repeating: "long note ", count: 30))";
            redirect :copy "carol@example.org";
            """, for: "bob")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        let message = """
            Received: from relay.example.org by mx.example.org; Tue, 1 Jul 2025 10:00:00 +0000
            From: Sender <sender@example.org>
            To: bob@example.com
            Subject: edited
            X-Spam-Flag: NO
            Message-ID: <e1@example.org>

            the body

            """
        let replies = try await Self.deliver(fixture, to: ["bob@example.com"], message)
        #expect(replies.first?.hasPrefix("250 2.0.0 <bob@example.com>") == true, "\(replies) \(server.log)")
        let maildir = fixture.base.maildir("bob")
        let filteredName = try #require(fixture.stored("bob", folder: "Filtered").new.first)
        let inboxName = try #require(fixture.stored("bob").new.first)
        let filtered = text(maildir + "/.Filtered/new/" + filteredName)
        let inbox = text(maildir + "/new/" + inboxName)
        let original = "Received: from relay.example.org by mx.example.org; Tue, 1 Jul 2025 10:00:00 +0000\nFrom: Sender <sender@example.org>\nTo: bob@example.com\nSubject: edited\nMessage-ID: <e1@example.org>\n"
        // Homing's trace headers come first; Received cannot be deleted (RFC 5293 section 6).
        #expect(withoutTrace(filtered) == "X-Sieve-Filtered: yes\n" + original + "\nthe body\n", "\(filtered)")
        #expect(withoutTrace(inbox)?.hasPrefix("X-Sieve-Filtered: yes\n" + original + "X-Note: long note") == true, "\(inbox)")
        #expect(inbox.hasSuffix("\n\nthe body\n"))
        for (name, content) in [(filteredName, filtered), (inboxName, inbox)] {
            #expect(name.contains(",S=\(content.utf8.count),W=\(content.utf8.count + content.filter { $0 == "\n" }.count)"), "\(name)")
        }
        let usage = try QuotaIntegrationTests.maildirsize(maildir)
        #expect(usage.bytes == Int64(filtered.utf8.count + inbox.utf8.count) && usage.messages == 2, "\(usage)")
        let sent = fixture.sent()
        try #require(sent.count == 1, "\(server.log)")
        // The composer's fields and this delivery's Delivered-To and Received (as Pigeonhole sends
        // them on), then the header as edited.
        #expect(sent[0].message.hasPrefix("X-Sieve: Homing Sieve\nX-Sieve-Redirected-From: bob@example.com\nDelivered-To: bob@example.com\nReceived: from "), "\(sent[0].message)")
        #expect(sent[0].message.contains("\nX-Sieve-Filtered: yes\n" + original + "X-Note: long note"), "\(sent[0].message)")
        #expect(!sent[0].message.contains("Return-Path"))
        #expect(sent[0].message.hasSuffix("\n\nthe body\n"))
    }

    @Test("spamtest and virustest (RFC 5235) read the scanner's headers as Pigeonhole is configured to: spam goes to Junk, an infected message is discarded")
    func spamtest() async throws {
        let fixture = try Fixture(
            plugin: """
                sieve_extensions = +spamtest +virustest
                  sieve_spamtest_status_type = score
                  sieve_spamtest_status_header = X-Spam-Score: score=(-?[0-9.]+)
                  sieve_spamtest_max_value = 10
                  sieve_virustest_status_type = text
                  sieve_virustest_status_header = X-Virus-Scan
                  sieve_virustest_text_value1 = clean
                  sieve_virustest_text_value5 = infected
                """)
        defer { fixture.base.dir.remove() }
        try fixture.install(
            """
            require ["spamtest", "virustest", "relational", "comparator-i;ascii-numeric", "fileinto", "mailbox"];
            if virustest :value "eq" :comparator "i;ascii-numeric" "5" { discard; stop; }
            if spamtest :value "ge" :comparator "i;ascii-numeric" "6" { fileinto :create "Junk"; }
            """, for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        _ = try await Self.deliver(fixture, Self.message("spam", id: "s1", extra: "X-Spam-Score: score=7.5 required=5\nX-Virus-Scan: clean\n"))
        _ = try await Self.deliver(fixture, Self.message("ham", id: "s2", extra: "X-Spam-Score: score=0.3 required=5\nX-Virus-Scan: clean\n"))
        _ = try await Self.deliver(fixture, Self.message("virus", id: "s3", extra: "X-Spam-Score: score=1 required=5\nX-Virus-Scan: infected\n"))
        _ = try await Self.deliver(fixture, Self.message("unscanned", id: "s4"))
        #expect(fixture.stored("alice", folder: "Junk").new.count == 1, "\(server.log)")
        // ham and the unscanned message (spamtest 0) stay in INBOX; the virus is discarded.
        let inbox = fixture.stored("alice").new.map { text(fixture.base.maildir("alice") + "/new/" + $0) }
        #expect(inbox.count == 2)
        #expect(inbox.contains { $0.contains("Subject: ham") } && inbox.contains { $0.contains("Subject: unscanned") })
    }

    @Test("a default-off extension: refused with Pigeonhole's message until sieve_extensions enables it with +name")
    func defaultOffExtension() async throws {
        let script = "require \"editheader\";\naddheader \"X-Seen\" \"yes\";\n"
        let off = try Fixture()
        defer { off.base.dir.remove() }
        try off.install(script, for: "alice")
        let server = try await off.base.startServer()
        _ = try await Self.deliver(off, Self.message("x", id: "d1"))
        await server.stop()
        #expect(off.stored("alice").new.count == 1)
        #expect(server.log.contains("line 1: error: require command: unknown Sieve capability `editheader'."), "\(server.log)")
        let log = text(off.home("alice") + "/.dovecot.sieve.log")
        #expect(log.contains("\n.dovecot: line 1: error: require command: unknown Sieve capability `editheader'.\n"), "\(log)")
        #expect(log.hasSuffix("\n.dovecot: error: validation failed.\n"))

        let on = try Fixture(plugin: "sieve_extensions = +editheader")
        defer { on.base.dir.remove() }
        try on.install(script, for: "alice")
        let enabled = try await on.base.startServer()
        defer { Task { await enabled.stop() } }
        _ = try await Self.deliver(on, Self.message("x", id: "d2"))
        let stored = on.stored("alice").new.map { text(on.base.maildir("alice") + "/new/" + $0) }
        #expect(stored.count == 1 && stored.first.flatMap(withoutTrace)?.hasPrefix("X-Seen: yes\nFrom: ") == true, "\(stored) \(enabled.log)")
    }

    @Test("keywords and lda_mailbox_autosubscribe: $Label1 is a letter and a dovecot-keywords line, created folders are in subscriptions; with separator = / Lists/Other is a hierarchy")
    func keywordsAndSubscriptions() async throws {
        let fixture = try Fixture(topLevel: "lda_mailbox_autosubscribe = yes\nnamespace inbox {\n  inbox = yes\n  separator = /\n}")
        defer { fixture.base.dir.remove() }
        try fixture.install(
            #"require ["fileinto", "imap4flags", "mailbox"]; addflag ["$Label1", "\\Seen"]; fileinto :create "Lists/Other"; fileinto "Archive"; keep;"#,
            for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        _ = try await Self.deliver(fixture, Self.message("tagged", id: "k1"))
        _ = try await Self.deliver(fixture, Self.message("again", id: "k2"))
        let maildir = fixture.base.maildir("alice")
        let lists = fixture.stored("alice", folder: "Lists.Other")
        #expect(lists.cur.count == 2 && lists.cur.allSatisfy { $0.hasSuffix(":2,Sa") }, "\(lists) \(server.log)")
        #expect(fixture.stored("alice", folder: "Archive").cur.count == 2)
        #expect(fixture.stored("alice").cur.count == 2)
        #expect(text(maildir + "/.Lists.Other/dovecot-keywords") == "0 $Label1\n")
        #expect(text(maildir + "/dovecot-keywords") == "0 $Label1\n")
        // Created once each, subscribed once each, as Dovecot writes the file (version 2, levels by tabs).
        #expect(text(maildir + "/subscriptions") == "V\t2\n\nLists\tOther\nArchive\n")
        #expect(ownership(maildir + "/subscriptions")?.uid == fixture.base.uid)
        #expect(server.log.contains("msgid=<k1@example.org>: saved mail to Lists/Other"))
    }

    @Test("fileinto under Dovecot's default separator '.': Lists/Other is invalid, the message is kept in INBOX as received and nothing else happens; Lists.Other is the hierarchy")
    func defaultSeparator() async throws {
        let fixture = try Fixture()
        defer { fixture.base.dir.remove() }
        try fixture.install(
            #"require ["fileinto", "variables"]; if header :matches "subject" "*" { redirect "carol@example.org"; fileinto "${1}"; }"#,
            for: "alice")
        let server = try await fixture.base.startServer()
        defer { Task { await server.stop() } }
        _ = try await Self.deliver(fixture, Self.message("Lists/Other", id: "f1"))
        _ = try await Self.deliver(fixture, Self.message("Lists.Other", id: "f2"))
        #expect(fixture.stored("alice").new.count == 1)
        #expect(fixture.stored("alice", folder: "Lists.Other").new.count == 1, "\(server.log)")
        // Only the valid message was forwarded.
        #expect(fixture.sent().count == 1)
        #expect(server.log.contains(
            "msgid=<f1@example.org>: fileinto action: failed to store into mailbox 'Lists/Other': Invalid mailbox name: Name must not have '/' characters; keeping the message in INBOX"),
            "\(server.log)")
        let log = text(fixture.home("alice") + "/.dovecot.sieve.log")
        #expect(log.contains("error: msgid=<f1@example.org>: fileinto action: failed to store into mailbox 'Lists/Other': Invalid mailbox name: Name must not have '/' characters.\n"))
    }
}
