import Foundation
import Glibc
import HomingConfig
import HomingDelivery
import HomingSieve
import HomingSubmission
import HomingTestSupport
import Testing

@testable import HomingSievePlugin

/// Records what the plugin submits (the body file read as the submitter would read it).
final class RecordingSubmitter: MailSubmitter {
    struct Sent: Sendable, Hashable {
        var sender: String
        var recipients: [String]
        var text: String
    }

    let sent = Locked<[Sent]>([])

    func submit(_ message: OutgoingMessage, from sender: String, to recipients: [String]) throws(SubmissionError) {
        var bytes = message.prefix
        if let path = message.bodyFile, let data = FileManager.default.contents(atPath: path) {
            bytes += Array(data).dropFirst(message.bodyOffset)
        }
        sent.append(Sent(sender: sender, recipients: recipients, text: String(decoding: bytes, as: UTF8.self)))
    }
}

/// The Sieve plugin in the delivery core, without a server: what is stored (edited headers,
/// keywords), what is sent (notifications, redirects) and what the user's log says.
@Suite("Sieve plugin at delivery: edited headers, keywords, folder names, notifications, the user's log")
struct SievePluginDeliveryTests {
    struct Setup {
        let harness: DeliveryHarness
        let submitter: RecordingSubmitter
        let delivery: LocalDelivery

        var home: String { harness.scratch.path + "/alice@example.com" }
        var maildir: String { home + "/Maildir" }

        func userLog() -> String { harness.text(home + "/.dovecot.sieve.log") }
    }

    private func setup(
        _ script: String, plugin: [String: String] = [:], configure: (inout HomingSettings) -> Void = { _ in }
    ) throws -> Setup {
        let harness = try DeliveryHarness { settings in
            settings.mailPlugins = ["sieve"]
            settings.plugin = ["sieve": "file:~/sieve;active=~/.dovecot.sieve"].merging(plugin) { $1 }
            configure(&settings)
        }
        let home = harness.scratch.path + "/alice@example.com"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try script.write(toFile: home + "/.dovecot.sieve", atomically: false, encoding: .utf8)
        let submitter = RecordingSubmitter()
        let plugin = try SievePlugin(
            settings: harness.settings, hostname: "mx.example.com", threads: 1, logger: harness.logs.logger,
            submitter: submitter)
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")], plugins: [plugin])
        return Setup(harness: harness, submitter: submitter, delivery: delivery)
    }

    let message = "From: Sender <sender@example.org>\r\nSubject: hello\r\nX-Remove: me\r\nMessage-ID: <m1@example.org>\r\n\r\nbody\r\n"

