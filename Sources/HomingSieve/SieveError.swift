/// A compile error in a Sieve script: what is wrong and where.
///
/// `description` follows Pigeonhole's wording, `line N: error: message.`
public struct SieveError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem was found.
    public enum Kind: Sendable, Hashable {
        /// A character that cannot start any token.
        case unexpectedCharacter
        /// A quoted string without its closing `"`.
        case unterminatedString
        /// A `text:` string without its terminating `.` line, or a bad `text:` header.
        case unterminatedMultiLineString
        /// A `/*` comment without its closing `*/`.
        case unterminatedComment
        /// A string that is not valid UTF-8 (RFC 5228 section 2.4.2).
        case invalidUTF8
        /// A number that does not fit in 64 bits after applying its quantifier.
        case numberOverflow
        /// The token stream does not follow the grammar of RFC 5228 section 8.2.
        case syntax
        /// Blocks or tests nested deeper than the configured limit.
        case nestingTooDeep
        /// `require` names an extension this implementation does not know.
        case unknownExtension
        /// A command or test name that is unknown (or needs an extension not required).
        case unknownCommand
        /// Wrong number or type of arguments, tags, tests or blocks.
        case invalidArguments
        /// A command in a place it may not appear (`require` late, `elsif` without `if`).
        case misplacedCommand
        /// A value that is syntactically fine but not acceptable (an invalid variable name, date
        /// part, time zone, regular expression, address or script name).
        case invalidValue
        /// An `encoded-character` sequence naming a character that does not exist.
        case invalidEncodedCharacter
        /// The script is larger than the configured `sieve_max_script_size`.
        case scriptTooLarge
    }

    /// The kind of problem.
    public var kind: Kind
    /// Where the problem is.
    public var location: SieveSourceLocation
    /// The message for people, without the `line N: error:` prefix.
    public var message: String

    /// Creates an error of `kind` at `location` with `message`.
    public init(_ kind: Kind, at location: SieveSourceLocation, _ message: String) {
        self.kind = kind
        self.location = location
        self.message = message
    }

    /// `line N: error: message.`, as Pigeonhole prints it.
    public var description: String { "line \(location.line): error: \(message)." }

    /// `line N, column C: error: message.`: the description with the column added.
    public var descriptionWithColumn: String {
        "line \(location.line), column \(location.column): error: \(message)."
    }
}
