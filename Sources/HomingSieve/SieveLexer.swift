/// Splits a Sieve script into tokens, following RFC 5228 section 8.1.
///
/// Line breaks may be CRLF or a bare LF. Comments and white space are dropped.
/// The lexer is a pure value: `tokenize()` does no I/O.
public struct SieveLexer: Sendable {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var column = 1

    /// Creates a lexer over the UTF-8 bytes of `source`.
    public init(source: String) {
        self.bytes = Array(source.utf8)
    }

    /// Creates a lexer over raw script bytes (expected to be UTF-8).
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Returns every token of the script, or the first lexical error.
    public static func tokenize(_ source: String) throws(SieveError) -> [SieveToken] {
        var lexer = SieveLexer(source: source)
        return try lexer.tokenize()
    }

    /// Returns every remaining token of the script, or the first lexical error.
    public mutating func tokenize() throws(SieveError) -> [SieveToken] {
        var tokens: [SieveToken] = []
        while let token = try nextToken() {
            tokens.append(token)
        }
        return tokens
    }

    /// Returns the next token, `nil` at the end of the script.
    public mutating func nextToken() throws(SieveError) -> SieveToken? {
        try skipWhiteSpaceAndComments()
        guard let byte = peek() else { return nil }
        let start = location
        switch byte {
        case UInt8(ascii: "["):
            advance()
            return SieveToken(.leftBracket, at: start)
        case UInt8(ascii: "]"):
            advance()
            return SieveToken(.rightBracket, at: start)
        case UInt8(ascii: "("):
            advance()
            return SieveToken(.leftParenthesis, at: start)
        case UInt8(ascii: ")"):
            advance()
            return SieveToken(.rightParenthesis, at: start)
        case UInt8(ascii: "{"):
            advance()
            return SieveToken(.leftBrace, at: start)
        case UInt8(ascii: "}"):
            advance()
            return SieveToken(.rightBrace, at: start)
        case UInt8(ascii: ","):
            advance()
            return SieveToken(.comma, at: start)
        case UInt8(ascii: ";"):
            advance()
            return SieveToken(.semicolon, at: start)
        case UInt8(ascii: "\""): return try quotedString()
        case UInt8(ascii: ":"):
            advance()
            guard let next = peek(), Self.isIdentifierStart(next) else {
                throw SieveError(
                    .unexpectedCharacter, at: start, "expected an identifier after ':' to form a tag")
            }
            return SieveToken(.tag(identifierText()), at: start)
        default:
            if Self.isDigit(byte) { return try number() }
            if Self.isIdentifierStart(byte) {
                let name = identifierText()
                if name == "text", peek() == UInt8(ascii: ":") {
                    advance()
                    return try multiLineString(start: start)
                }
                return SieveToken(.identifier(name), at: start)
            }
            throw SieveError(
                .unexpectedCharacter, at: start, "unexpected character \(Self.describe(byte))")
        }
    }

    // MARK: - Position

    private var location: SieveSourceLocation { SieveSourceLocation(line: line, column: column) }

    private func peek(_ offset: Int = 0) -> UInt8? {
        let position = index + offset
        return position < bytes.count ? bytes[position] : nil
    }

