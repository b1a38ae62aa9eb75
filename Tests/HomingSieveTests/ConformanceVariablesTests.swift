import Testing

@testable import HomingSieve

/// RFC 5229 variables.
@Suite("Conformance: RFC 5229 variables")
struct ConformanceVariablesTests {
    private func folder(_ script: String, message: String = conformanceMessage) throws -> String? {
        let result = try runSieve("require [\"variables\", \"fileinto\"];\n" + script, message: message)
        guard case .fileInto(let mailbox, _, _, _)? = result.actions.first else { return nil }
        return mailbox
    }

    @Test("set and ${name} expansion; names are case-insensitive; unset variables are empty")
    func setAndExpand() throws {
        #expect(try folder("set \"Folder\" \"Work\";\nfileinto \"${folder}/${unset}x\";") == "Work/x")
    }

    @Test("RFC 5229 section 3 examples: invalid references stay as written, expansion is one pass")
    func examples() throws {
        #expect(try folder("set \"a\" \"${b}\";\nset \"b\" \"x\";\nfileinto \"[${a}]\";") == "[]")
        #expect(try folder("set \"b\" \"x\";\nfileinto \"${\";") == "${")
        #expect(try folder("set \"a\" \"${\";\nfileinto \"${a}{b}\";") == "${{b}")
        #expect(try folder("set \"b\" \"x\";\nfileinto \"${${b}}\";") == "${x}")
        #expect(try folder("fileinto \"${president, ${b}}\";") == "${president, }")
        #expect(try folder("fileinto \"${1a}\";") == "${1a}")
    }

    @Test("RFC 5229 section 4 modifiers with precedence")
    func modifiers() throws {
        #expect(try folder("set :upperfirst \"a\" \"juMBlEd lETteRS\";\nfileinto \"${a}\";") == "JuMBlEd lETteRS")
        #expect(try folder("set :lower :upperfirst \"a\" \"juMBlEd lETteRS\";\nfileinto \"${a}\";") == "Jumbled letters")
        #expect(try folder("set :length \"a\" \"${unknown}ab\";\nfileinto \"${a}\";") == "2")
        #expect(try folder("set :quotewildcard \"a\" \"a*b?c\\\\d\";\nfileinto \"${a}\";") == "a\\*b\\?c\\\\d")
        #expect(try folder("set :upper :length \"a\" \"abc\";\nfileinto \"${a}\";") == "3")
    }

    @Test("match variables come from the last successful :matches")
    func matchVariables() throws {
        let script = """
            if header :matches "Subject" "* *" { fileinto "${1}-${2}-${0}"; }
            """
        #expect(try folder(script) == "Meeting-tomorrow-Meeting tomorrow")
    }

    @Test("RFC 5229 section 3.2 example: List-ID mailing list folder")
    func listIDExample() throws {
        let message = "List-ID: Sieve discussion <sieve.ietf.org>\nSubject: x\n\nbody"
        let script = """
            if header :matches "List-ID" "*<*@*" {
                fileinto "INBOX.lists.${2}"; stop;
            }
            """
        let other = "List-ID: <coyote@example.org>\nSubject: x\n\nbody"
        #expect(try folder(script, message: message) == nil)
        #expect(try folder(script, message: other) == "INBOX.lists.coyote")
    }

    @Test("a failed :matches leaves the match variables unchanged")
    func failedMatchKeepsVariables() throws {
        let script = """
            if header :matches "Subject" "*ing*" {}
            if header :matches "Subject" "nothing*" {}
            fileinto "${1}|${2}|${3}";
            """
        #expect(try folder(script) == "Meet| tomorrow|")
    }

    @Test("RFC 5229 section 5 string test, :count ignores empty strings")
    func stringTest() throws {
        #expect(try folder("set \"a\" \"x\";\nif string :is \"${a}\" \"x\" { fileinto \"yes\"; }") == "yes")
        let count = """
            require ["relational", "comparator-i;ascii-numeric"];
            if string :count "eq" :comparator "i;ascii-numeric" ["a", "", "b"] "2" { fileinto "two"; }
            """
        #expect(try folder(count) == "two")
    }

    @Test("variables are expanded in test arguments too")
    func expandedInTests() throws {
        #expect(try folder("set \"h\" \"subject\";\nif header :contains \"${h}\" \"meet\" { fileinto \"ok\"; }") == "ok")
    }

    @Test("without require variables strings are taken literally")
    func notRequired() throws {
        let result = try runSieve("require \"fileinto\";\nfileinto \"${a}\";")
        #expect(result == filedInto("${a}"))
    }

    @Test("an unknown namespace is a runtime error")
    func unknownNamespace() throws {
        let error = try runtimeError("require [\"variables\", \"fileinto\"];\nfileinto \"${foo.bar}\";")
        #expect(error?.message == "unknown variable namespace 'foo' in variable 'foo.bar'")
    }

    @Test("values are cut at 4096 octets")
    func valueBound() throws {
        let long = String(repeating: "x", count: 5000)
        let value = try folder("set \"a\" \"\(long)\";\nset :length \"n\" \"${a}\";\nfileinto \"${n}\";")
        #expect(value == "4096")
    }
}
