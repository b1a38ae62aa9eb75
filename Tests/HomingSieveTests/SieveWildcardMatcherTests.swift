import Testing

@testable import HomingSieve

@Suite(":matches wildcards and match variables")
struct SieveWildcardMatcherTests {
    private func match(
        _ value: String, _ pattern: String, _ comparator: SieveComparator = .asciiCasemap, limit: Int = 1_000_000
    ) throws -> [String]? {
        try SieveMatcher.match(
            value, key: pattern, type: .matches, comparator: comparator, limit: limit)
    }

    @Test("RFC 5228 2.7.1: * matches any sequence, ? one character, the whole value must match")
    func basics() throws {
        #expect(try match("frobnitzm", "frob*") == ["frobnitzm", "nitzm"])
        #expect(try match("frobnitzm", "frob") == nil)
        #expect(try match("frob", "frob?") == nil)
        #expect(try match("frobs", "frob?") == ["frobs", "s"])
        #expect(try match("", "*") == ["", ""])
        #expect(try match("", "?") == nil)
        #expect(try match("Subject: MAKE MONEY FAST", "*money*") == ["Subject: MAKE MONEY FAST", "Subject: MAKE ", " FAST"])
        #expect(try match("MONEY", "*money*", .octet) == nil)
    }

    @Test("a backslash makes the next character literal")
    func escapes() throws {
        #expect(try match("a*b", "a\\*b") == ["a*b"])
        #expect(try match("axb", "a\\*b") == nil)
        #expect(try match("what?", "*\\?") == ["what?", "what"])
        #expect(try match("what!", "*\\?") == nil)
        #expect(try match("a\\b", "a\\\\b") == ["a\\b"])
        #expect(try match("a\\", "a\\") == ["a\\"])
    }

    @Test("? matches one Unicode character, not one octet")
    func unicodeCharacter() throws {
        #expect(try match("caf\u{E9}", "caf?") == ["caf\u{E9}", "\u{E9}"])
        #expect(try match("\u{1F600}x", "??") == ["\u{1F600}x", "\u{1F600}", "x"])
        #expect(try match("\u{1F600}", "??") == nil)
    }

    @Test("RFC 5229 3.2: each * takes as little as it can, left to right")
    func rfc5229Examples() throws {
        #expect(
            try match("[acme-users] [fwd] version 1.0 is out", "[*] *")
                == ["[acme-users] [fwd] version 1.0 is out", "acme-users", "[fwd] version 1.0 is out"])
        #expect(
            try match("coyote@ACME.Example.COM", "coyote@**.com")
                == ["coyote@ACME.Example.COM", "", "ACME.Example"])
        #expect(
            try match("Wile E. Coyote <coyote@example.org>", "*<*@*")
                == ["Wile E. Coyote <coyote@example.org>", "Wile E. Coyote ", "coyote", "example.org>"])
    }

    @Test("captures keep the value's own case under i;ascii-casemap")
    func capturesKeepCase() throws {
        #expect(try match("Hello World", "h?LLO *") == ["Hello World", "e", "World"])
    }

    @Test("wildcards in sequence: ? and * captures are in pattern order")
    func mixedCaptures() throws {
        #expect(try match("abcde", "?*?") == ["abcde", "a", "bcd", "e"])
        #expect(try match("abcde", "*?*") == ["abcde", "", "a", "bcde"])
        #expect(try match("aXbXc", "*X*") == ["aXbXc", "a", "bXc"])
        #expect(try match("abc", "a*b*c*") == ["abc", "", "", ""])
    }

    @Test("*a*a*a*a*b against a long value is answered quickly")
    func linearCase() throws {
        let value = String(repeating: "a", count: 100_000)
        var budget = SieveWorkBudget(limit: 1_000_000)
        #expect(try SieveMatcher.match(value, key: "*a*a*a*a*b", type: .matches, comparator: .octet, budget: &budget) == nil)
        #expect(budget.remaining > 1_000_000 - 20_000)
    }

    @Test("a pattern with quadratic work ends with budget exhaustion, not a hang")
    func pathologicalPattern() {
        let value = String(repeating: "a", count: 200_000)
        let pattern = "*" + String(repeating: "a", count: 1000) + "b"
        #expect(throws: SieveMatchError("the script exceeded its work limit")) {
            try match(value, pattern, .octet, limit: 100_000)
        }
    }
}
