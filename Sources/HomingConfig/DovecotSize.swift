/// Why a size or a time interval did not parse: the reason, for a message that also names the
/// setting (`sieve_max_script_size: ...`).
public struct DovecotValueError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// Sizes as Dovecot writes them: a number with an optional unit, `1024`, `100k`, `1M`, `10 G`,
/// `2T`, `512B`, `1GB`. Units are case-insensitive powers of 1024; a `B` after the unit letter
/// is accepted. Used by every size setting (quota, Sieve, limits).
public enum DovecotSize {
    /// Parses `text` into bytes. `defaultMultiplier` applies when there is no unit (1024 for
    /// quota's `storage=`, whose bare numbers are KiB); `allowSign` accepts a leading `+` or `-`
    /// (quota rules that add to or lower the default).
    public static func parse(_ text: String, defaultMultiplier: Int64 = 1, allowSign: Bool = false)
        throws(DovecotValueError) -> Int64
    {
        var rest = Substring(text)
        var negative = false
        if allowSign, let first = rest.first, first == "-" || first == "+" {
            negative = first == "-"
            rest = rest.dropFirst()
        }
        let numberEnd = rest.firstIndex { !("0"..."9").contains($0) } ?? rest.endIndex
        let digits = rest[rest.startIndex..<numberEnd]
        guard !digits.isEmpty, let magnitude = Int64(digits) else {
            throw DovecotValueError("invalid size '\(text)'")
        }
        let unit = rest[numberEnd...].drop { $0 == " " }
        let multiplier: Int64
        switch unit.uppercased() {
        case "": multiplier = defaultMultiplier
        case "B": multiplier = 1
        case "K", "KB": multiplier = 1 << 10
        case "M", "MB": multiplier = 1 << 20
        case "G", "GB": multiplier = 1 << 30
        case "T", "TB": multiplier = 1 << 40
        default: throw DovecotValueError("unknown unit '\(unit)' in size '\(text)'")
        }
        let (product, overflow) = magnitude.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw DovecotValueError("size '\(text)' is too large") }
        return negative ? -product : product
    }
}

/// Time intervals as Dovecot writes them: `30`, `30s`, `5 mins`, `12h`, `7d`, `2 weeks`,
/// `2500ms`. A bare number is seconds.
public enum DovecotInterval {
    /// Parses `text`.
    public static func parse(_ text: String) throws(DovecotValueError) -> Duration {
        let trimmed = text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()
        let digits = trimmed.prefix { ("0"..."9").contains($0) }
        guard !digits.isEmpty, digits.count <= 15, let value = Int64(String(digits)) else {
            throw DovecotValueError("invalid time interval '\(text)' (such as 30s, 5m, 1d)")
        }
        let unit = String(trimmed.dropFirst(digits.count)).lowercased().drop { $0 == " " }
        switch unit {
        case "ms", "msec", "msecs", "millisecond", "milliseconds": return .milliseconds(value)
        case "", "s", "sec", "secs", "second", "seconds": return .seconds(value)
        case "m", "min", "mins", "minute", "minutes": return .seconds(value * 60)
        case "h", "hour", "hours": return .seconds(value * 3600)
        case "d", "day", "days": return .seconds(value * 86_400)
        case "w", "week", "weeks": return .seconds(value * 7 * 86_400)
        default: throw DovecotValueError("unknown time unit '\(unit)' in '\(text)'")
        }
    }

    /// Parses `text` into whole seconds (milliseconds are rounded down).
    public static func seconds(_ text: String) throws(DovecotValueError) -> Int {
        Int(try parse(text).components.seconds)
    }
}
