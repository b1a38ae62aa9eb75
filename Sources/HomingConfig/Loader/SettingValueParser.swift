/// Parses setting values the way Dovecot's settings parser does, with messages that name the
/// setting and the bad value.
enum SettingValueParser {
    /// `yes` / `no` (any case), as Dovecot. Anything else is an error.
    static func boolean(_ value: String, key: String, at location: ConfigLocation) throws(ConfigError) -> Bool {
        switch value.lowercased() {
        case "yes": return true
        case "no": return false
        default: throw ConfigError("\(key): invalid boolean value '\(value)' (use yes or no)", at: location)
        }
    }

    /// A decimal unsigned number that fits `T`.
    static func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ value: String, as type: T.Type, key: String,
                                                                  at location: ConfigLocation) throws(ConfigError) -> T {
        guard !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ConfigError("\(key): invalid number '\(value)'", at: location)
        }
        guard let number = T(value) else {
            throw ConfigError("\(key): number '\(value)' is too large (at most \(T.max))", at: location)
        }
        return number
    }

    /// A decimal number in `range`.
    static func integer(_ value: String, in range: ClosedRange<Int>, key: String, at location: ConfigLocation) throws(ConfigError) -> Int {
        guard !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(value) else {
            throw ConfigError("\(key): invalid number '\(value)'", at: location)
        }
        guard range.contains(number) else {
            throw ConfigError("\(key): \(value) is out of range (\(range.lowerBound)-\(range.upperBound))", at: location)
        }
        return number
    }

    /// An octal file mode such as `0600` (at most `07777`).
    static func octalMode(_ value: String, key: String, at location: ConfigLocation) throws(ConfigError) -> UInt16 {
        guard !value.isEmpty, value.allSatisfy({ ("0"..."7").contains($0) }), let number = UInt16(value, radix: 8) else {
            throw ConfigError("\(key): invalid octal number '\(value)'", at: location)
        }
        guard number <= 0o7777 else {
            throw ConfigError("\(key): octal mode '\(value)' is larger than 07777", at: location)
        }
        return number
    }

    /// One of `choices` (exact, lowercase as Dovecot writes them).
    static func choice<T: RawRepresentable>(_ value: String, as type: T.Type, choices: [String], key: String,
                                            at location: ConfigLocation) throws(ConfigError) -> T where T.RawValue == String {
        guard let result = T(rawValue: value) else {
            throw ConfigError("\(key): invalid value '\(value)' (use \(listWords(choices)))", at: location)
        }
        return result
    }

    /// A string that must be one of `choices`.
    static func word(_ value: String, choices: [String], key: String, at location: ConfigLocation) throws(ConfigError) -> String {
        guard choices.contains(value) else {
            throw ConfigError("\(key): invalid value '\(value)' (use \(listWords(choices)))", at: location)
        }
        return value
    }

    /// Words separated by any of `separators` (empty words dropped).
    static func list(_ value: String, separators: Set<Character> = [" ", "\t"]) -> [String] {
        value.split { separators.contains($0) }.map(String.init)
    }

    /// `a, b or c`.
    static func listWords(_ words: [String]) -> String {
        guard words.count > 1, let last = words.last else { return words.first ?? "" }
        return words.dropLast().joined(separator: ", ") + " or " + last
    }

    /// A mode as Dovecot prints it: at least four octal digits (`0600`).
    static func formatMode(_ mode: UInt16) -> String {
        let digits = String(mode, radix: 8)
        return digits.count >= 4 ? digits : String(repeating: "0", count: 4 - digits.count) + digits
    }
}
