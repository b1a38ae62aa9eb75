import Foundation
import Testing

@testable import HomingSieve

/// RFC 5293 editheader: the RFC's examples, the header each action stores or sends (as
/// Pigeonhole 0.5.19 stores it, checked with `sieve-test -e` into a maildir), protected
/// fields, Pigeonhole's errors and warnings, and hostile values.
@Suite("Conformance: RFC 5293 editheader")
struct ConformanceRFC5293Tests {
    static let message = """
        Received: from a by b; Fri, 01 Mar 2024 10:29:00 +0100
        X-Hello: one
        Subject: hi there
        X-Hello: two
        From: a@example.com
        X-Hello: three
        To: b@example.com

        body

        """

    private func run(_ script: String, message: String = message, settings: SieveRuntimeSettings = .init()) throws
        -> (SieveResult, [SieveHeaderField])
    {
        let source = SieveMessage(text: message)
        let compiled = try SieveCompiledScript.compile(script, options: SieveCompileOptions(editHeader: settings.editHeader))
        let result = try SieveInterpreter.run(
            compiled, message: source, envelope: conformanceEnvelope, environment: ConformanceEnvironment(),
            settings: settings)
        return (result, source.headerFields)
    }

    /// The stored copy for `header` (nil: as received).
    private func stored(_ header: SieveEditedHeader?, message: String = message) -> String {
        let bytes = Array(message.utf8)
        guard let header else { return message }
        let (head, offset) = header.apply(toMessageStart: bytes)
        return String(decoding: head + bytes[offset...], as: UTF8.self)
    }

    @Test("RFC 5293 section 4 example: the redirected copy carries X-Sieve-Filtered")
    func addheaderExample() throws {
        let script = """
            require ["editheader"];
            /* Don't redirect if we already redirected */
            if not header :contains "X-Sieve-Filtered"
                    ["<kim@job.example.com>", "<kim@home.example.com>"]
            {
                    addheader "X-Sieve-Filtered" "<kim@job.example.com>";
                    redirect "kim@home.example.com";
            }
            """
        let (result, _) = try run(script)
        #expect(result.actions == [.redirect(address: "kim@home.example.com", copy: false)])
        let redirected = stored(result.editedHeaders[0])
        #expect(redirected.hasPrefix("X-Sieve-Filtered: <kim@job.example.com>\nReceived: from a by b;"))
        // Run again on the forwarded copy: no second redirect.
        let (again, _) = try run(script, message: redirected)
        #expect(again.actions.isEmpty)
    }

    @Test("RFC 5293 section 7: adding then deleting X-Hello leaves the message unchanged")
    func addThenDelete() throws {
        let (result, original) = try run("require \"editheader\";\naddheader \"X-Hello\" \"World\";\ndeleteheader :index 1 \"X-Hello\";")
        #expect(result.implicitKeepHeader?.headerFields(original: original) == original)
        #expect(stored(result.implicitKeepHeader) == Self.message)
    }

    @Test("RFC 5293 section 7: :index 1 then :index 2 delete the first and third X-Hello")
    func deleteFirstAndThird() throws {
        let (result, original) = try run(
            "require \"editheader\";\ndeleteheader :index 1 \"X-Hello\";\ndeleteheader :index 2 \"X-Hello\";")
        let values = result.implicitKeepHeader?.headerFields(original: original).filter { $0.name == "X-Hello" }
        #expect(values?.map(\.rawValue) == ["two"])
    }

