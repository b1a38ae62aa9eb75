import Foundation

// Dates for the `date` and `currentdate` tests (RFC 5260): RFC 5322 date-time parsing,
// including the obsolete syntax of section 4.3, and the date parts of RFC 5260 section 2.4.

/// A point in time with the zone it was written in, for the `date` and `currentdate` tests.
public struct SieveDateTime: Sendable, Hashable {
    /// The instant.
    public var date: Date
    /// The zone offset in seconds east of UTC as written (`+0200` is 7200).
    public var zoneOffset: Int
    /// Whether the zone was written as `-0000` or an unknown/military name (RFC 5322: the
    /// time is UTC but the local zone is unknown); the `zone` part is then `+0000`.
    public var isZoneUnknown: Bool

    /// Creates a date-time.
    public init(date: Date, zoneOffset: Int) {
        self.date = date
        self.zoneOffset = zoneOffset
        self.isZoneUnknown = false
    }

    /// Creates a date-time whose zone may be unknown (`-0000`).
    public init(date: Date, zoneOffset: Int, isZoneUnknown: Bool) {
        self.date = date
        self.zoneOffset = zoneOffset
        self.isZoneUnknown = isZoneUnknown
    }

    /// Parses an RFC 5322 date-time (obsolete forms and zone names included); `nil` if invalid.
    ///
    /// Accepted: an optional day name and comma, day, month name (any case), year (two-digit
    /// years are 19xx from 50 and 20xx below, three-digit years add 1900), `hh:mm[:ss]`, and a
    /// zone (`+hhmm`, `UT`, `GMT`, `EST`/`EDT`, `CST`/`CDT`, `MST`/`MDT`, `PST`/`PDT`; military
    /// letters and other names mean `-0000`). Comments and folding white space are ignored.
    public static func parse(_ text: String) -> SieveDateTime? {
        var tokens = SieveDateTokenizer(text).tokens()
        // Optional day of week, with or without the comma.
        if let first = tokens.first, case .word(let name) = first, weekdayNames.contains(name.lowercased()) {
            tokens.removeFirst()
            if let next = tokens.first, next == .punctuation(",") { tokens.removeFirst() }
        }
        guard tokens.count >= 7,
            case .number(let dayText) = tokens[0], dayText.count <= 2, let day = Int(dayText),
            case .word(let monthName) = tokens[1],
            let monthIndex = monthNames.firstIndex(of: monthName.lowercased()),
            case .number(let yearText) = tokens[2], let rawYear = Int(yearText),
            case .number(let hourText) = tokens[3], hourText.count <= 2, let hour = Int(hourText),
            tokens[4] == .punctuation(":"),
            case .number(let minuteText) = tokens[5], minuteText.count <= 2, let minute = Int(minuteText)
        else { return nil }
        var rest = tokens[6...]
        var second = 0
        if rest.first == .punctuation(":") {
            rest = rest.dropFirst()
            guard case .number(let secondText)? = rest.first, secondText.count <= 2, let value = Int(secondText)
            else { return nil }
            second = value
            rest = rest.dropFirst()
        }
        guard let (offset, unknown) = zone(Array(rest)) else { return nil }
        let year: Int
        switch yearText.count {
        case 1, 2: year = rawYear < 50 ? 2000 + rawYear : 1900 + rawYear
        case 3: year = 1900 + rawYear
        default: year = rawYear
        }
        let month = monthIndex + 1
        guard year <= 9999, day >= 1, day <= daysInMonth(month, year: year), hour <= 23, minute <= 59,
            second <= 60
        else { return nil }
        // A leap second (:60) is kept in its minute as :59, so it does not move the date into
        // the next minute, day or year.
        let localSeconds = daysFromCivil(year: year, month: month, day: day) * 86_400
            + hour * 3600 + minute * 60 + min(second, 59)
        return SieveDateTime(
            date: Date(timeIntervalSince1970: TimeInterval(localSeconds - offset)), zoneOffset: offset,
            isZoneUnknown: unknown)
    }

