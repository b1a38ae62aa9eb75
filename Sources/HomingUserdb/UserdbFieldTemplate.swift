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

    /// Parses a space (or tab) separated list.
    static func parse(_ text: String) throws(ParseError) -> UserdbFieldTemplate {
        var entries: [Entry] = []
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) {
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

    var isEmpty: Bool { entries.isEmpty }

    /// Whether any value holds a `%` variable.
    var hasVariables: Bool { entries.contains { $0.template.contains("%") } }
}