    private mutating func advance() {
        guard index < bytes.count else { return }
        let byte = bytes[index]
        index += 1
        if byte == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    // MARK: - White space and comments

    private mutating func skipWhiteSpaceAndComments() throws(SieveError) {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                advance()
            case UInt8(ascii: "#"):
                skipHashComment()
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                let start = location
                advance()
                advance()
                var closed = false
                while let current = peek() {
                    advance()
                    if current == UInt8(ascii: "*"), peek() == UInt8(ascii: "/") {
                        advance()
                        closed = true
                        break
                    }
                }
                if !closed {
                    // Reported at the end of the script, as Pigeonhole does.
                    throw SieveError(
                        .unterminatedComment, at: location,
                        "end of file before end of bracket comment ('/* ... */') started at line \(start.line)")
                }
            default:
                return
            }
        }
    }

    /// Skips a `#` comment up to and including its line break (or the end of the script).
    private mutating func skipHashComment() {
        while let byte = peek() {
            advance()
            if byte == UInt8(ascii: "\n") { return }
        }
    }

    // MARK: - Identifiers and numbers

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func isAlpha(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        isAlpha(byte) || byte == UInt8(ascii: "_")
    }

    /// Reads `(ALPHA / "_") *(ALPHA / DIGIT / "_")`, lowercased.
    private mutating func identifierText() -> String {
        var text: [UInt8] = []
        while let byte = peek(), Self.isIdentifierStart(byte) || Self.isDigit(byte) {
            text.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte)
            advance()
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Reads `1*DIGIT [QUANTIFIER]`; K, M and G multiply by 2^10, 2^20 and 2^30.
    private mutating func number() throws(SieveError) -> SieveToken {
        let start = location
        var value: UInt64 = 0
        var overflow = false
        while let byte = peek(), Self.isDigit(byte) {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            overflow = overflow || o1 || o2
            value = sum
            advance()
        }
        var shift: UInt64 = 0
        switch peek() {
        case UInt8(ascii: "K"), UInt8(ascii: "k"): shift = 10
        case UInt8(ascii: "M"), UInt8(ascii: "m"): shift = 20
        case UInt8(ascii: "G"), UInt8(ascii: "g"): shift = 30
        default: break
        }
        if shift > 0 {
            advance()
            if value > UInt64.max >> shift { overflow = true }
            value <<= shift
        }
        if overflow {
            throw SieveError(
                .numberOverflow, at: start, "number is too large (the maximum is \(UInt64.max))")
        }
        return SieveToken(.number(value), at: start)
    }

    // MARK: - Strings

    /// Reads a quoted string; `\"` and `\\` are escapes, any other backslash is dropped. An
    /// unterminated string is reported at the end of the script (where Pigeonhole reports it).
    private mutating func quotedString() throws(SieveError) -> SieveToken {
        let start = location
        advance()
        var text: [UInt8] = []
        while let byte = peek() {
            advance()
            switch byte {
            case UInt8(ascii: "\""):
                return SieveToken(.quotedString(try Self.decode(text, start: start)), at: start)
            case UInt8(ascii: "\\"):
                guard let escaped = peek() else { break }
                text.append(escaped)
                advance()
            default:
                text.append(byte)
            }
        }
        throw SieveError(
            .unterminatedString, at: location,
            "end of file before end of quoted string started at line \(start.line)")
    }

    /// Reads a `text:` multi-line string after the `text:` keyword.
    ///
    /// Lines keep their own line breaks; a line starting with `.` loses that dot;
    /// the line holding only `.` ends the string.
    private mutating func multiLineString(start: SieveSourceLocation) throws(SieveError) -> SieveToken {
        while let byte = peek(), byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
            advance()
        }
        switch peek() {
        case UInt8(ascii: "#"):
            skipHashComment()
        case UInt8(ascii: "\n"):
            advance()
        case UInt8(ascii: "\r") where peek(1) == UInt8(ascii: "\n"):
            advance()
            advance()
        case nil:
            throw SieveError(
                .unterminatedMultiLineString, at: location, "end of file before end of multi-line string")
        case let other?:
            throw SieveError(
                .unexpectedCharacter, at: location,
                "unexpected character \(Self.describe(other)) after 'text:' (expected a line break or a '#' comment)"
            )
        }
        var text: [UInt8] = []
        while index < bytes.count {
            var lineBytes: [UInt8] = []
            var lineBreak: [UInt8] = []
            while let byte = peek() {
                advance()
                if byte == UInt8(ascii: "\n") {
                    lineBreak.append(byte)
                    break
                }
                lineBytes.append(byte)
            }
            if lineBytes.last == UInt8(ascii: "\r"), !lineBreak.isEmpty {
                lineBytes.removeLast()
                lineBreak.insert(UInt8(ascii: "\r"), at: 0)
            }
            if lineBytes == [UInt8(ascii: ".")] {
                return SieveToken(.multiLineString(try Self.decode(text, start: start)), at: start)
            }
            if lineBytes.first == UInt8(ascii: ".") {
                lineBytes.removeFirst()
            }
            text.append(contentsOf: lineBytes)
            text.append(contentsOf: lineBreak)
        }
        throw SieveError(
            .unterminatedMultiLineString, at: location, "end of file before end of multi-line string")
    }

    /// Decodes string contents, refusing bytes that are not UTF-8.
    private static func decode(_ text: [UInt8], start: SieveSourceLocation) throws(SieveError)
        -> String
    {
        guard let decoded = String(validating: text, as: UTF8.self) else {
            throw SieveError(.invalidUTF8, at: start, "string is not valid UTF-8")
        }
        return decoded
    }

    private static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return "0x" + (hex.count < 2 ? "0" + hex : hex)
    }
}