    /// Parses a `:zone` argument (`+0100`, `-0830`) into seconds east of UTC; `nil` if invalid.
    public static func parseZone(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count == 5, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-"),
            bytes[1...].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        let digits = bytes[1...].map { Int($0 - UInt8(ascii: "0")) }
        let hours = digits[0] * 10 + digits[1]
        let minutes = digits[2] * 10 + digits[3]
        guard hours <= 23, minutes <= 59 else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return bytes[0] == UInt8(ascii: "-") ? -seconds : seconds
    }

    /// The local zone's offset at `date` (for `currentdate` and `date` without `:zone`).
    public static func localZoneOffset(at date: Date) -> Int {
        TimeZone.current.secondsFromGMT(for: date)
    }

    /// The same instant seen in another zone.
    public func converted(toZoneOffset offset: Int) -> SieveDateTime {
        SieveDateTime(date: date, zoneOffset: offset)
    }

    /// The RFC 5260 date part (`year`, `month`, `day`, `date`, `julian`, `hour`, `minute`,
    /// `second`, `time`, `iso8601`, `std11`, `zone`, `weekday`); `nil` for an unknown part name.
    /// Part names are case-insensitive.
    public func part(_ name: String) -> String? {
        let fields = LocalFields(self)
        switch name.lowercased() {
        case "year": return pad(fields.year, 4)
        case "month": return pad(fields.month, 2)
        case "day": return pad(fields.day, 2)
        case "date": return "\(pad(fields.year, 4))-\(pad(fields.month, 2))-\(pad(fields.day, 2))"
        case "julian": return String(fields.days + 40_587)
        case "hour": return pad(fields.hour, 2)
        case "minute": return pad(fields.minute, 2)
        case "second": return pad(fields.second, 2)
        case "time": return "\(pad(fields.hour, 2)):\(pad(fields.minute, 2)):\(pad(fields.second, 2))"
        case "iso8601":
            // RFC 5260 section 4.2: a zero offset is written "Z", not "+00:00".
            let zone = zoneOffset == 0 ? "Z" : zoneText(separator: ":")
            return "\(part("date") ?? "")T\(part("time") ?? "")\(zone)"
        case "std11":
            let weekday = Self.weekdayNames[fields.weekday].capitalized
            let month = Self.monthNames[fields.month - 1].capitalized
            return "\(weekday), \(pad(fields.day, 2)) \(month) \(pad(fields.year, 4)) "
                + "\(part("time") ?? "") \(zoneText(separator: ""))"
        case "zone": return zoneText(separator: "")
        case "weekday": return String(fields.weekday)
        default: return nil
        }
    }

    // MARK: - Helpers

    static let weekdayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// `+hhmm` (or `+hh:mm` with a separator). A zero offset, also an unknown zone
    /// (`-0000`), has a positive sign (RFC 5260 section 4.2; Pigeonhole writes it so too).
    private func zoneText(separator: String) -> String {
        let sign = zoneOffset < 0 ? "-" : "+"
        let minutes = abs(zoneOffset) / 60
        return "\(sign)\(pad(minutes / 60, 2))\(separator)\(pad(minutes % 60, 2))"
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(abs(value))
        let padded = String(repeating: "0", count: max(0, width - digits.count)) + digits
        return value < 0 ? "-" + padded : padded
    }

    /// The calendar fields of the instant in its zone.
    private struct LocalFields {
        var days: Int, year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int

        init(_ value: SieveDateTime) {
            let seconds = Int(value.date.timeIntervalSince1970.rounded(.down)) + value.zoneOffset
            days = floorDivide(seconds, 86_400)
            let secondOfDay = seconds - days * 86_400
            (year, month, day) = civilFromDays(days)
            hour = secondOfDay / 3600
            minute = secondOfDay % 3600 / 60
            second = secondOfDay % 60
            weekday = ((days + 4) % 7 + 7) % 7  // 1970-01-01 was a Thursday.
        }
    }

