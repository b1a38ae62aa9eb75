import HomingConfig

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
    /// Throws the reason (the caller wraps it into a ``QuotaRuleError``).
    static func parse(_ text: String, defaultMultiplier: Int64) throws(DovecotValueError) -> QuotaSize {
        for suffix in ["%%", "%"] where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            let digits = number.hasPrefix("-") || number.hasPrefix("+") ? number.dropFirst() : number
            guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }), let value = Int64(number) else {
                throw DovecotValueError("invalid size '\(text)'")
            }
            return .percent(value)
        }
        return .absolute(try DovecotSize.parse(text, defaultMultiplier: defaultMultiplier, allowSign: true))
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
