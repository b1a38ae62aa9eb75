import Foundation
import Testing

@testable import HomingSieve

/// draft-ietf-sieve-regex: `:regex` with match variables, `:quoteregex`, compile errors.
@Suite("Conformance: regex (draft-ietf-sieve-regex)")
struct ConformanceRegexTests {
    @Test("draft section 3 example: a regex over From addresses files into Friends")
    func friends() throws {
        let script = """
            require ["regex", "fileinto"];
            if address :regex :comparator "i;ascii-casemap" "from" [
                "stephan(\\\\+.*)?@it\\\\.example\\\\.com",
                "stephan(\\\\+.*)?@friep\\\\.example\\\\.com"
                ] {
              fileinto "Friends";
            }
            """
        #expect(try runSieve(script, message: "From: Stephan+lists@IT.example.com\n\nx") == filedInto("Friends"))
        #expect(try runSieve(script, message: "From: stephan@friep.example.com\n\nx") == filedInto("Friends"))
        #expect(try runSieve(script, message: "From: stephan@friepXexample.com\n\nx") == implicitKeepOnly)
    }

    @Test("captures set ${0} to ${9}; i;octet is case-sensitive, the default comparator is not")
    func captures() throws {
        let script = """
            require ["regex", "variables", "fileinto"];
            if header :regex "List-ID" "<([a-z0-9-]+)\\\\.([a-z.]+)>" { fileinto "lists.${1}.${2}|${0}"; }
            """
        #expect(
            try runSieve(script, message: "List-ID: Sieve list <SIEVE.ietf.org>\n\nx")
                == filedInto("lists.SIEVE.ietf.org|<SIEVE.ietf.org>"))
        let octet = """
            require ["regex", "variables", "fileinto"];
            if header :regex :comparator "i;octet" "subject" "^M(eet)" { fileinto "${1}"; }
            if header :regex :comparator "i;octet" "subject" "^m(eet)" { fileinto "no"; }
            """
        #expect(try runSieve(octet) == filedInto("eet"))
    }

    @Test("an unmatched optional group is empty; a failed regex leaves the match variables")
    func optionalGroups() throws {
        let script = """
            require ["regex", "variables", "fileinto"];
            if header :regex "subject" "(Meeting)( x)?( tomorrow)" { set "a" "[${1}|${2}|${3}]"; }
            if header :regex "subject" "(nothing)" { set "a" "wrong"; }
            fileinto "${a}-${1}";
            """
        #expect(try runSieve(script) == filedInto("[Meeting|| tomorrow]-Meeting"))
    }

    @Test(":quoteregex makes a variable safe to use in a pattern")
    func quoteregex() throws {
        let script = """
            require ["regex", "variables", "fileinto"];
            set :quoteregex "q" "a.b*c[d]{1}(e)|f+g?h^$\\\\";
            fileinto "${q}";
            """
        #expect(try runSieve(script) == filedInto("a\\.b\\*c\\[d\\]\\{1\\}\\(e\\)\\|f\\+g\\?h\\^\\$\\\\"))
        let matching = """
            require ["regex", "variables"];
            set :quoteregex "domain" "example.org";
            if header :regex "from" "@${domain}>$" { discard; }
            """
        #expect(try runSieve(matching).implicitKeep == false)
        #expect(try runSieve(matching, message: "From: a <x@exampleXorg>\n\nx").implicitKeep)
    }

    @Test("a pattern from a variable that does not compile is a runtime error")
    func runtimeBadPattern() throws {
        let error = try runtimeError(
            "require [\"regex\", \"variables\"];\nset \"p\" \"a(b\";\n\nif header :regex \"subject\" \"${p}\" { discard; }"
        )
        #expect(error?.location.line == 4)
        #expect(error != nil)
    }

    @Test("regex errors: extension, a pattern that does not compile, a back-reference, :quoteregex without regex")
    func compileErrors() throws {
        #expect(
            compileErrorText("if header :regex \"subject\" \"a\" { keep; }")
                == "line 1: error: unknown tagged argument ':regex' for the header test (only available after require :regex)."
        )
        let unbalanced = try #require(
            scriptCompileError("require \"regex\";\n\nif header :regex \"subject\" \"a(b\" { keep; }"))
        #expect(unbalanced.location.line == 3)
        #expect(unbalanced.kind == .invalidValue)
        #expect(unbalanced.message.hasPrefix("invalid regular expression 'a(b' for regex match: "))
        let backReference = try #require(
            scriptCompileError("require \"regex\";\nif header :regex \"subject\" \"(a)\\\\1\" { keep; }"))
        #expect(backReference.message.hasPrefix("invalid regular expression '(a)\\1' for regex match: "))
        #expect(
            compileErrorText("require \"variables\";\nset :quoteregex \"a\" \"b\";")
                == "line 2: error: unknown tagged argument ':quoteregex' for the set command (only available after require :regex)."
        )
        #expect(
            compileErrorText(
                "require \"regex\";\nif header :regex :comparator \"i;ascii-numeric\" \"subject\" \"a\" { keep; }")
                == "line 2: error: unknown comparator 'i;ascii-numeric' (only available after require :comparator-i;ascii-numeric)."
        )
    }
}
