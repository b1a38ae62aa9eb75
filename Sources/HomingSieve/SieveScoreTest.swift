/// How `spamtest` or `virustest` (RFC 5235) reads the scanner's verdict from the message:
/// Pigeonhole's `sieve_spamtest_*` / `sieve_virustest_*` settings.
///
/// - `statusType`: `score` (a decimal number), `strlen` (a run of one character, `*****`) or
///   `text` (one of the `textValues`).
/// - `statusHeader`: `Header-Name` or `Header-Name: regexp`; the regular expression (POSIX
///   extended, case-sensitive) must capture the value in its first group.
/// - `maxValue` or `maxHeader` (same syntax as `statusHeader`): the score that means "certainly
///   spam" (not used with `text`).
/// - `textValues[i]`: the text meaning `i` (0 to 10 for spamtest, 0 to 5 for virustest).
///
/// The test value is computed as Pigeonhole computes it: the status divided by the maximum
/// (clamped to 0...1) gives `1` to `10` (`1` to `5` for virustest), or `0` to `100` with
/// `:percent`; `0` when the header is missing or does not parse.
public struct SieveScoreTestSettings: Sendable, Hashable {
    /// The kind of value the scanner writes.
    public enum StatusType: String, Sendable, Hashable {
        case score, strlen, text
    }

    /// A header field, optionally with a regular expression extracting the value.
    public struct HeaderSpec: Sendable, Hashable {
        /// The field name.
        public var name: String
        /// The POSIX extended regular expression whose first group is the value; `nil` for the
        /// whole (decoded) field value.
        public var pattern: String?
    }

    /// Which test the settings are for: `spamtest` (and `spamtestplus`) or `virustest`.
    public enum Test: String, Sendable, Hashable {
        case spamtest, virustest

        /// The highest text value index (10 or 5).
        var maxText: Int { self == .spamtest ? 10 : 5 }
    }

    public var test: Test
    public var statusType: StatusType
    public var statusHeader: HeaderSpec
    /// The maximum when it is fixed (`sieve_..._max_value`).
    public var maxValue: Float?
    /// The header holding the maximum (`sieve_..._max_header`).
    public var maxHeader: HeaderSpec?
    /// `sieve_..._text_value0` to `..._text_value10`, by index.
    public var textValues: [Int: String]

    /// Reads the settings of `test` from their string values (`nil` when not set). Returns
    /// `nil` when `statusHeader` is not set: the extension is then not configured and its test
    /// always sees "0", as in Pigeonhole. Throws for values Pigeonhole refuses.
    public static func parse(
        _ test: Test, statusType: String?, statusHeader: String?, maxValue: String?, maxHeader: String?,
        textValues: [Int: String] = [:]
    ) throws(SieveScoreTestSettingError) -> SieveScoreTestSettings? {
        let prefix = "sieve_\(test.rawValue)_"
        guard let statusHeader, !statusHeader.isEmpty else { return nil }
        let type: StatusType
        if let statusType, !statusType.isEmpty {
            guard let known = StatusType(rawValue: statusType) else {
                throw SieveScoreTestSettingError(
                    setting: prefix + "status_type",
                    message: "invalid status type '\(statusType)' (use score, strlen or text)")
            }
            type = known
        } else {
            type = .score
        }
        let status = try headerSpec(statusHeader, setting: prefix + "status_header")
        var settings = SieveScoreTestSettings(
            test: test, statusType: type, statusHeader: status, maxValue: nil, maxHeader: nil, textValues: [:])
        if type == .text {
            settings.textValues = textValues.filter { $0.key >= 0 && $0.key <= test.maxText && !$0.value.isEmpty }
            return settings
        }
        let givenMaxValue = maxValue.flatMap { $0.isEmpty ? nil : $0 }
        let givenMaxHeader = maxHeader.flatMap { $0.isEmpty ? nil : $0 }
        switch (givenMaxValue, givenMaxHeader) {
        case (.some, .some):
            throw SieveScoreTestSettingError(
                setting: prefix + "max_header",
                message: "\(prefix)max_header and \(prefix)max_value cannot both be configured")
        case (nil, nil):
            throw SieveScoreTestSettingError(
                setting: prefix + "max_value",
                message: "none of \(prefix)max_header or \(prefix)max_value is configured")
        case (let value?, nil):
            switch parseDecimal(value) {
            case .success(let number): settings.maxValue = number
            case .failure(let problem):
                throw SieveScoreTestSettingError(
                    setting: prefix + "max_value", message: "invalid max value specification '\(value)': \(problem)")
            }
        case (nil, let header?):
            settings.maxHeader = try headerSpec(header, setting: prefix + "max_header")
        }
        return settings
    }

