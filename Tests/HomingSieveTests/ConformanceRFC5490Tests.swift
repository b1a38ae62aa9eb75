import Testing

@testable import HomingSieve

/// RFC 5490 mailbox: `mailboxexists` and `fileinto :create`.
@Suite("Conformance: RFC 5490 mailbox")
struct ConformanceRFC5490Tests {
    static let example = """
        require ["fileinto", "reject", "mailbox"];
        if mailboxexists "Partners" {
           fileinto "Partners";
        } else {
           reject "This message was not accepted by the Mailstore";
        }
        """

    @Test("RFC 5490 section 3.1 example: file into Partners when it exists, reject otherwise")
    func example() throws {
        var environment = ConformanceEnvironment()
        environment.mailboxes = ["INBOX", "Partners"]
        #expect(try runSieve(Self.example, environment: environment) == filedInto("Partners"))
        #expect(
            try runSieve(Self.example)
                == SieveResult(
                    actions: [.reject(reason: "This message was not accepted by the Mailstore", extended: false)],
                    implicitKeep: false))
    }

    @Test("mailboxexists needs all the names; names are taken as written (UTF-8, case-sensitive)")
    func allNames() throws {
        var environment = ConformanceEnvironment()
        environment.mailboxes = ["INBOX", "Café", "Lists.ietf"]
        func exists(_ names: String) throws -> Bool {
            try !runSieve("require \"mailbox\";\nif mailboxexists \(names) { discard; }", environment: environment)
                .implicitKeep
        }
        #expect(try exists("[\"Café\", \"Lists.ietf\"]"))
        #expect(try !exists("[\"Café\", \"lists.ietf\"]"))
        #expect(try !exists("\"Missing\""))
    }

    @Test("fileinto :create with :copy and :flags, and with a variable name")
    func createWithOthers() throws {
        let script = """
            require ["fileinto", "mailbox", "copy", "imap4flags", "variables"];
            set "year" "2024";
            fileinto :create :copy :flags "\\\\Seen" "Archive.${year}";
            """
        #expect(
            try runSieve(script)
                == SieveResult(
                    actions: [.fileInto(mailbox: "Archive.2024", flags: ["\\Seen"], create: true, copy: true)],
                    implicitKeep: true))
    }

    @Test("fileinto into the same folder with and without :create is one action, :create kept")
    func createMerged() throws {
        let result = try runSieve("require [\"fileinto\", \"mailbox\"];\nfileinto \"X\";\nfileinto :create \"X\";")
        #expect(result.actions.count == 1)
        #expect(result.implicitKeep == false)
    }

    @Test("mailbox errors: :create without the extension, mailboxexists without it, a number")
    func compileErrors() {
        #expect(
            compileErrorText("require \"fileinto\";\nfileinto :create \"X\";")
                == "line 2: error: unknown tagged argument ':create' for the fileinto command (only available after require :mailbox)."
        )
        #expect(
            compileErrorText("if mailboxexists \"X\" { keep; }")
                == "line 1: error: unknown test 'mailboxexists' (only available after require :mailbox).")
        #expect(
            compileErrorText("require \"mailbox\";\nif mailboxexists 5 { keep; }")
                == "line 2: error: the mailboxexists test expects a string list as argument 1 (mailbox names), but a number was found."
        )
    }
}
