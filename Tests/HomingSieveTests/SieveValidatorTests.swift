import Foundation
import Testing

@testable import HomingSieve

private func compileError(_ source: String) -> SieveError? {
    do {
        _ = try SieveCompiledScript.compile(source)
        return nil
    } catch {
        return error
    }
}

private func message(_ source: String) -> String? {
    compileError(source)?.description
}

@Suite("Sieve validator")
struct SieveValidatorTests {
    /// RFC 5228 section 9, the extended example.
    static let rfcExtendedExample = """
        #
        # Example Sieve Filter
        # Declare any optional features or extension used by the script
        #
        require ["fileinto"];

        #
        # Handle messages from known mailing lists
        # Move messages from IETF filter discussion list to filter mailbox
        #
        if header :is "Sender" "owner-ietf-mta-filters@imc.org"
                {
                fileinto "filter";  # move to "filter" mailbox
                }
        #
        # Keep all messages to or from people in my company
        #
        elsif address :DOMAIN :is ["From", "To"] "example.com"
                {
                keep;               # keep in "In" mailbox
                }

        #
        # Try and catch unsolicited email.  If a message is not to me,
        # or it contains a subject known to be spam, file it away.
        #
        elsif anyof (NOT address :all :contains
                       ["To", "Cc", "Bcc"] "me@example.com",
                     header :matches "subject"
                       ["*make*money*fast*", "*university*dipl*mas*"])
                {
                fileinto "spam";   # move to "spam" mailbox
                }
        else
                {
                # Move all other (non-company) mail to "personal"
                # mailbox.
                fileinto "personal";
                }

        """

    @Test("the RFC 5228 section 9 example compiles with the expected structure")
    func rfcExample() throws {
        let compiled = try SieveCompiledScript.compile(
            Self.rfcExtendedExample.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(compiled.extensions == [.fileinto])
        #expect(compiled.script.commands.map(\.name) == ["require", "if", "elsif", "elsif", "else"])
        let elsif = compiled.script.commands[2]
        #expect(elsif.location == SieveSourceLocation(line: 18, column: 1))
        let values: [SieveArgument.Value] = elsif.tests.tests.first?.arguments.map(\.value) ?? []
        let expected: [SieveArgument.Value] = [
            .tag("domain"), .tag("is"), .stringList(["From", "To"]), .string("example.com"),
        ]
        #expect(values == expected)
        #expect(
            compiled.script.commands[3].tests.tests.first?.tests.tests.map(\.name) == ["not", "header"])
        #expect(compiled.script.commands[4].block?.first?.arguments.first?.value == .string("personal"))
    }

    @Test("the smaller examples of RFC 5228 compile")
    func rfcSnippets() throws {
        let scripts = [
            "if size :over 100k { # this is a comment\n    discard;\n}",
            "if size :over 100K { /* this is a comment\n    this is still a comment */ discard /* this is a comment\n    */ ;\n}",
            "require \"fileinto\";\nif header :contains \"from\" \"coyote\" {\n  fileinto \"INBOX.harassment\";\n}",
            "if header :contains [\"From\", \"To\"] \"boss@example.com\" {\n  keep;\n}",
            "if address :is :all \"from\" \"tim@example.com\" {\n  discard;\n}",
            "require \"envelope\";\nif envelope :all :is \"from\" \"tim@example.com\" {\n  discard;\n}",
            "if not exists [\"From\",\"Date\"] {\n  discard;\n}",
            "if allof (header :contains \"From\" \"Cream\", header :contains \"Subject\" \"$$$\") { discard; }",
            "if anyof (false, true) { stop; } elsif true { keep; } else { redirect \"bart@example.com\"; }",
            "if header :comparator \"i;octet\" :matches \"Subject\" \"MAKE MONEY FAST\" { discard; }",
            "require [\"fileinto\", \"reject\", \"copy\", \"comparator-i;ascii-numeric\"];\nfileinto :copy \"a\"; reject text:\nNo.\n..\n.\n;",
            "if size :under 1M { keep; }",
            "require \"comparator-i;ascii-numeric\";\nif header :comparator \"i;ascii-numeric\" :is \"X-Spam-Score\" \"5\" { discard; }",
            "require [\"relational\"];\nif header :value \"gt\" :comparator \"i;ascii-casemap\" \"x\" \"5\" { keep; }",
            "require \"subaddress\";\nif address :detail \"to\" \"spam\" { discard; }",
            "require [\"vacation\"];\nvacation :days 7 \"Away\";",
        ]
        for script in scripts {
            #expect(throws: Never.self, "\(script)") { try SieveCompiledScript.compile(script) }
        }
    }

