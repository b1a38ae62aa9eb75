/// One lexical token of a Sieve script (RFC 5228 section 8.1).
public struct SieveToken: Sendable, Hashable {
    /// The token kinds of RFC 5228 section 8.1.
    public enum Kind: Sendable, Hashable {
        /// An identifier, lowercased (Sieve identifiers are case-insensitive).
        case identifier(String)
        /// A tag such as `:is`, without the colon, lowercased.
        case tag(String)
        /// A number with its quantifier (K, M, G) applied.
        case number(UInt64)
        /// A quoted string with its escapes resolved.
        case quotedString(String)
        /// A `text:` multi-line string with dot-stuffing removed, without the terminating `.` line.
        case multiLineString(String)
        /// `[`
        case leftBracket
        /// `]`
        case rightBracket
        /// `(`
        case leftParenthesis
        /// `)`
        case rightParenthesis
        /// `{`
        case leftBrace
        /// `}`
        case rightBrace
        /// `,`
        case comma
        /// `;`
        case semicolon
    }

    /// What the token is.
    public var kind: Kind
    /// Where the token starts.
    public var location: SieveSourceLocation

    /// Creates a token of `kind` starting at `location`.
    public init(_ kind: Kind, at location: SieveSourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// A short description for error messages, e.g. `identifier 'keep'` or `'{'`.
    public var displayName: String {
        switch kind {
        case .identifier(let name): return "identifier '\(name)'"
        case .tag(let name): return "tag ':\(name)'"
        case .number(let value): return "number \(value)"
        case .quotedString: return "string"
        case .multiLineString: return "multi-line string"
        case .leftBracket: return "'['"
        case .rightBracket: return "']'"
        case .leftParenthesis: return "'('"
        case .rightParenthesis: return "')'"
        case .leftBrace: return "'{'"
        case .rightBrace: return "'}'"
        case .comma: return "','"
        case .semicolon: return "';'"
        }
    }
}