    @Test("editheader: each store carries the header as it was when it ran, the implicit keep the final one, a redirect its own; sizes count the edits")
    func editedHeaders() async throws {
        let setup = try setup(
            """
            require ["editheader", "fileinto", "mailbox", "copy"];
            addheader "X-First" "1";
            deleteheader "X-Remove";
            fileinto :copy :create "Early";
            addheader :last "X-Last" "2";
            redirect :copy "carol@example.org";
            """, plugin: ["sieve_extensions": "+editheader"])
        defer { setup.harness.scratch.remove() }
        let (_, outcomes) = try await setup.harness.run(setup.delivery, message: message, to: ["alice@example.com"])
        #expect(outcomes == [.stored(mailboxes: ["Early", "INBOX"])], "\(setup.harness.logs.messages(at: .info))")
        let early = setup.harness.text(try #require(setup.harness.files(of: "alice@example.com", folder: "Early").first))
        let inboxFile = try #require(setup.harness.files(of: "alice@example.com").first)
        let inbox = setup.harness.text(inboxFile)
        let original = "From: Sender <sender@example.org>\nSubject: hello\nMessage-ID: <m1@example.org>\n"
        // The trace headers first, then the edited header, then the body.
        #expect(early.hasPrefix("Return-Path: <sender@example.org>\n"))
        #expect(early.hasSuffix("\nX-First: 1\n" + original + "\nbody\n"), "\(early)")
        #expect(inbox.hasSuffix("\nX-First: 1\n" + original + "X-Last: 2\n\nbody\n"), "\(inbox)")
        #expect(inboxFile.contains(",S=\(inbox.utf8.count),W=\(inbox.utf8.count + inbox.filter { $0 == "\n" }.count)"))
        let sent = setup.submitter.sent.current
        try #require(sent.count == 1)
        // The composer's fields, this delivery's trace headers (without Return-Path), then the edited header.
        #expect(sent[0].text.hasPrefix("X-Sieve: Homing Sieve"), "\(sent[0].text)")
        #expect(sent[0].text.contains("\nDelivered-To: alice@example.com"))
        #expect(!sent[0].text.contains("Return-Path"))
        #expect(sent[0].text.hasSuffix("\nX-First: 1\n" + original + "X-Last: 2\n\nbody\n"), "\(sent[0].text)")
    }

    @Test("addflag \"$Label1\" is stored as Dovecot stores it: a letter in the file name, the name in dovecot-keywords")
    func keywords() async throws {
        let setup = try setup(#"require "imap4flags"; addflag ["$Label1", "\\Seen"]; keep;"#)
        defer { setup.harness.scratch.remove() }
        _ = try await setup.harness.run(setup.delivery, message: message, to: ["alice@example.com"])
        let files = setup.harness.files(of: "alice@example.com", in: "cur")
        #expect(files.count == 1 && files.first?.hasSuffix(":2,Sa") == true, "\(files)")
        #expect(setup.harness.text(setup.maildir + "/dovecot-keywords") == "0 $Label1\n")
    }

    @Test("fileinto with Dovecot's default separator '.': Lists/Other is invalid, the result fails and the message is kept in INBOX as received, nothing sent")
    func defaultSeparator() async throws {
        let setup = try setup(
            #"require ["fileinto", "imap4flags", "editheader"]; addflag "\\Flagged"; addheader "X-A" "b"; redirect "carol@example.org"; fileinto "Lists.Other"; fileinto "Lists/Other";"#,
            plugin: ["sieve_extensions": "+editheader"])
        defer { setup.harness.scratch.remove() }
        let (_, outcomes) = try await setup.harness.run(setup.delivery, message: message, to: ["alice@example.com"])
        #expect(outcomes == [.stored(mailboxes: ["INBOX"])])
        let files = setup.harness.files(of: "alice@example.com")
        #expect(files.count == 1)
        #expect(files.first.map { setup.harness.text($0) }?.contains("X-A") == false)
        #expect(setup.harness.files(of: "alice@example.com", folder: "Lists.Other").isEmpty)
        #expect(setup.submitter.sent.current.isEmpty)
        #expect(setup.userLog().contains(
            "\nerror: msgid=<m1@example.org>: fileinto action: failed to store into mailbox 'Lists/Other': Invalid mailbox name: Name must not have '/' characters.\n"),
            "\(setup.userLog())")
    }

    @Test("with namespace { separator = / } Lists/Other is the hierarchy (stored as .Lists.Other) and a dot is refused")
    func slashSeparator() async throws {
        let setup = try setup(#"require "fileinto"; if header :is "subject" "hello" { fileinto "Lists/Other"; } else { fileinto "a.b"; }"#) {
            var inbox = NamespaceSettings(name: "inbox")
            inbox.inbox = true
            inbox.separator = "/"
            $0.namespaces = [inbox]
            $0.ldaMailboxAutocreate = true
        }
        defer { setup.harness.scratch.remove() }
        _ = try await setup.harness.run(setup.delivery, message: message, to: ["alice@example.com"])
        #expect(setup.harness.files(of: "alice@example.com", folder: "Lists.Other").count == 1)
        #expect(setup.harness.logs.messages(at: .info).contains("msgid=<m1@example.org>: saved mail to Lists/Other"))
        _ = try await setup.harness.run(
            setup.delivery, message: message.replacingOccurrences(of: "Subject: hello", with: "Subject: other"),
            to: ["alice@example.com"])
        #expect(setup.harness.files(of: "alice@example.com").count == 1)
        #expect(setup.userLog().contains("fileinto action: failed to store into mailbox 'a.b': Character not allowed in mailbox name: '.'."))
    }

