/// A number with an optional unit, as Dovecot's quota settings write sizes:
/// `1024` (in the setting's default unit), `100k`, `1M`, `1G`, `2T`, `512B`, or `10%`.
///
/// Units are case-insensitive and powers of 1024; a trailing `B` after the unit letter is
/// accepted (`1GB`). `%%` is read as `%`, because the configuration file escapes `%` that way
/// and Homing may receive the value before `%` variables are expanded.
public enum QuotaSize: Sendable, Hashable {
    /// An amount in bytes (or in messages for a message count), already multiplied by its unit.
    case absolute(Int64)
    /// A percentage of the default rule's limit.
    case percent(Int64)

    /// Parses `text`. `defaultMultiplier` applies when there is no unit (1024 for `storage=`).
    /// Throws a reason string (the caller wraps it into a ``QuotaRuleError``).
    static func parse(_ text: String, defaultMultiplier: Int64) throws(QuotaSizeProblem) -> QuotaSize {
        var digits = Substring(text)
        var negative = false
        if let first = digits.first, first == "-" || first == "+" {
            negative = first == "-"
            digits = digits.dropFirst()
        }
        let numberEnd = digits.firstIndex { !("0"..."9").contains($0) } ?? digits.endIndex
        let numberText = digits[digits.startIndex..<numberEnd]
        guard !numberText.isEmpty, let magnitude = Int64(numberText) else {
            throw QuotaSizeProblem("invalid size '\(text)'")
        }
        let number = negative ? -magnitude : magnitude
        let unit = digits[numberEnd...].uppercased()
        let multiplier: Int64
        switch unit {
        case "": multiplier = defaultMultiplier
        case "B": multiplier = 1
        case "K", "KB": multiplier = 1 << 10
        case "M", "MB": multiplier = 1 << 20
        case "G", "GB": multiplier = 1 << 30
        case "T", "TB": multiplier = 1 << 40
        case "%", "%%": return .percent(number)
        default: throw QuotaSizeProblem("unknown unit '\(digits[numberEnd...])' in size '\(text)'")
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw QuotaSizeProblem("size '\(text)' is too large") }
        return .absolute(product)
    }

    /// Resolves a percentage against `base` (integer division, as Dovecot).
    func resolved(against base: Int64) -> Int64 {
        switch self {
        case .absolute(let value): return value
        case .percent(let percent):
            let (product, overflow) = base.multipliedReportingOverflow(by: percent)
            return overflow ? (percent > 0 ? Int64.max : Int64.min) : product / 100
        }
    }
}

/// Why a size did not parse; wrapped into ``QuotaRuleError`` with the setting's name.
struct QuotaSizeProblem: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
