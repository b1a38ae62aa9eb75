import Testing

@testable import HomingSieve

@Suite("Match types :is, :contains, :value, :count")
struct SieveMatchingTests {
    private func match(
        _ value: String, _ key: String, _ type: SieveMatchType, _ comparator: SieveComparator = .asciiCasemap
    ) throws -> [String]? {
        try SieveMatcher.match(value, key: key, type: type, comparator: comparator, limit: 1_000_000)
    }

    @Test(":is compares whole values under the comparator")
    func isMatch() throws {
        #expect(try match("Frobnitz", "frobnitz", .is) == [])
        #expect(try match("Frobnitz", "frobnitz", .is, .octet) == nil)
        #expect(try match("Frobnitz", "Frob", .is) == nil)
        #expect(try match("0042", "42", .is, .asciiNumeric) == [])
        // Canonically equivalent but different octets are not equal.
        #expect(try match("e\u{301}", "\u{E9}", .is, .octet) == nil)
    }

    @Test(":contains finds substrings; the empty key is in every value")
    func containsMatch() throws {
        #expect(try match("Make MONEY fast", "money", .contains) == [])
        #expect(try match("Make MONEY fast", "money", .contains, .octet) == nil)
        #expect(try match("anything", "", .contains) == [])
        #expect(try match("", "a", .contains) == nil)
        #expect(try match("aaaaaaaaab", "aaab", .contains) == [])
        #expect(try match("abababac", "ababac", .contains) == [])
        #expect(try match("abababab", "ababac", .contains) == nil)
    }

    @Test(":contains with i;ascii-numeric is refused")
    func containsNumeric() {
        #expect(throws: SieveMatchError.self) { try match("12", "1", .contains, .asciiNumeric) }
    }

    @Test(":value compares the value against the key (RFC 5231)")
    func valueMatch() throws {
        #expect(try match("qux@example.com", "M", .value(.gt)) == [])
        #expect(try match("foo@example.com", "M", .value(.gt)) == nil)
        #expect(try match("10", "9", .value(.gt), .asciiNumeric) == [])
        #expect(try match("10", "9", .value(.gt), .octet) == nil)
        #expect(try match("abc", "9", .value(.gt), .asciiNumeric) == [])
        #expect(try match("5", "5", .value(.ge), .asciiNumeric) == [])
        #expect(try match("5", "5", .value(.ne), .asciiNumeric) == nil)
        #expect(try match("B", "b", .value(.eq)) == [])
        #expect(try match("a", "b", .value(.le)) == [])
        #expect(try match("a", "b", .value(.lt), .octet) == [])
    }

    @Test(":count compares the number of values as a decimal string (RFC 5231 examples)")
    func countMatch() {
        // address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] ["3"] with three addresses.
        #expect(SieveMatcher.matchCount(3, key: "3", relation: .ge, comparator: .asciiNumeric))
        // ... but "to" alone has two and "cc" one.
        #expect(SieveMatcher.matchCount(2, key: "3", relation: .ge, comparator: .asciiNumeric) == false)
        #expect(SieveMatcher.matchCount(1, key: "3", relation: .ge, comparator: .asciiNumeric) == false)
        #expect(SieveMatcher.matchCount(0, key: "0", relation: .eq, comparator: .asciiNumeric))
        // With a string comparator, "10" sorts before "9".
        #expect(SieveMatcher.matchCount(10, key: "9", relation: .lt, comparator: .asciiCasemap))
        #expect(SieveMatcher.matchCount(10, key: "9", relation: .gt, comparator: .asciiNumeric))
    }

    @Test("values longer than the subject limit are cut at a character boundary")
    func subjectLimit() throws {
        var budget = SieveWorkBudget(limit: 1000)
        let value = "ab\u{E9}cd"  // é is two octets, at offsets 2-3
        #expect(
            try SieveMatcher.match(
                value, key: "ab", type: .is, comparator: .octet, budget: &budget, maxSubjectOctets: 3) == [])
        #expect(
            try SieveMatcher.match(
                value, key: "ab\u{E9}", type: .is, comparator: .octet, budget: &budget, maxSubjectOctets: 4) == [])
    }

    @Test("every match spends from the budget and fails once it is exhausted")
    func budgetExhaustion() throws {
        var budget = SieveWorkBudget(limit: 2)
        _ = try SieveMatcher.match("a", key: "a", type: .is, comparator: .octet, budget: &budget)
        _ = try SieveMatcher.match("a", key: "a", type: .is, comparator: .octet, budget: &budget)
        #expect(budget.remaining == 0)
        #expect(throws: SieveMatchError("the script exceeded its work limit")) {
            try SieveMatcher.match("a", key: "a", type: .is, comparator: .octet, budget: &budget)
        }
    }

    @Test(":contains over a long value is charged in proportion to its length")
    func containsCharge() throws {
        var budget = SieveWorkBudget(limit: 1_000_000)
        let value = String(repeating: "x", count: 160_000)
        #expect(try SieveMatcher.match(value, key: "y", type: .contains, comparator: .octet, budget: &budget) == nil)
        let spent = 1_000_000 - budget.remaining
        #expect(spent >= 10_000 && spent <= 10_100)
    }
}

extension SieveMatcher {
    /// `match` with a fresh budget of `limit` units (for tests that do not look at the budget).
    static func match(
        _ value: String, key: String, type: SieveMatchType, comparator: SieveComparator, limit: Int
    ) throws(SieveMatchError) -> [String]? {
        var budget = SieveWorkBudget(limit: limit)
        return try match(value, key: key, type: type, comparator: comparator, budget: &budget)
    }
}
