/// The variables of one script run (RFC 5229), with the `global` ones of RFC 6609 shared
/// between a script and the scripts it includes.
///
/// Names compare case-insensitively. Values are bounded to `SieveVariables.maxValueSize`
/// UTF-8 octets (Pigeonhole's `sieve_variables_max_variable_size` default, 4 kB): longer
/// values are cut at a character boundary.
struct SieveVariableStore: Sendable {
    /// The largest value kept, in UTF-8 octets.
    static let maxValueSize = 4096
    /// The most variables one scope may hold (Pigeonhole's `sieve_variables_max_scope_size`).
    static let maxScopeSize = 255

    private var values: [String: String] = [:]

    /// The value of `name`, `""` when never set (RFC 5229 section 3).
    func value(_ name: String) -> String {
        values[name.lowercased()] ?? ""
    }

    /// Sets `name` to `value` (cut to the size bound); `false` when the scope is full.
    mutating func set(_ name: String, _ value: String) -> Bool {
        let key = name.lowercased()
        if values[key] == nil, values.count >= Self.maxScopeSize { return false }
        values[key] = Self.bounded(value)
        return true
    }

    /// `value` cut to `maxValueSize` UTF-8 octets at a character boundary.
    static func bounded(_ value: String) -> String {
        guard value.utf8.count > maxValueSize else { return value }
        var result = ""
        var size = 0
        for character in value {
            let length = character.utf8.count
            if size + length > maxValueSize { break }
            result.append(character)
            size += length
        }
        return result
    }
}

/// What a `${...}` reference names.
enum SieveVariableReference: Sendable, Hashable {
    /// `${1}`: a match variable.
    case match(Int)
    /// `${name}`: a variable without namespace.
    case plain(String)
    /// `${namespace.name...}`: a variable in a namespace (`global` is the only one known).
    case namespaced(namespace: String, name: String)

    /// Parses the text between `${` and `}`; `nil` when it is not a valid reference (the text
    /// is then left as written, RFC 5229 section 3).
    static func parse(_ text: Substring) -> SieveVariableReference? {
        guard let first = text.unicodeScalars.first else { return nil }
        if ("0"..."9").contains(first) {
            guard text.unicodeScalars.allSatisfy({ $0.isASCII && ("0"..."9").contains($0) }) else {
                return nil
            }
            // Leading zeros are allowed; huge numbers simply name no match variable.
            let digits = text.drop { $0 == "0" }
            if digits.isEmpty { return .match(0) }
            guard digits.count <= 4, let number = Int(digits) else { return .match(Int.max) }
            return .match(number)
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        for part in parts where !isIdentifier(part) { return nil }
        if parts.count == 1 { return .plain(String(text)) }
        return .namespaced(
            namespace: parts[0].lowercased(), name: parts.dropFirst().joined(separator: "."))
    }

    /// RFC 5228 identifier: `(ALPHA / "_") *(ALPHA / DIGIT / "_")`.
    static func isIdentifier(_ text: Substring) -> Bool {
        guard let first = text.unicodeScalars.first else { return false }
        guard first.isASCII, first == "_" || first.properties.isAlphabetic else { return false }
        return text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0))
        }
    }
}

/// Expands `${...}` references in one pass (RFC 5229 section 3): the result is not scanned
/// again, invalid references stay as written.
enum SieveVariableExpander {
    /// Expands `text`, asking `lookup` for each valid reference; `lookup` may throw (unknown
    /// namespace).
    static func expand<E: Error>(
        _ text: String, lookup: (SieveVariableReference) throws(E) -> String
    ) throws(E) -> String {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = text[...]
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            let afterOpen = rest[start.upperBound...]
            guard let close = afterOpen.firstIndex(of: "}"),
                let reference = SieveVariableReference.parse(afterOpen[..<close])
            else {
                // Not a reference: keep the "$" and go on scanning from the "{".
                result += "$"
                rest = rest[rest.index(after: start.lowerBound)...]
                continue
            }
            result += try lookup(reference)
            rest = afterOpen[afterOpen.index(after: close)...]
        }
        result += rest
        return result
    }
}
