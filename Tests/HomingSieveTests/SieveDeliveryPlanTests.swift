import Foundation
import Testing

@testable import HomingSieve

/// What delivery gets from a result and the behaviours issue 14 lists outside the new
/// extensions: one store per folder, keywords apart from system flags, folder names under a
/// namespace separator, the vacation reply's From, sieve-test's output.
@Suite("Sieve result plan and sieve-test output")
struct SieveDeliveryPlanTests {
    @Test("fileinto \"INBOX\"; keep; is one store (Pigeonhole's sieve-test shows one)")
    func oneStore() throws {
        let result = try runSieve("require \"fileinto\";\nfileinto \"INBOX\";\nkeep;")
        #expect(result.actions.count == 2)
        #expect(result.storeActions().map(\.mailbox) == ["INBOX"])
        #expect(result.storeActions().first?.isKeep == true)
        #expect(
            SieveResultFormatter.format(result)
                == "Performed actions:\n\n * store message in folder: INBOX\n\nImplicit keep:\n\n  (none)\n")
        let merged = try runSieve(
            "require [\"fileinto\", \"imap4flags\"];\nkeep :flags \"\\\\Seen\";\nfileinto :flags \"$Label1\" \"inbox\";")
        #expect(merged.storeActions().map(\.flags) == [SieveFlagSet(["\\Seen", "$Label1"])])
        #expect(SieveResultFormatter.format(merged).contains(" * store message in folder: INBOX\n        + add flags: \\Seen $Label1\n"))
    }

    @Test("the implicit keep merges with a :copy store into INBOX for delivery, not in sieve-test")
    func implicitKeepMerge() throws {
        let result = try runSieve("require [\"fileinto\", \"copy\"];\nfileinto :copy \"INBOX\";")
        #expect(result.storeActions().count == 1)
        // Pigeonhole 0.5.19 prints the action and the implicit keep.
        #expect(
            SieveResultFormatter.format(result)
                == "Performed actions:\n\n * store message in folder: INBOX\n        + preserve implicit keep\n\nImplicit keep:\n\n * store message in folder: INBOX\n"
        )
    }

    @Test("imap4flags keywords survive to the result, apart from the system flags")
    func keywords() throws {
        let script = """
            require ["fileinto", "imap4flags"];
            addflag ["\\\\seen", "$Label1", "Work", "$label1"];
            fileinto "Lists";
            """
        let result = try runSieve(script)
        let store = try #require(result.storeActions().first)
        #expect(store.flags.systemFlags == ["\\Seen"])
        #expect(store.flags.keywords == ["$Label1", "Work"])
        #expect(store.flags.maildirLetters == "S")
        #expect(SieveFlagSet(["\\Flagged", "\\Answered", "\\Seen", "\\Draft", "\\Deleted"]).maildirLetters == "DFRST")
    }

    @Test("folder names under the namespace separator, with Dovecot 2.3's messages")
    func mailboxNames() {
        // Verified with Dovecot 2.3.19 (maildir, sieve-test -e): with the default separator '.'
        // Lists/Other is refused and the message goes to INBOX; with '/' it is the hierarchy.
        #expect(SieveMailboxName.problem("Lists/Other") == "Invalid mailbox name: Name must not have '/' characters")
        #expect(SieveMailboxName.problem("Lists.Other") == nil)
        #expect(SieveMailboxName.problem("a..b") == "Invalid mailbox name: Has adjacent hierarchy separators")
        #expect(SieveMailboxName.problem(".a") == "Invalid mailbox name: Begins with hierarchy separator")
        #expect(SieveMailboxName.problem("a.") == "Invalid mailbox name: Ends with hierarchy separator")
        #expect(SieveMailboxName.problem("~x") == "Invalid mailbox name: Begins with '~'")
        #expect(SieveMailboxName.problem("a/../b") == "Invalid mailbox name: Has adjacent hierarchy separators")
        #expect(SieveMailboxName.problem("x%y*z") == nil)
        #expect(SieveMailboxName.problem("Lists/Other", separator: "/") == nil)
        #expect(SieveMailboxName.storageName("Lists/Other", separator: "/") == "Lists.Other")
        #expect(SieveMailboxName.problem("Lists.Other", separator: "/") == "Character not allowed in mailbox name: '.'")
        #expect(SieveMailboxName.problem("a//b", separator: "/") == "Invalid mailbox name: Has adjacent hierarchy separators")
        #expect(SieveMailboxName.problem("/a", separator: "/") == "Invalid mailbox name: Begins with hierarchy separator")
        #expect(SieveMailboxName.problem("a\u{1}b") != nil)
    }

    @Test("vacation :addresses: the reply comes from the alias the message was sent to (as Pigeonhole)")
    func vacationFromAlias() {
        let responder = SieveVacationResponder(hostname: "mx.example.com")
        let envelope = SieveEnvelope(from: "sender@example.org", to: "bob@example.com")
        let request = SieveVacationRequest(reason: "Away", addresses: ["robert@example.com", "b@example.net"], period: 86_400)
        func from(_ to: String) -> String? {
            let fields = [
                SieveHeaderField(name: "From", rawValue: "sender@example.org"),
                SieveHeaderField(name: "To", rawValue: to),
            ]
            let mail = responder.reply(
                to: "sender@example.org", headerFields: fields, envelope: envelope, request: request, now: Date())
            let text = String(decoding: mail.content, as: UTF8.self)
            return text.components(separatedBy: "\r\n").first { $0.hasPrefix("From: ") }
        }
        #expect(from("Robert <robert@example.com>") == "From: <robert@example.com>")
        #expect(from("b@example.net, someone@example.org") == "From: <b@example.net>")
        #expect(from("bob@example.com, robert@example.com") == "From: <bob@example.com>")
        #expect(from("bob+tag@example.com") == "From: <bob@example.com>")
        #expect(from("list@example.org") == "From: <bob@example.com>")
        let explicit = SieveVacationRequest(reason: "Away", from: "Bob <bob@example.com>", addresses: ["robert@example.com"], period: 1)
        let mail = responder.reply(
            to: "sender@example.org", headerFields: [SieveHeaderField(name: "To", rawValue: "robert@example.com")],
            envelope: envelope, request: explicit, now: Date())
        #expect(String(decoding: mail.content, as: UTF8.self).contains("\r\nFrom: Bob <bob@example.com>\r\n"))
    }

    @Test("keep where a test is expected gives the first error only, as Pigeonhole stops there")
    func singleError() {
        // Pigeonhole 0.5.19: one error; the test part of else is not looked at.
        #expect(
            SieveCompiledScript.diagnose("if true { keep; } else keep;").errors.map(\.description) == [
                "line 1: error: missing semicolon ';' after else command."
            ])
        #expect(
            SieveCompiledScript.diagnose("if exists \"x\" keep { discard; }").errors.map(\.description) == [
                "line 1: error: missing semicolon ';' after exists test."
            ])
        #expect(
            SieveCompiledScript.diagnose("if header :contains \"subject\" keep;").errors.map(\.description) == [
                "line 1: error: the if command requires a command block, but it is missing.",
                "line 1: error: the header test requires 2 positional argument(s), but 1 is/are specified.",
                "line 1: error: missing semicolon ';' after header test.",
            ])
        #expect(
            SieveCompiledScript.diagnose("if keep;").errors.map(\.description) == [
                "line 1: error: the if command requires a command block, but it is missing.",
                "line 1: error: attempted to use command 'keep' as test.",
            ])
    }

    @Test("sieve-test's closing line is Pigeonhole's")
    func closingLine() {
        #expect(SieveResultFormatter.closingLine(.success) == "sieve-test: Info: final result: success")
        #expect(
            SieveResultFormatter.closingLine(.failedWithImplicitKeep)
                == "sieve-test: Info: final result: failed; resolved with successful implicit keep")
    }

    @Test("sieve-test shows notifications and, given the original header, header edits")
    func formatterExtras() throws {
        let message = "Subject: hi\nX-Spam: yes\n\nbody\n"
        let script = """
            require ["enotify", "editheader", "fileinto"];
            notify :importance "3" :message "m" "mailto:a@example.org?cc=c@example.org&X-Foo=bar&body=b";
            deleteheader "X-Spam";
            addheader "X-Seen" "1";
            fileinto "A";
            """
        let source = SieveMessage(text: message)
        let result = try runSieve(script, realMessage: message)
        let text = SieveResultFormatter.format(result, originalHeader: source.headerFields)
        #expect(
            text == """
                Performed actions:

                 * store message in folder: A
                        + add header field: X-Seen: 1
                        + delete header field: X-Spam
                 * send notification with method 'mailto:'
                        => importance: 3
                        => subject: m
                        => to: a@example.org
                        => cc: c@example.org
                        => header: X-Foo: bar
                        => body: b

                Implicit keep:

                  (none)

                """)
    }
}