    /// `Name` or `Name: regexp`.
    static func headerSpec(_ text: String, setting: String) throws(SieveScoreTestSettingError) -> HeaderSpec {
        let trimmed = text.drop { $0 == " " || $0 == "\t" }
        let nameEnd = trimmed.firstIndex { $0 == ":" || $0 == " " || $0 == "\t" } ?? trimmed.endIndex
        let name = String(trimmed[..<nameEnd])
        var rest = trimmed[nameEnd...].drop { $0 == " " || $0 == "\t" }
        guard !name.isEmpty else {
            throw SieveScoreTestSettingError(setting: setting, message: "empty header specification")
        }
        if rest.isEmpty { return HeaderSpec(name: name, pattern: nil) }
        guard rest.first == ":" else {
            throw SieveScoreTestSettingError(
                setting: setting, message: "invalid header specification '\(text)': expecting ':', but found '\(rest.first ?? " ")'")
        }
        rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
        let pattern = String(rest)
        switch CompiledRegex.compile(pattern, comparator: .octet) {
        case .failure(let error):
            throw SieveScoreTestSettingError(
                setting: setting, message: "failed to compile regular expression '\(pattern)': \(error.message)")
        case .success(let regex):
            regex.free()
        }
        return HeaderSpec(name: name, pattern: pattern)
    }

    /// Pigeonhole's decimal syntax: optional sign, at most 5 digits, optional `.` or `,` and at
    /// most 5 more digits.
    static func parseDecimal(_ text: String) -> Result<Float, ScoreParseProblem> {
        var bytes = Array(text.utf8)[...]
        guard !bytes.isEmpty else { return .failure(ScoreParseProblem("empty value")) }
        var sign: Float = 1
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            if first == UInt8(ascii: "-") { sign = -1 }
            bytes = bytes.dropFirst()
        }
        var value: Float = 0
        var digits = 0
        while let byte = bytes.first, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            value = value * 10 + Float(byte - UInt8(ascii: "0"))
            digits += 1
            if digits > 5 {
                return .failure(ScoreParseProblem("decimal value has too many digits before radix point: \(text)"))
            }
            bytes = bytes.dropFirst()
        }
        if let byte = bytes.first, byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",") {
            bytes = bytes.dropFirst()
            var radix: Float = 0.1
            digits = 0
            while let byte = bytes.first, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                value += Float(byte - UInt8(ascii: "0")) * radix
                digits += 1
                if digits > 5 {
                    return .failure(ScoreParseProblem("decimal value has too many digits after radix point: \(text)"))
                }
                radix /= 10
                bytes = bytes.dropFirst()
            }
        }
        guard bytes.isEmpty else { return .failure(ScoreParseProblem("invalid decimal point value: \(text)")) }
        return .success(value * sign)
    }

    /// Why a value does not parse.
    struct ScoreParseProblem: Error, Sendable {
        var message: String
        init(_ message: String) { self.message = message }
    }

    // MARK: - Evaluation

    /// The status divided by the maximum (0...1), or `nil` when the message carries no usable
    /// verdict. `firstValue` gives the first (decoded) value of a header field.
    func ratio(firstValue: (String) -> String?) -> Float? {
        let maximum: Float
        if statusType == .text {
            maximum = Float(test.maxText)
        } else if let maxHeader {
            guard let raw = extract(maxHeader, firstValue: firstValue), case .success(let value) = Self.parseDecimal(raw)
            else { return nil }
            maximum = value
        } else {
            maximum = maxValue ?? 0
        }
        guard maximum != 0, let status = extract(statusHeader, firstValue: firstValue) else { return nil }
        let value: Float
        switch statusType {
        case .score:
            guard case .success(let number) = Self.parseDecimal(status) else { return nil }
            value = number
        case .strlen:
            guard let first = status.unicodeScalars.first else {
                value = 0
                break
            }
            guard status.unicodeScalars.allSatisfy({ $0 == first }) else { return nil }
            value = Float(status.utf8.count)
        case .text:
            guard let index = (0...test.maxText).first(where: { textValues[$0] == status }) else { return nil }
            value = Float(index)
        }
        if value < 0 { return 0 }
        if value > maximum { return 1 }
        return value / maximum
    }

    private func extract(_ spec: HeaderSpec, firstValue: (String) -> String?) -> String? {
        guard let value = firstValue(spec.name) else { return nil }
        guard let pattern = spec.pattern else { return value }
        guard case .success(let regex) = CompiledRegex.compile(pattern, comparator: .octet) else { return nil }
        defer { regex.free() }
        let bytes = Array(value.utf8.prefix(1 << 16))
        guard let groups = regex.execute(bytes), groups.count > 1 else { return nil }
        return groups[1]
    }

    /// The normalized result string for `ratio` (`nil`: not tested): "0" when not tested, else
    /// `1`...`10` (`1`...`5` for virustest), or `0`...`100` with `percent`.
    static func value(ratio: Float?, test: Test, percent: Bool) -> String {
        guard let ratio, ratio >= 0 else { return "0" }
        let clamped = min(ratio, 1)
        let score: Int
        if percent {
            score = Int(clamped * 100 + 0.001)
        } else if test == .virustest {
            score = Int(clamped * 4 + 1.001)
        } else {
            score = Int(clamped * 9 + 1.001)
        }
        return String(score)
    }
}

/// A spamtest/virustest setting that cannot be used.
public struct SieveScoreTestSettingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The setting (`sieve_spamtest_status_header`...).
    public var setting: String
    /// What is wrong.
    public var message: String

    public var description: String { "\(setting): \(message)" }
}
