// The modifiers of the `set` command: RFC 5229 section 4.1 (:lower :upper :lowerfirst
// :upperfirst :quotewildcard :length), draft-ietf-sieve-regex (:quoteregex) and RFC 5435
// section 6 (:encodeurl).

/// The `set` modifiers and the order they are applied in.
public enum SieveVariableModifier {
    /// Each modifier (tag name without the colon) and its precedence. Modifiers are applied
    /// from the highest precedence to the lowest; two of the same precedence cannot be combined.
    public static let precedence: [String: Int] = [
        "lower": 40, "upper": 40,
        "lowerfirst": 30, "upperfirst": 30,
        "quotewildcard": 20, "quoteregex": 20,
        "encodeurl": 15,
        "length": 10,
    ]

    /// Applies `modifiers` (tag names, with or without the colon; unknown names are ignored)
    /// to `value` in precedence order: `:upperfirst :lower` on `"juMBlEd lEttERS"` gives
    /// `"Jumbled letters"`. Case changes touch ASCII letters only, as `i;ascii-casemap` does;
    /// `:length` counts Unicode characters.
    public static func apply(_ modifiers: [String], to value: String) -> String {
        let ordered = modifiers.map(normalized).compactMap { name in precedence[name].map { (name, $0) } }
            .sorted { $0.1 > $1.1 }
        var result = value
        for (name, _) in ordered {
            switch name {
            case "lower": result = mapASCII(result, upper: false)
            case "upper": result = mapASCII(result, upper: true)
            case "lowerfirst": result = mapFirst(result, upper: false)
            case "upperfirst": result = mapFirst(result, upper: true)
            case "quotewildcard": result = quote(result, special: "*?\\")
            case "quoteregex": result = quote(result, special: "\\.*+?^$[]{}()|")
            case "encodeurl": result = encodeURL(result)
            case "length": result = String(result.unicodeScalars.count)
            default: break
            }
        }
        return result
    }

    /// `nil` when `modifiers` can be used together; otherwise the error text (an unknown
    /// modifier, or two modifiers of the same precedence such as `:lower` and `:upper`).
    public static func validate(_ modifiers: [String]) -> String? {
        var seen: [Int: String] = [:]
        for modifier in modifiers {
            let name = normalized(modifier)
            guard let level = precedence[name] else { return "unknown modifier ':\(name)' for the set command" }
            if let other = seen[level] {
                if other == name { return "the :\(name) modifier is specified more than once" }
                return "the modifiers :\(other) and :\(name) cannot be combined (they have the same precedence)"
            }
            seen[level] = name
        }
        return nil
    }

    // MARK: - Helpers

    private static func normalized(_ name: String) -> String {
        (name.hasPrefix(":") ? String(name.dropFirst()) : name).lowercased()
    }

    private static func mapASCII(_ text: String, upper: Bool) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { scalars.append(mapScalar(scalar, upper: upper)) }
        return String(scalars)
    }

    private static func mapFirst(_ text: String, upper: Bool) -> String {
        guard let first = text.unicodeScalars.first else { return text }
        var scalars = String.UnicodeScalarView()
        scalars.append(mapScalar(first, upper: upper))
        scalars.append(contentsOf: text.unicodeScalars.dropFirst())
        return String(scalars)
    }

    private static func mapScalar(_ scalar: Unicode.Scalar, upper: Bool) -> Unicode.Scalar {
        let value = scalar.value
        if upper, value >= 0x61, value <= 0x7A { return Unicode.Scalar(UInt8(value - 0x20)) }
        if !upper, value >= 0x41, value <= 0x5A { return Unicode.Scalar(UInt8(value + 0x20)) }
        return scalar
    }

    private static func quote(_ text: String, special: String) -> String {
        let specials = Set(special.unicodeScalars)
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if specials.contains(scalar) { scalars.append("\\") }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// Percent-encodes every octet except RFC 3986 unreserved characters.
    private static func encodeURL(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        var scalars = String.UnicodeScalarView()
        for byte in text.utf8 {
            let unreserved =
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "~")
            if unreserved {
                scalars.append(Unicode.Scalar(byte))
            } else {
                scalars.append("%")
                scalars.append(hex[Int(byte >> 4)])
                scalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(scalars)
    }
}

