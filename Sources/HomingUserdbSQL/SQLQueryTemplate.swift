import HomingConfig

/// A query from dovecot-sql.conf.ext (`user_query`, `iterate_query`) prepared for safe `%`
/// expansion.
///
/// Every single-quoted string literal that holds a `%` (`'%u'`, `'%n@%d'`, `'/var/vmail/%d/%n'`)
/// becomes a bound parameter (`$1`, `$2`, ...) whose value is the literal's expanded content; the
/// server never parses a recipient's text as SQL. The parameters are sent with the type `unknown`,
/// which PostgreSQL resolves from the context exactly as it resolves a quoted literal, so
/// `WHERE uid = '%{...}'` (an integer column) and `SELECT '%d' AS domain` keep working.
///
/// Where a parameter cannot stand in for the literal, the variables are expanded into the query
/// text with every substituted value escaped (PQescapeStringConn's rules: in a literal, quotes
/// doubled; the caller supplies the escaping function):
/// - a literal after a type name (`interval '%x days'`, `date '...'`),
/// - an `E'...'` literal (quotes and backslashes doubled),
/// - a variable outside any literal (`... = %u`), which Dovecot escapes the same way: quote it
///   in the query, or it is not safe (``hasUnquotedVariables`` lets the driver warn at start).
///
/// Comments (`--`, `/* */`), `"identifiers"` and `$$dollar-quoted$$` text are recognised so that
/// a quote inside them does not confuse the split.
struct SQLQueryTemplate: Sendable, Hashable {
    /// A run of the query.
    enum Piece: Sendable, Hashable {
        /// Query text; `%` variables in it are expanded with escaping.
        case text(String)
        /// The content of a quoted literal (quotes removed, `''` undone), sent as a parameter.
        case parameter(String)
        /// An `E'...'` literal with variables: expanded with quotes and backslashes doubled,
        /// whatever the server's standard_conforming_strings.
        case escapeStringLiteral(String)
    }

    var pieces: [Piece]

    /// The query as written.
    let source: String

    init(_ query: String) {
        source = query
        pieces = Self.split(query)
    }

    /// Whether a `%` variable sits outside every quoted literal (expanded and escaped, but not
    /// quoted: unsafe unless the query quotes it some other way).
    var hasUnquotedVariables: Bool {
        pieces.contains { piece in
            guard case .text(let text) = piece else { return false }
            return Self.unquotedRegions(of: text).contains { Self.containsVariable($0) }
        }
    }

    /// Expands the variables: returns the SQL text (with `$n` placeholders) and the parameter
    /// values in order. `escape` is applied to each value substituted into the text.
    func render(
        with expander: VariableExpander, escape: (String) -> String
    ) throws(VariableExpansionError) -> (sql: String, parameters: [String]) {
        var sql = ""
        var parameters: [String] = []
        for piece in pieces {
            switch piece {
            case .text(let text):
                sql += try expander.expand(text, escape: escape)
            case .parameter(let literal):
                parameters.append(try expander.expand(literal))
                sql += "$\(parameters.count)"
            case .escapeStringLiteral(let literal):
                sql += try expander.expand(literal, escape: Self.doublingQuotesAndBackslashes)
            }
        }
        return (sql, parameters)
    }

    // MARK: - Splitting

    /// Words after which a quoted literal is a value (a parameter fits); after any other word
    /// it is a typed literal such as `date '2024-01-01'`, where only a literal is allowed.
    static let valueKeywords: Set<String> = [
        "and", "or", "not", "in", "like", "ilike", "similar", "to", "is", "distinct", "from", "select",
        "where", "when", "then", "else", "on", "by", "values", "returning", "between", "escape", "case",
        "any", "all", "some", "limit", "offset", "set", "having", "using", "with", "as", "return",
    ]

