// Comparators (RFC 4790, RFC 5228 section 2.7.3): equality, ordering and the case mapping the
// match types apply before comparing.

/// A comparator (RFC 4790 / RFC 5228 section 2.7.3).
public enum SieveComparator: String, Sendable, Hashable, CaseIterable {
    /// `i;octet`: byte-wise.
    case octet = "i;octet"
    /// `i;ascii-casemap` (the default): ASCII letters compared case-insensitively.
    case asciiCasemap = "i;ascii-casemap"
    /// `i;ascii-numeric` (needs `comparator-i;ascii-numeric`): leading digits as a number.
    case asciiNumeric = "i;ascii-numeric"

    /// Whether this comparator can be used with `matchType`. `i;ascii-numeric` offers equality
    /// and ordering only (RFC 4790 section 9.1), so `:contains`, `:matches` and `:regex` with it
    /// are compile errors.
    public func supports(_ matchType: SieveMatchType) -> Bool {
        switch (self, matchType) {
        case (.asciiNumeric, .contains), (.asciiNumeric, .matches), (.asciiNumeric, .regex): return false
        default: return true
        }
    }

    /// Whether `comparator` can be used with `matchType` (the validator's check).
    public static func supports(_ matchType: SieveMatchType, comparator: SieveComparator) -> Bool {
        comparator.supports(matchType)
    }

    /// The comparator named `name` (`"i;octet"`...), case-insensitively; `nil` if unknown.
    public init?(name: String) {
        self.init(rawValue: name.lowercased())
    }

    /// Whether `a` and `b` are equal under this comparator.
    public func equals(_ a: String, _ b: String) -> Bool {
        compare(a, b) == 0
    }

    /// Orders `a` against `b`: negative when `a` sorts first, 0 when equal, positive otherwise.
    /// `i;octet` compares UTF-8 octets, `i;ascii-casemap` the same after mapping `a`-`z` to
    /// `A`-`Z`, `i;ascii-numeric` the numbers the strings start with (no leading digit is
    /// positive infinity, equal to any other such string).
    public func compare(_ a: String, _ b: String) -> Int {
        switch self {
        case .octet: return Self.compareOctets(Array(a.utf8), Array(b.utf8))
        case .asciiCasemap: return Self.compareOctets(fold(Array(a.utf8)), fold(Array(b.utf8)))
        case .asciiNumeric: return Self.compareNumbers(a, b)
        }
    }

    /// The octets of `bytes` as this comparator sees them (ASCII letters upper-cased for
    /// `i;ascii-casemap`, unchanged otherwise).
    func fold(_ bytes: [UInt8]) -> [UInt8] {
        guard self == .asciiCasemap else { return bytes }
        return bytes.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
    }

    /// A Unicode scalar as this comparator sees it.
    func fold(_ scalar: Unicode.Scalar) -> UInt32 {
        let value = scalar.value
        if self == .asciiCasemap, value >= 0x61, value <= 0x7A { return value - 0x20 }
        return value
    }

    static func compareOctets(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let common = min(a.count, b.count)
        var index = 0
        while index < common {
            if a[index] != b[index] { return a[index] < b[index] ? -1 : 1 }
            index += 1
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    /// The leading decimal digits of `text` without leading zeros (`"0"` stays `[]`), or
    /// `nil` when `text` does not start with a digit (positive infinity).
    static func numericValue(_ text: String) -> [UInt8]? {
        var digits: [UInt8] = []
        var sawDigit = false
        for byte in text.utf8 {
            guard byte >= 0x30 && byte <= 0x39 else { break }
            sawDigit = true
            if digits.isEmpty && byte == 0x30 { continue }
            digits.append(byte)
        }
        return sawDigit ? digits : nil
    }

    static func compareNumbers(_ a: String, _ b: String) -> Int {
        switch (numericValue(a), numericValue(b)) {
        case (nil, nil): return 0
        case (nil, _): return 1
        case (_, nil): return -1
        case let (x?, y?):
            if x.count != y.count { return x.count < y.count ? -1 : 1 }
            return compareOctets(x, y)
        }
    }
}

/// A relational operator (RFC 5231): `"gt"`, `"ge"`, `"lt"`, `"le"`, `"eq"`, `"ne"`.
public enum SieveRelation: String, Sendable, Hashable, CaseIterable {
    case gt, ge, lt, le, eq, ne

    /// Whether an ordering result (negative, zero, positive, as `SieveComparator.compare`
    /// returns for `value` against `key`) satisfies this relation.
    public func holds(forOrdering ordering: Int) -> Bool {
        switch self {
        case .gt: return ordering > 0
        case .ge: return ordering >= 0
        case .lt: return ordering < 0
        case .le: return ordering <= 0
        case .eq: return ordering == 0
        case .ne: return ordering != 0
        }
    }
}
