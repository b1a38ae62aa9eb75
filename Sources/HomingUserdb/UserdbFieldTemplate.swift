/// A `key=value` list as Dovecot writes userdb fields in `default_fields`, `override_fields`,
/// static `args` and passwd-file extra fields: space separated, values unexpanded.
///
/// A key without `=` has an empty value (`nosieve` means `nosieve=`). Values cannot hold
/// spaces, as in Dovecot 2.3.
struct UserdbFieldTemplate: Sendable, Hashable {
    /// One `key=value` pair, `value` still holding its `%` variables.
    struct Entry: Sendable, Hashable {
        var name: String
        var template: String
    }

    /// The pairs in the order written. A key may repeat; the last one wins when applied.
    var entries: [Entry]

    init(entries: [Entry] = []) {
        self.entries = entries
    }

    /// Why a list could not be parsed.
    enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// `=value` with nothing before the `=`.
        case emptyName(token: String)

        var description: String {
            switch self {
            case .emptyName(let token): return "field '\(token)' has no name before '='"
            }
        }
    }

    /// Parses a space (or tab) separated list. Blanks inside a `%{ }` variable (Dovecot 2.4's
    /// `%{user | domain}`) do not separate.
    static func parse(_ text: String) throws(ParseError) -> UserdbFieldTemplate {
        var entries: [Entry] = []
        for token in tokens(text) {
            let entry: Entry
            if let equals = token.firstIndex(of: "=") {
                entry = Entry(
                    name: String(token[..<equals]), template: String(token[token.index(after: equals)...]))
            } else {
                entry = Entry(name: String(token), template: "")
            }
            if entry.name.isEmpty { throw .emptyName(token: String(token)) }
            entries.append(entry)
        }
        return UserdbFieldTemplate(entries: entries)
    }

    /// The blank-separated tokens of `text`, keeping `%{ ... }` whole.
    private static func tokens(_ text: String) -> [Substring] {
        var result: [Substring] = []
        var depth = 0
        var start: String.Index?
        var previous: Character?
        for index in text.indices {
            let character = text[index]
            if character == "{", previous == "%" { depth += 1 } else if character == "}", depth > 0 { depth -= 1 }
            let blank = character == " " || character == "\t" || character == "\n" || character == "\r"
            if blank, depth == 0 {
                if let begin = start { result.append(text[begin..<index]) }
                start = nil
            } else if start == nil {
                start = index
            }
            previous = character
        }
        if let begin = start { result.append(text[begin...]) }
        return result
    }

    var isEmpty: Bool { entries.isEmpty }

    /// Whether any value holds a `%` variable.
    var hasVariables: Bool { entries.contains { $0.template.contains("%") } }
}
