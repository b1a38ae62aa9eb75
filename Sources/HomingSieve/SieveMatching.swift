// The match types of RFC 5228 section 2.7.1, relational matching (RFC 5231) and :regex
// (draft-ietf-sieve-regex), with the work each match does charged to a budget.

/// A match type.
public enum SieveMatchType: Sendable, Hashable {
    case `is`
    case contains
    case matches
    case regex
    /// `:value "op"` (relational).
    case value(SieveRelation)
    /// `:count "op"` (relational): compares the number of values, see `SieveMatcher.matchCount`.
    case count(SieveRelation)
}

/// Counts the work a script does so that no script can hang a delivery.
///
/// A value owned by one run and passed `inout` to the matchers, so it needs no lock.
public struct SieveWorkBudget: Sendable, Hashable {
    /// What is left.
    public private(set) var remaining: Int

    /// Creates a budget of `limit` units.
    public init(limit: Int) {
        self.remaining = limit
    }

    /// Spends `units`; throws once the budget is exhausted.
    public mutating func spend(_ units: Int) throws(SieveMatchError) {
        remaining -= units
        if remaining < 0 { throw SieveMatchError("the script exceeded its work limit") }
    }
}

/// A match that cannot be carried out (bad regex at run time, work limit exceeded).
public struct SieveMatchError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for people.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The matching engine shared by every test that takes a match type and comparator.
///
/// Work is charged to the budget at one unit per `stepsPerWorkUnit` character steps (plus one
/// unit per match), so a budget of 2,000,000 units allows about 32 million character steps.
public enum SieveMatcher {
    /// How many character comparisons one unit of `SieveWorkBudget` pays for.
    public static let stepsPerWorkUnit = 16

    /// The longest value (in UTF-8 octets) looked at when no limit is given; longer values are
    /// cut at a character boundary (`SieveRuntimeSettings.maxMatchSubjectSize` by default).
    public static let defaultMaxSubjectOctets = 1 << 20

    /// Matches `value` against `key`. Returns `nil` when it does not match; otherwise the
    /// match variables (`${0}` the whole value, then one per `*`/`?` for `:matches`, or per
    /// group for `:regex`; empty for the other types).
    public static func match(
        _ value: String, key: String, type: SieveMatchType, comparator: SieveComparator,
        budget: inout SieveWorkBudget
    ) throws(SieveMatchError) -> [String]? {
        try match(
            value, key: key, type: type, comparator: comparator, budget: &budget,
            maxSubjectOctets: defaultMaxSubjectOctets)
    }

    /// Matches `value` against `key`, looking at no more than `maxSubjectOctets` octets of
    /// `value`. Throws when the budget runs out, when the comparator does not support the
    /// match type, or for a regular expression that does not compile.
    public static func match(
        _ value: String, key: String, type: SieveMatchType, comparator: SieveComparator,
        budget: inout SieveWorkBudget, maxSubjectOctets: Int
    ) throws(SieveMatchError) -> [String]? {
        try budget.spend(1)
        guard comparator.supports(type) else {
            throw SieveMatchError(
                "the \(comparator.rawValue) comparator cannot be used with the \(type.tagName) match type")
        }
        let subject = truncated(value, toOctets: maxSubjectOctets)
        switch type {
        case .is:
            if comparator == .asciiNumeric {
                return SieveComparator.compareNumbers(subject, key) == 0 ? [] : nil
            }
            try budget.spend(subject.utf8.count / stepsPerWorkUnit)
            return comparator.fold(Array(subject.utf8)) == comparator.fold(Array(key.utf8)) ? [] : nil
        case .contains:
            return try contains(subject, key, comparator: comparator, budget: &budget) ? [] : nil
        case .matches:
            return try SieveWildcardMatcher.match(subject, pattern: key, comparator: comparator, budget: &budget)
        case .regex:
            return try SieveRegexMatcher.match(subject, pattern: key, comparator: comparator, budget: &budget)
        case .value(let relation):
            try budget.spend(subject.utf8.count / stepsPerWorkUnit)
            return relation.holds(forOrdering: comparator.compare(subject, key)) ? [] : nil
        case .count:
            // A count is compared by the caller through `matchCount`; a single value counts 1.
            return nil
        }
    }

    /// `:count "op"`: compares `count` (the number of values) with `key` under `comparator`
    /// (RFC 5231: the count as a decimal string).
    public static func matchCount(
        _ count: Int, key: String, relation: SieveRelation, comparator: SieveComparator
    ) -> Bool {
        relation.holds(forOrdering: comparator.compare(String(count), key))
    }

    /// Whether `pattern` is a valid regular expression for `:regex` (checked at compile time):
    /// `nil` when it is, otherwise the reason (syntax error, back-reference, too complex).
    public static func validateRegex(_ pattern: String, comparator: SieveComparator) -> SieveMatchError? {
        SieveRegexMatcher.validate(pattern, comparator: comparator)
    }

    // MARK: - Helpers

    /// `value` cut to at most `limit` UTF-8 octets, at a character boundary.
    static func truncated(_ value: String, toOctets limit: Int) -> String {
        guard value.utf8.count > limit else { return value }
        var end = value.utf8.index(value.utf8.startIndex, offsetBy: max(limit, 0))
        while end > value.utf8.startIndex, end.samePosition(in: value.unicodeScalars) == nil {
            end = value.utf8.index(before: end)
        }
        return String(value.utf8[..<end]) ?? ""
    }

    /// `:contains`: whether `key` occurs in `value` (Knuth-Morris-Pratt over the folded octets,
    /// so the work is linear whatever the input).
    static func contains(
        _ value: String, _ key: String, comparator: SieveComparator, budget: inout SieveWorkBudget
    ) throws(SieveMatchError) -> Bool {
        let needle = comparator.fold(Array(key.utf8))
        if needle.isEmpty { return true }
        let haystack = comparator.fold(Array(value.utf8))
        if needle.count > haystack.count { return false }
        var failure = [Int](repeating: 0, count: needle.count)
        var length = 0
        for index in 1..<max(needle.count, 1) {
            while length > 0 && needle[index] != needle[length] { length = failure[length - 1] }
            if needle[index] == needle[length] { length += 1 }
            failure[index] = length
        }
        try budget.spend(needle.count / stepsPerWorkUnit)
        var matched = 0
        var steps = 0
        for byte in haystack {
            while matched > 0 && byte != needle[matched] {
                matched = failure[matched - 1]
                steps += 1
            }
            if byte == needle[matched] { matched += 1 }
            if matched == needle.count { return true }
            steps += 1
            if steps >= 4096 * stepsPerWorkUnit {
                try budget.spend(steps / stepsPerWorkUnit)
                steps = 0
            }
        }
        try budget.spend(steps / stepsPerWorkUnit)
        return false
    }
}

extension SieveMatchType {
    /// The tag as written in a script (`:is`, `:value`...), for messages.
    public var tagName: String {
        switch self {
        case .is: return ":is"
        case .contains: return ":contains"
        case .matches: return ":matches"
        case .regex: return ":regex"
        case .value: return ":value"
        case .count: return ":count"
        }
    }
}