    @Test("notify: sent through the submitter like a vacation reply, logged as Pigeonhole logs it; none for auto-submitted mail")
    func notify() async throws {
        let setup = try setup(
            #"require "enotify"; notify :message "New mail" "mailto:bob@example.org?cc=carol@example.org";"#,
            plugin: ["sieve_user_email": "alice@example.com"])
        defer { setup.harness.scratch.remove() }
        _ = try await setup.harness.run(setup.delivery, message: message, to: ["alice@example.com"])
        let sent = setup.submitter.sent.current
        try #require(sent.count == 1)
        #expect(sent[0].sender == "alice@example.com")
        #expect(sent[0].recipients == ["bob@example.org", "carol@example.org"])
        #expect(sent[0].text.contains("Subject: New mail\r\n"))
        #expect(sent[0].text.contains("Auto-Submitted: auto-notified; owner-email=\"alice@example.com\"\r\n"))
        #expect(setup.harness.logs.messages(at: .info).contains(
            "sieve: msgid=<m1@example.org>: notify action: sent mail notification to <bob@example.org>, <carol@example.org>"))
        #expect(setup.harness.files(of: "alice@example.com").count == 1)

        _ = try await setup.harness.run(
            setup.delivery, message: "Auto-Submitted: auto-replied\r\n" + message, to: ["alice@example.com"])
        #expect(setup.submitter.sent.current.count == 1)
        #expect(setup.harness.logs.messages(at: .info).contains(
            "sieve: msgid=<m1@example.org>: notify action: not sending notification for auto-submitted message from <sender@example.org>"))
    }

    @Test("the user's log: Pigeonhole's opening line, compile warnings once per compilation, runtime warnings each delivery")
    func userLogWarnings() async throws {
        let setup = try setup("require \"date\";\nif date :is \"date\" \"century\" \"20\" { keep; }\n")
        defer { setup.harness.scratch.remove() }
        _ = try await setup.harness.run(setup.delivery, message: message, to: ["alice@example.com"])
        _ = try await setup.harness.run(setup.delivery, message: message, to: ["alice@example.com"])
        let lines = setup.userLog().split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(lines)")
        #expect(lines.first?.wholeMatch(of: #/sieve: info: started log at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\./#) != nil)
        #expect(lines[1] == ".dovecot: line 2: warning: specified date part `century' is not known.")
        #expect(lines[2] == "warning: specified date part argument `century' is not known.")
        #expect(lines[3].hasPrefix("sieve: info: started log at "))
        #expect(lines[4] == "warning: specified date part argument `century' is not known.")
    }

    @Test("a default-off extension is refused with Pigeonhole's message (the message kept in INBOX); enabled with +name it runs")
    func defaultOffExtension() async throws {
        let script = "require \"editheader\";\naddheader \"X-Added\" \"yes\";\n"
        let off = try setup(script)
        defer { off.harness.scratch.remove() }
        _ = try await off.harness.run(off.delivery, message: message, to: ["alice@example.com"])
        #expect(off.harness.files(of: "alice@example.com").count == 1)
        #expect(off.userLog().contains(
            "\n.dovecot: line 1: error: require command: unknown Sieve capability `editheader'.\n.dovecot: line 2: error: unknown command 'addheader' (only reported once at first occurrence).\n.dovecot: error: validation failed.\n"),
            "\(off.userLog())")

        let on = try setup(script, plugin: ["sieve_extensions": "+editheader"])
        defer { on.harness.scratch.remove() }
        _ = try await on.harness.run(on.delivery, message: message, to: ["alice@example.com"])
        let stored = on.harness.files(of: "alice@example.com").map { on.harness.text($0) }
        #expect(stored.count == 1 && stored[0].contains("\nX-Added: yes\n"), "\(stored)")
        #expect(!FileManager.default.fileExists(atPath: on.home + "/.dovecot.sieve.log"))
    }

    @Test("sieve_global_extensions: an administrator's sieve_before may use spamtest, the user's own script may not")
    func globalOnlyExtension() async throws {
        let setup = try setup(
            "keep;\n",
            plugin: [
                "sieve_global_extensions": "+spamtest +relational +comparator-i;ascii-numeric",
                "sieve_spamtest_status_header": "X-Spam-Score", "sieve_spamtest_max_value": "10",
            ])
        defer { setup.harness.scratch.remove() }
        let before = setup.harness.scratch.path + "/before.sieve"
        try "require [\"spamtest\", \"relational\", \"comparator-i;ascii-numeric\", \"fileinto\"];\nif spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"5\" { fileinto \"Junk\"; }\n"
            .write(toFile: before, atomically: false, encoding: .utf8)
        var settings = setup.harness.settings
        settings.plugin["sieve_before"] = before
        settings.ldaMailboxAutocreate = true
        let plugin = try SievePlugin(
            settings: settings, hostname: "mx.example.com", threads: 1, logger: setup.harness.logs.logger,
            submitter: setup.submitter)
        let harness = setup.harness
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")], plugins: [plugin])
        _ = try await harness.run(delivery, message: "X-Spam-Score: 7.5\r\n" + message, to: ["alice@example.com"])
        #expect(harness.files(of: "alice@example.com", folder: "Junk").count == 1, "\(harness.logs.messages(at: .error))")
        // The same extension in the user's own script is refused.
        try "require \"spamtest\";\nif spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"5\" { discard; }\n"
            .write(toFile: setup.home + "/.dovecot.sieve", atomically: false, encoding: .utf8)
        _ = try await harness.run(delivery, message: "X-Spam-Score: 1\r\n" + message, to: ["alice@example.com"])
        #expect(harness.files(of: "alice@example.com").count == 1)
        #expect(
            setup.userLog().contains(
                ".dovecot: line 1: error: require command: failed to load Sieve capability `spamtest': its use is restricted to global scripts."),
            "\(setup.userLog())")
    }
}