    private static func split(_ query: String) -> [Piece] {
        let characters = Array(query)
        var pieces: [Piece] = []
        var text = ""
        var index = 0
        func flushText() {
            if !text.isEmpty { pieces.append(.text(text)) }
            text = ""
        }
        while index < characters.count {
            let character = characters[index]
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            switch character {
            case "-" where next == "-":
                let end = characters[index...].firstIndex(of: "\n") ?? characters.count
                text += String(characters[index..<end])
                index = end
            case "/" where next == "*":
                var end = index + 2
                while end + 1 < characters.count, !(characters[end] == "*" && characters[end + 1] == "/") { end += 1 }
                end = min(end + 2, characters.count)
                text += String(characters[index..<end])
                index = end
            case "\"":
                let end = closingQuote(characters, from: index + 1, quote: "\"", backslashEscapes: false)
                text += String(characters[index..<end])
                index = end
            case "$":
                if let (tag, afterTag) = dollarTag(characters, at: index),
                    let close = find(tag, in: characters, from: afterTag)
                {
                    let end = close + tag.count
                    text += String(characters[index..<end])
                    index = end
                } else {
                    text.append(character)
                    index += 1
                }
            case "'":
                let isEString = index > 0 && (characters[index - 1] == "E" || characters[index - 1] == "e")
                    && !(index > 1 && isWordCharacter(characters[index - 2]))
                let end = closingQuote(characters, from: index + 1, quote: "'", backslashEscapes: isEString)
                let literal = String(characters[index..<end])
                let content = String(characters[(index + 1)..<max(index + 1, end - 1)])
                if !isEString, literal.count >= 2, literal.last == "'", content.contains("%"),
                    literalTakesParameter(before: text)
                {
                    flushText()
                    pieces.append(.parameter(undoublingQuotes(content)))
                } else if isEString, content.contains("%") {
                    flushText()
                    pieces.append(.escapeStringLiteral(literal))
                } else {
                    text += literal
                }
                index = end
            default:
                text.append(character)
                index += 1
            }
        }
        flushText()
        return pieces
    }

    /// Whether a literal that follows `text` stands where a value is expected.
    private static func literalTakesParameter(before text: String) -> Bool {
        var trimmed = Substring(text)
        while let last = trimmed.last, last.isWhitespace { trimmed.removeLast() }
        guard let last = trimmed.last else { return true }
        guard isWordCharacter(last) else { return true }
        var word = ""
        while let character = trimmed.last, isWordCharacter(character) {
            word.insert(character, at: word.startIndex)
            trimmed.removeLast()
        }
        if word.first?.isNumber == true { return true }
        return valueKeywords.contains(word.lowercased())
    }

    /// The index just past the closing quote (or the end of the query when there is none).
    /// A doubled quote is part of the content.
    private static func closingQuote(_ characters: [Character], from start: Int, quote: Character,
                                     backslashEscapes: Bool) -> Int {
        var index = start
        while index < characters.count {
            let character = characters[index]
            if backslashEscapes, character == "\\" {
                index += 2
                continue
            }
            if character == quote {
                if index + 1 < characters.count, characters[index + 1] == quote {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return characters.count
    }

    /// `$tag$` at `index`: the tag (with both dollars) and the index after it.
    private static func dollarTag(_ characters: [Character], at index: Int) -> ([Character], Int)? {
        if index > 0, isWordCharacter(characters[index - 1]) { return nil }
        var end = index + 1
        while end < characters.count, isWordCharacter(characters[end]), !characters[end].isNumber || end > index + 1 {
            end += 1
        }
        guard end < characters.count, characters[end] == "$" else { return nil }
        return (Array(characters[index...end]), end + 1)
    }

    private static func find(_ needle: [Character], in characters: [Character], from start: Int) -> Int? {
        guard !needle.isEmpty, characters.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= characters.count {
            if characters[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    private static func isWordCharacter(_ character: Character) -> Bool {
        character == "_" || character.isLetter || character.isNumber
    }

    /// The parts of a text piece outside literals, comments and quoted identifiers.
    private static func unquotedRegions(of text: String) -> [String] {
        var regions: [String] = []
        var current = ""
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil }
                continue
            }
            if character == "'" || character == "\"" {
                quote = character
                regions.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        regions.append(current)
        return regions
    }

    /// `it's` → `it''s`: a value made fit for a single-quoted literal when
    /// standard_conforming_strings is on (PostgreSQL's default).
    static func doublingQuotes(_ value: String) -> String {
        var output = ""
        for character in value {
            if character == "'" { output.append("'") }
            output.append(character)
        }
        return output
    }

    /// `a'b\c` → `a''b\\c`: a value made fit for an `E'...'` literal.
    static func doublingQuotesAndBackslashes(_ value: String) -> String {
        var output = ""
        for character in value {
            if character == "'" || character == "\\" { output.append(character) }
            output.append(character)
        }
        return output
    }

    /// A literal's content with each `''` turned back into `'`.
    private static func undoublingQuotes(_ content: String) -> String {
        var output = ""
        var previousWasQuote = false
        for character in content {
            if character == "'", previousWasQuote {
                previousWasQuote = false
                continue
            }
            previousWasQuote = character == "'"
            output.append(character)
        }
        return output
    }

    /// Whether `text` holds a `%` variable (not just `%%`).
    private static func containsVariable(_ text: String) -> Bool {
        var characters = text.makeIterator()
        while let character = characters.next() {
            guard character == "%" else { continue }
            guard let following = characters.next() else { return true }
            if following != "%" { return true }
        }
        return false
    }
}
