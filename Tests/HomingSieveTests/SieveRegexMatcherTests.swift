import Testing

@testable import HomingSieve

@Suite(":regex (draft-ietf-sieve-regex)")
struct SieveRegexMatcherTests {
    private func match(_ value: String, _ pattern: String, _ comparator: SieveComparator = .asciiCasemap) throws
        -> [String]?
    {
        try SieveMatcher.match(
            value, key: pattern, type: .regex, comparator: comparator, limit: 1_000_000)
    }

    @Test("a POSIX extended expression sets ${0} to the matched text and ${1}.. to the groups")
    func captures() throws {
        #expect(
            try match("[acme-users] version 1.0", "^\\[([a-z-]+)\\] (.*)$")
                == ["[acme-users] version 1.0", "acme-users", "version 1.0"])
        #expect(try match("Re: hello", "h(e)(x)?llo") == ["hello", "e", ""])
        #expect(try match("no match here", "^x") == nil)
        #expect(try match("anything", "") == [""])
    }

    @Test("i;ascii-casemap ignores case, i;octet does not")
    func caseHandling() throws {
        #expect(try match("SPAM offer", "^spam") == ["SPAM"])
        #expect(try match("SPAM offer", "^spam", .octet) == nil)
    }

    @Test("at most ${0} to ${9} are returned")
    func nineGroups() throws {
        let result = try match("abcdefghijk", "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)")
        #expect(result == ["abcdefghijk", "a", "b", "c", "d", "e", "f", "g", "h", "i"])
    }

    @Test("values with a NUL octet are matched whole")
    func embeddedNul() throws {
        #expect(try match("a\u{0}b", "b$") == ["b"])
    }

    @Test("validation reports syntax errors, back-references and excessive repetition")
    func validation() {
        #expect(SieveMatcher.validateRegex("^[a-z]+@example\\.(com|org)$", comparator: .asciiCasemap) == nil)
        #expect(SieveMatcher.validateRegex("a{255}", comparator: .octet) == nil)
        #expect(SieveMatcher.validateRegex("[]{}]", comparator: .octet) == nil)
        #expect(SieveMatcher.validateRegex("(", comparator: .octet)?.message == "unmatched ( or \\(")
        #expect(SieveMatcher.validateRegex("a[b", comparator: .octet)?.message == "unmatched [, [^, [:, [., or [=")
        #expect(SieveMatcher.validateRegex("(a)\\1", comparator: .octet)?.message == "back-references are not supported")
        #expect(SieveMatcher.validateRegex("a{256}", comparator: .octet)?.message == "repetition count 256 exceeds 255")
        #expect(
            SieveMatcher.validateRegex("((a{100}){101})", comparator: .octet)?.message
                == "the expression is too complex (more than 10000 elements once repetitions are expanded)")
        #expect(SieveMatcher.validateRegex("a", comparator: .asciiNumeric) != nil)
    }

    @Test("stacked + count as doubled atoms, so a++++... is refused instead of exhausting memory (fuzz-sieve-compile hang)")
    func stackedPlus() throws {
        #expect(SieveMatcher.validateRegex("stan(\\+.*)?@it\\.example\\.com", comparator: .asciiCasemap) == nil)
        #expect(SieveMatcher.validateRegex("((a+)+b+)+", comparator: .octet) == nil)
        #expect(try match("xaaab", "((a+)+b+)+")?.first == "aaab")
        let stacked = "R" + String(repeating: "+", count: 34)
        #expect(
            SieveMatcher.validateRegex(stacked, comparator: .octet)?.message
                == "the expression is too complex (more than 10000 elements once repetitions are expanded)")
        #expect(SieveMatcher.validateRegex("(a{100})+", comparator: .octet) == nil)
        #expect(SieveMatcher.validateRegex("((a{100})+){60}", comparator: .octet) != nil)
    }

    @Test("a bad expression at run time is an error naming it")
    func runtimeError() {
        #expect(throws: SieveMatchError("invalid regular expression '(' for regex match: unmatched ( or \\(")) {
            try match("x", "(")
        }
    }

    @Test("a failing search over a long value is one linear pass, not a scan from every position")
    func failingSearchIsLinear() throws {
        let value = String(repeating: "ab", count: 500_000)
        var budget = SieveWorkBudget(limit: 1_000_000)
        #expect(try SieveMatcher.match(value, key: "(a|b)*c", type: .regex, comparator: .octet, budget: &budget) == nil)
        #expect(budget.remaining == 1_000_000 - 1 - 62_500)
        #expect(
            try SieveMatcher.match(value + "c", key: "(a|b)*c", type: .regex, comparator: .octet, budget: &budget)?.count
                == 2)
    }

    @Test("alternatives, anchors and a lone ) keep their meaning")
    func probeEquivalence() throws {
        #expect(try match("xyz", "^y|z$") == ["z"])
        #expect(try match("xyz", "^y|^z") == nil)
        #expect(try match("xa)y", "a)") == ["a)"])
        #expect(try match("b)", "a)|b") == ["b"])
    }

    @Test("regex work is charged to the budget")
    func budget() {
        let value = String(repeating: "a", count: 100_000)
        #expect(throws: SieveMatchError("the script exceeded its work limit")) {
            try SieveMatcher.match(
                value, key: "a*b", type: .regex, comparator: .octet, limit: 1000)
        }
    }

    @Test("a late match in a long value is found quickly; its groups come from the first 16 KiB only")
    func lateMatchInLongValue() throws {
        // (a|b)*c after 200 KB of "ab": the C library's leftmost search would be quadratic.
        let value = String(repeating: "ab", count: 100_000) + " c"
        let groups = try SieveMatcher.match(
            value, key: "(a|b)*c", type: .regex, comparator: .octet, limit: 2_000_000)
        #expect(groups == ["", ""])
        let early = try SieveMatcher.match(
            "xyz " + value, key: "(x)y", type: .regex, comparator: .octet, limit: 2_000_000)
        #expect(early == ["xy", "x"])
        let none = try SieveMatcher.match(
            value, key: "q+", type: .regex, comparator: .octet, limit: 2_000_000)
        #expect(none == nil)
    }
}