    @Test("RFC 5293 section 7: tests see the added header field")
    func testsSeeEdits() throws {
        let script = """
            require ["editheader", "fileinto"];
            addheader "X-Hello" "World";
            if header :contains "X-Hello" "World"
            {
                    fileinto "international";
            }
            if not exists "Subject" { fileinto "never"; }
            deleteheader "subject";
            if not exists "Subject" { fileinto "gone"; }
            """
        let (result, _) = try run(script, message: "Subject: x\n\nbody\n")
        #expect(
            result.actions == [
                .fileInto(mailbox: "international", flags: [], create: false, copy: false),
                .fileInto(mailbox: "gone", flags: [], create: false, copy: false),
            ])
    }

    @Test("RFC 5293 section 7: keep; addheader; keep files one message")
    func keepTwice() throws {
        let (result, _) = try run("require \"editheader\";\nkeep;\naddheader \"X-Flavor\" \"vanilla\";\nkeep;")
        #expect(result.actions == [.keep(flags: [])])
        #expect(result.storeActions().count == 1)
        // The first keep's header (the implementation picks which; Homing the first).
        #expect(result.editedHeaders[0] == nil)
    }

    @Test("each store and redirect keeps the header as it was when it ran; the implicit keep the final one")
    func snapshots() throws {
        // Pigeonhole 0.5.19, checked with sieve-test -e into a maildir: folder A lacks the later
        // edits, INBOX (the explicit keep at the end) has them all.
        let script = """
            require ["editheader","fileinto","variables","mailbox"];
            addheader "X-New" "first";
            addheader :last "X-Last" "last one with a long value that goes on and on and on and on and on and beyond the seventy-eight column limit";
            deleteheader :index 1 "X-Hello";
            deleteheader :index 2 "X-Hello";
            fileinto :create "A";
            addheader "X-After" "after A";
            deleteheader "received";
            deleteheader :matches "Subject" "hi*";
            addheader "X-UTF8" "Café ünïcödé";
            if header :contains "X-New" "first" { addheader "X-Seen" "yes"; }
            if exists "subject" { addheader "X-Subject-Still" "yes"; }
            keep;
            """
        let (result, _) = try run(script)
        #expect(
            stored(result.editedHeaders[0]) == """
                X-New: first
                Received: from a by b; Fri, 01 Mar 2024 10:29:00 +0100
                Subject: hi there
                X-Hello: two
                From: a@example.com
                To: b@example.com
                X-Last: last one with a long value that goes on and on and on and on and on and
                \tbeyond the seventy-eight column limit

                body

                """)
        #expect(
            stored(result.editedHeaders[1]) == """
                X-Seen: yes
                X-Utf8: =?utf-8?b?Q2Fmw6kgw7xuw69jw7Zkw6k=?=
                X-After: after A
                X-New: first
                Received: from a by b; Fri, 01 Mar 2024 10:29:00 +0100
                X-Hello: two
                From: a@example.com
                To: b@example.com
                X-Last: last one with a long value that goes on and on and on and on and on and
                \tbeyond the seventy-eight column limit

                body

                """)
        #expect(
            result.warnings.map(\.description) == [
                "line 8: warning: deleteheader action: deleting specified header field `received' is forbidden; modification denied."
            ])
        #expect(result.implicitKeep == false)
        #expect(result.storeActions().map(\.header) == [result.editedHeaders[0], result.editedHeaders[1]])
    }

    @Test("CRLF messages keep CRLF; added fields get CRLF too")
    func crlfMessages() throws {
        let message = "Subject: x\r\nTo: y@example.com\r\n\r\nbody\r\n"
        let (result, _) = try run("require \"editheader\";\naddheader :last \"X-A\" \"1\";", message: message)
        #expect(stored(result.implicitKeepHeader, message: message) == "Subject: x\r\nTo: y@example.com\r\nX-A: 1\r\n\r\nbody\r\n")
    }

    @Test("deleteheader with match types, :index and :last (RFC 5293 section 5)")
    func deleteMatching() throws {
        func remaining(_ command: String) throws -> [String] {
            let (result, original) = try run("require [\"editheader\", \"relational\"];\n" + command)
            return (result.implicitKeepHeader?.headerFields(original: original) ?? original)
                .filter { $0.name == "X-Hello" }.map(\.rawValue)
        }
        #expect(try remaining("deleteheader :contains \"X-Hello\" \"o\";") == ["three"])
        #expect(try remaining("deleteheader :is \"x-hello\" [\"one\", \"three\"];") == ["two"])
        #expect(try remaining("deleteheader :index 1 :last \"X-Hello\";") == ["one", "two"])
        // The counting happens before matching: the first field does not contain "t".
        #expect(try remaining("deleteheader :index 1 :contains \"X-Hello\" \"t\";") == ["one", "two", "three"])
        #expect(try remaining("deleteheader :index 9 \"X-Hello\";") == ["one", "two", "three"])
        #expect(try remaining("deleteheader :value \"gt\" \"X-Hello\" \"thr\";") == ["one"])
        // Pigeonhole accepts :index 0: every field of that name.
        #expect(try remaining("deleteheader :index 0 \"X-Hello\";") == [])
    }

    @Test("RFC 5293 section 6: Received and Auto-Submitted are never deleted; Subject always may be")
    func protectedFields() throws {
        let settings = SieveRuntimeSettings(
            editHeader: SieveEditHeaderSettings.make(protected: "Subject X-Spam", forbidAdd: "X-Added").settings)
        let script = """
            require "editheader";
            deleteheader "Received";
            deleteheader "auto-submitted";
            deleteheader "Subject";
            deleteheader "X-Spam";
            addheader "X-Added" "no";
            addheader "Received" "from me";
            addheader "auto-submitted" "auto-generated";
            """
        let message = "Received: x\nAuto-Submitted: no\nSubject: s\nX-Spam: yes\n\nbody\n"
        let (result, original) = try run(script, message: message, settings: settings)
        let fields = result.implicitKeepHeader?.headerFields(original: original).map(\.name)
        #expect(fields == ["auto-submitted", "Received", "Received", "Auto-Submitted", "X-Spam"])
        #expect(result.warnings.count == 4)
        let compiled = try SieveCompiledScript.compile(script, options: SieveCompileOptions(editHeader: settings.editHeader))
        #expect(
            compiled.warnings.map(\.description) == [
                "line 2: warning: deleteheader command: deleting specified header field `Received' is forbidden; modification will be denied.",
                "line 3: warning: deleteheader command: deleting specified header field `auto-submitted' is forbidden; modification will be denied.",
                "line 5: warning: deleteheader command: deleting specified header field `X-Spam' is forbidden; modification will be denied.",
                "line 6: warning: addheader command: adding specified header field `X-Added' is forbidden; modification will be denied.",
            ])
        #expect(SieveEditHeaderSettings().mayAdd("X-Sieve-Redirected-From") == false)
        #expect(SieveEditHeaderSettings().mayDelete("x-sieve-redirected-from") == false)
    }

    @Test("editheader errors in Pigeonhole's words; the size limit is sieve_editheader_max_header_size")
    func errors() {
        #expect(
            compileErrorText("require \"editheader\";\naddheader \"X A\" \"b\";")
                == "line 2: error: addheader command: specified field name `X A' is invalid.")
        #expect(
            compileErrorText("require \"editheader\";\ndeleteheader;")
                == "line 2: error: the deleteheader command expects at least one positional argument, but none was found.")
        // RFC 5293 section 5 asks for an error; Pigeonhole reports one but keeps the script.
        #expect(
            compileErrorText("require \"editheader\";\ndeleteheader :last \"X\";")
                == "line 2: error: the :last tag for the deleteheader command cannot be specified without the :index tag.")
        let large = String(repeating: "v", count: 2049)
        #expect(
            compileErrorText("require \"editheader\";\naddheader \"X-A\" \"\(large)\";")?.hasSuffix(
                "is too large (2049 bytes).") == true)
        #expect(compileErrorText("require \"editheader\";\naddheader \"X-A\" \"\(String(large.dropLast()))\";") == nil)
        #expect(
            compileErrorText("addheader \"X\" \"y\";")
                == "line 1: error: unknown command 'addheader' (only available after require :editheader).")
        let bounds = SieveEditHeaderSettings.make(maxHeaderSize: 500)
        #expect(bounds.settings.maxHeaderSize == 2048)
        #expect(bounds.warnings.first?.contains("less than the minimum (=1024)") == true)
    }

    @Test("run-time values are checked too: a variable header name, a NUL, a value over the limit")
    func runtimeChecks() throws {
        #expect(
            try runtimeError("require [\"editheader\", \"variables\"];\nset \"n\" \"a b\";\naddheader \"${n}\" \"x\";")?.message
                == "addheader action: specified field name `a b' is invalid")
        let settings = SieveRuntimeSettings(editHeader: SieveEditHeaderSettings(maxHeaderSize: 1024))
        let value = String(repeating: "w", count: 600)
        #expect(
            try runtimeError(
                "require [\"editheader\", \"variables\"];\nset \"v\" \"\(value)\";\naddheader \"X\" \"${v}${v}\";", settings: settings
            )?.message.hasSuffix("is too large (1200 bytes)") == true)
    }

    @Test("a value cannot start a new header line: line breaks are unfolded, the name is checked")
    func injection() throws {
        let (result, original) = try run("require \"editheader\";\naddheader \"X-A\" \"x\r\nBcc: evil@example.org\";")
        let copy = stored(result.implicitKeepHeader)
        #expect(!copy.contains("\nBcc:"))
        #expect(result.implicitKeepHeader?.headerFields(original: original).first?.rawValue == "x\tBcc: evil@example.org")
        #expect(compileErrorText("require \"editheader\";\naddheader \"X-A\nBcc\" \"x\";")?.contains("is invalid") == true)
    }

    @Test("a loop cannot grow the header without bound: adding is capped per message")
    func addedFieldsBounded() throws {
        let many = "Content-Type: multipart/mixed; boundary=z\n\n"
            + String(repeating: "--z\nContent-Type: text/plain\n\nx\n", count: 1500) + "--z--\n"
        let script = """
            require ["editheader", "foreverypart", "mime"];
            foreverypart { addheader "X-Part" "seen"; }
            """
        let compiled = try SieveCompiledScript.compile(script)
        #expect(throws: SieveRuntimeError.self) {
            try SieveInterpreter.run(
                compiled, message: SieveMessage(text: "Subject: many\n" + many), envelope: conformanceEnvelope,
                environment: ConformanceEnvironment())
        }
        let few = "Content-Type: multipart/mixed; boundary=z\n\n"
            + String(repeating: "--z\nContent-Type: text/plain\n\nx\n", count: 5) + "--z--\n"
        let result = try SieveInterpreter.run(
            compiled, message: SieveMessage(text: "Subject: few\n" + few), envelope: conformanceEnvelope,
            environment: ConformanceEnvironment())
        #expect(result.implicitKeepHeader?.fields.count == 2 + 6)
    }

    @Test("header edits carry from one script of a sequence to the next")
    func sequence() throws {
        let before = try SieveCompiledScript.compile("require \"editheader\";\naddheader \"X-Before\" \"1\";")
        let user = try SieveCompiledScript.compile("require \"fileinto\";\nif exists \"X-Before\" { fileinto \"seen\"; }")
        let result = try SieveInterpreter.runSequence(
            [before, user], message: SieveMessage(text: Self.message), envelope: conformanceEnvelope,
            environment: ConformanceEnvironment())
        #expect(result.actions == [.fileInto(mailbox: "seen", flags: [], create: false, copy: false)])
        #expect(result.editedHeaders[0] != nil)
    }
}