    /// The zone from the tokens after the time: offset in seconds and whether it is unknown.
    private static func zone(_ tokens: [SieveDateToken]) -> (Int, Bool)? {
        switch tokens.count {
        case 0:
            return nil
        case 2:
            guard case .punctuation(let sign) = tokens[0], sign == "+" || sign == "-",
                case .number(let digits) = tokens[1], digits.count == 4, let offset = parseZone(sign + digits)
            else { return nil }
            return (offset, sign == "-" && offset == 0)
        case 1:
            guard case .word(let name) = tokens[0] else { return nil }
            switch name.uppercased() {
            case "UT", "GMT", "UTC", "Z": return (0, false)
            case "EST": return (-5 * 3600, false)
            case "EDT": return (-4 * 3600, false)
            case "CST": return (-6 * 3600, false)
            case "CDT": return (-5 * 3600, false)
            case "MST": return (-7 * 3600, false)
            case "MDT": return (-6 * 3600, false)
            case "PST": return (-8 * 3600, false)
            case "PDT": return (-7 * 3600, false)
            default:
                // Military letters and other alphabetic zones: RFC 5322 section 4.3 says
                // to treat them as "-0000".
                return name.allSatisfy({ $0.isASCII && $0.isLetter }) ? (0, true) : nil
            }
        default:
            return nil
        }
    }
}

// MARK: - Calendar arithmetic (proleptic Gregorian, no locale)

/// Days since 1970-01-01 of a civil date.
func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let shiftedYear = month <= 2 ? year - 1 : year
    let era = floorDivide(shiftedYear, 400)
    let yearOfEra = shiftedYear - era * 400
    let monthIndex = month > 2 ? month - 3 : month + 9
    let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}

/// The civil date of a day count since 1970-01-01.
func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
    let shifted = days + 719_468
    let era = floorDivide(shifted, 146_097)
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
}

func daysInMonth(_ month: Int, year: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

func floorDivide(_ a: Int, _ b: Int) -> Int {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}

// MARK: - Tokens of a date-time

/// A token of an RFC 5322 date-time.
enum SieveDateToken: Equatable {
    case word(String)
    case number(String)
    case punctuation(String)
}

/// Splits a date-time into words, numbers and `,` `:` `+` `-`, skipping white space and
/// (nested) comments; anything else makes the text invalid (an `invalid` punctuation token).
struct SieveDateTokenizer {
    let scalars: [Unicode.Scalar]

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    func tokens() -> [SieveDateToken] {
        var result: [SieveDateToken] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n" {
                index += 1
            } else if scalar == "(" {
                var depth = 0
                while index < scalars.count {
                    if scalars[index] == "\\" { index += 2; continue }
                    if scalars[index] == "(" { depth += 1 }
                    if scalars[index] == ")" { depth -= 1 }
                    index += 1
                    if depth == 0 { break }
                }
            } else if scalar.properties.numericType != nil, scalar.isASCII {
                var text = ""
                while index < scalars.count, scalars[index].isASCII, scalars[index].properties.numericType != nil {
                    text.unicodeScalars.append(scalars[index])
                    index += 1
                }
                result.append(.number(text))
            } else if scalar.isASCII, scalar.properties.isAlphabetic {
                var text = ""
                while index < scalars.count, scalars[index].isASCII, scalars[index].properties.isAlphabetic {
                    text.unicodeScalars.append(scalars[index])
                    index += 1
                }
                result.append(.word(text))
            } else if [",", ":", "+", "-"].contains(scalar) {
                result.append(.punctuation(String(scalar)))
                index += 1
            } else {
                result.append(.punctuation("invalid"))
                index += 1
            }
        }
        return result
    }
}