    @Test("require must come first and name known extensions")
    func requireRules() {
        #expect(
            message("require \"fileinto\";\nrequire [\"body\",\n \"nonsense\"];")
                == "line 2: error: require command: unknown Sieve capability `nonsense'.")
        #expect(compileError("require \"x\";")?.kind == .unknownExtension)
        #expect(
            message("keep;\nrequire \"fileinto\";")
                == "line 2: error: require commands can only be placed at top level at the beginning of the file."
        )
        #expect(
            message("if true {\n require \"fileinto\";\n}")
                == "line 2: error: require commands can only be placed at top level at the beginning of the file."
        )
        #expect(
            message("require 1;")
                == "line 1: error: the require command expects a string list as argument 1 (capabilities), but a number was found."
        )
        #expect(
            message("require;")
                == "line 1: error: the require command requires 1 positional argument(s), but 0 is/are specified."
        )
        #expect(
            message("require \"Fileinto\";")
                == "line 1: error: require command: unknown Sieve capability `Fileinto'.")
    }

    @Test("every extension of the issue is known to require")
    func extensionTable() throws {
        let names = SieveExtension.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        let compiled = try SieveCompiledScript.compile("require [\(names)];")
        #expect(compiled.extensions.count == 30)
        #expect(compiled.extensions == Set(SieveExtension.allCases))
    }

    @Test("extension commands and tests need their require")
    func extensionsNeedRequire() {
        #expect(
            message("keep;\nfileinto \"x\";")
                == "line 2: error: unknown command 'fileinto' (only available after require :fileinto).")
        #expect(
            message("reject \"no\";")
                == "line 1: error: unknown command 'reject' (only available after require :reject).")
        #expect(
            message("ereject \"no\";")
                == "line 1: error: unknown command 'ereject' (only available after require :ereject).")
        #expect(
            message("vacation \"x\";")
                == "line 1: error: unknown command 'vacation' (only available after require :vacation).")
        #expect(
            message("set \"a\" \"b\";")
                == "line 1: error: unknown command 'set' (only available after require :variables).")
        #expect(
            message("if envelope \"from\" \"x\" {}")
                == "line 1: error: unknown test 'envelope' (only available after require :envelope).")
        #expect(
            message("if body :contains \"x\" {}")
                == "line 1: error: unknown test 'body' (only available after require :body).")
        #expect(
            message("redirect :copy \"a@b\";")
                == "line 1: error: unknown tagged argument ':copy' for the redirect command (only available after require :copy)."
        )
        #expect(
            message("require \"fileinto\"; fileinto :create \"a\";")
                == "line 1: error: unknown tagged argument ':create' for the fileinto command (only available after require :mailbox)."
        )
        #expect(
            message("if header :comparator \"i;ascii-numeric\" \"a\" \"1\" {}")
                == "line 1: error: unknown comparator 'i;ascii-numeric' (only available after require :comparator-i;ascii-numeric)."
        )
        #expect(
            message("if address :user \"to\" \"x\" {}")
                == "line 1: error: unknown tagged argument ':user' for the address test (only available after require :subaddress)."
        )
        #expect(
            message("if header :count \"eq\" \"to\" \"1\" {}")
                == "line 1: error: unknown tagged argument ':count' for the header test (only available after require :relational)."
        )
        #expect(
            message("if header :regex \"to\" \"1\" {}")
                == "line 1: error: unknown tagged argument ':regex' for the header test (only available after require :regex)."
        )
    }

    @Test("unknown commands and tests are reported by name")
    func unknownNames() {
        #expect(message("frobnicate;") == "line 1: error: unknown command 'frobnicate' (only reported once at first occurrence).")
        #expect(message("if frob {}") == "line 1: error: unknown test 'frob' (only reported once at first occurrence).")
        #expect(message("true;") == "line 1: error: attempted to use test 'true' as command.")
        #expect(message("if keep {}") == "line 1: error: attempted to use command 'keep' as test.")
        #expect(compileError("frob;")?.kind == .unknownCommand)
    }

    @Test("control commands have their structure checked")
    func control() {
        #expect(
            message("keep;\nelse { keep; }")
                == "line 2: error: the else command must follow an if or elsif command.")
        #expect(
            message("elsif true { keep; }")
                == "line 1: error: the elsif command must follow an if or elsif command.")
        #expect(
            message("if true { keep; }\nkeep;\nelse { keep; }")
                == "line 3: error: the else command must follow an if or elsif command.")
        #expect(message("if true;") == "line 1: error: the if command requires a command block, but it is missing.")
        #expect(message("if { keep; }") == "line 1: error: the if command requires one sub-test, but none is specified.")
        #expect(
            message("if (true) { keep; }")
                == "line 1: error: the if command requires one sub-test, but a list of tests is specified.")
        #expect(
            message("if true { } else true { }")
                == "line 1: error: the else command accepts no sub-tests, but tests are specified.")
        #expect(message("keep { }") == "line 1: error: the keep command does not accept a command block, but one is specified anyway.")
        #expect(message("stop true;") == "line 1: error: the stop command accepts no sub-tests, but tests are specified.")
        #expect(
            message("discard \"x\";")
                == "line 1: error: the discard command requires 0 positional argument(s), but 1 is/are specified.")
        #expect(message("if true { stop; }") == nil)
    }

    @Test("action arguments are checked for count and type")
    func actions() {
        #expect(
            message("redirect;")
                == "line 1: error: the redirect command requires 1 positional argument(s), but 0 is/are specified."
        )
        #expect(
            message("redirect \"a\" \"b\";")
                == "line 1: error: the redirect command requires 1 positional argument(s), but 2 is/are specified."
        )
        #expect(
            message("require \"fileinto\";\nfileinto [\"a\"];")
                == "line 2: error: the fileinto command expects a string as argument 1 (folder), but a string list was found."
        )
        #expect(
            message("redirect 5;")
                == "line 1: error: the redirect command expects a string as argument 1 (address), but a number was found."
        )
        #expect(
            message("keep :copy;")
                == "line 1: error: unknown tagged argument ':copy' for the keep command (reported only once at first occurrence).")
        #expect(
            message("require \"reject\";\nreject;")
                == "line 2: error: the reject command requires 1 positional argument(s), but 0 is/are specified."
        )
    }

    @Test("test arguments are checked for tags, count and type")
    func tests() {
        #expect(
            message("if header \"a\" {}")
                == "line 1: error: the header test requires 2 positional argument(s), but 1 is/are specified."
        )
        #expect(
            message("if header :is :contains \"a\" \"b\" {}")
                == "line 1: error: encountered duplicate match type argument (:contains) for the header test."
        )
        #expect(
            message("if address :all :domain \"a\" \"b\" {}")
                == "line 1: error: encountered duplicate address part argument (:domain) for the address test."
        )
        #expect(
            message("if header :is :is \"a\" \"b\" {}")
                == "line 1: error: encountered duplicate :is argument for the header test."
        )
        #expect(
            message("if header :comparator \"i;foo\" \"a\" \"b\" {}")
                == "line 1: error: unknown comparator 'i;foo'.")
        #expect(
            message("if header :comparator \"a\" \"b\" {}")
                == "line 1: error: unknown comparator 'a'.")
        #expect(
            message("if header :comparator {}")
                == "line 1: error: the :comparator tag for the header test requires a string as parameter, but no parameters were found."
        )
        #expect(
            message("if header :comparator 5 \"a\" \"b\" {}")
                == "line 1: error: the :comparator tag for the header test requires a string as parameter, but a number was found."
        )
        #expect(
            message("if header \"a\" :is \"b\" {}")
                == "line 1: error: encountered an unexpected tagged argument ':is' while validating positional arguments for the header test."
        )
        #expect(
            message("if header :over \"a\" \"b\" {}")
                == "line 1: error: unknown tagged argument ':over' for the header test (reported only once at first occurrence).")
        #expect(
            message("if size 100 {}")
                == "line 1: error: the size test requires one of the tags :over or :under.")
        #expect(
            message("if size :over :under 1 {}")
                == "line 1: error: encountered duplicate size argument (:under) for the size test.")
        #expect(
            message("if size :over \"1\" {}")
                == "line 1: error: the size test expects a number as argument 1 (limit), but a string was found."
        )
        #expect(
            message("if exists 1 {}")
                == "line 1: error: the exists test expects a string list as argument 1 (header names), but a number was found."
        )
        #expect(
            message("if not (true) {}")
                == "line 1: error: the not test requires one sub-test, but a list of tests is specified.")
        #expect(
            message("if allof true {}")
                == "line 1: error: the allof test requires a list of sub-tests, but a single test is specified.")
        #expect(
            message("if anyof {}") == "line 1: error: the anyof test requires a list of sub-tests, but none is specified.")
        #expect(message("if true false {}") == "line 1: error: the true test accepts no sub-tests, but tests are specified.")
        #expect(
            message("if true 1 {}")
                == "line 1: error: the true test requires 0 positional argument(s), but 1 is/are specified.")
        #expect(
            message("require \"relational\";\nif header :value \"xx\" \"a\" \"b\" {}")
                == "line 2: error: invalid relational operator 'xx' for the :value match type of the header test (expected gt, ge, lt, le, eq or ne)."
        )
        #expect(
            message("if anyof (false, header \"a\") {}")
                == "line 1: error: the header test requires 2 positional argument(s), but 1 is/are specified."
        )
    }

    @Test("the numeric comparator refuses substring match types")
    func numericComparator() {
        let prefix = "require \"comparator-i;ascii-numeric\";\n"
        #expect(
            message(prefix + "if header :comparator \"i;ascii-numeric\" :contains \"a\" \"1\" {}")
                == "line 2: error: the specified i;ascii-numeric comparator does not support sub-string matching as required by the :contains match type."
        )
        #expect(
            message(prefix + "if header :matches :comparator \"i;ascii-numeric\" \"a\" \"1\" {}")
                == "line 2: error: the specified i;ascii-numeric comparator does not support sub-string matching as required by the :matches match type."
        )
        #expect(
            message(prefix + "if address :comparator \"i;ascii-numeric\" :is \"a\" \"1\" {}") == nil)
    }

    @Test("errors carry the column of the offending element")
    func columns() {
        #expect(
            compileError("if true {\n    frob;\n}")?.location == SieveSourceLocation(line: 2, column: 5))
        #expect(
            compileError("require [\"fileinto\", \"x\"];")?.location
                == SieveSourceLocation(line: 1, column: 9))
    }
}
