/// Builds a `SieveScript` from tokens, following the grammar of RFC 5228 section 8.2.
///
/// The parser only checks the grammar; `SieveValidator` checks commands, tests and `require`.
public struct SieveParser: Sendable {
    /// Limits that protect the server from hostile scripts.
    public struct Limits: Sendable, Hashable {
        /// The deepest allowed nesting of blocks (`if` inside `if` ...).
        public var maxBlockNesting: Int
        /// The deepest allowed nesting of tests (`not not ...`, `allof(anyof(...))`).
        public var maxTestNesting: Int

        /// Creates limits; the defaults are Pigeonhole's (32 and 32).
        public init(maxBlockNesting: Int = 32, maxTestNesting: Int = 32) {
            self.maxBlockNesting = maxBlockNesting
            self.maxTestNesting = maxTestNesting
        }
    }

    private let tokens: [SieveToken]
    private let limits: Limits
    private var index = 0
    private var endLocation: SieveSourceLocation

    /// Creates a parser over `tokens`; `endLocation` is where the script ends (for end-of-script errors).
    public init(tokens: [SieveToken], endLocation: SieveSourceLocation, limits: Limits = Limits()) {
        self.tokens = tokens
        self.limits = limits
        self.endLocation = endLocation
    }

    /// Lexes and parses `source`, returning the script or the first error.
    public static func parse(_ source: String, limits: Limits = Limits()) throws(SieveError)
        -> SieveScript
    {
        let tokens = try SieveLexer.tokenize(source)
        var line = 1
        var column = 1
        for byte in source.utf8 {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        var parser = SieveParser(
            tokens: tokens, endLocation: SieveSourceLocation(line: line, column: column), limits: limits)
        return try parser.parseScript()
    }

    /// Parses the whole token stream as `start = commands`.
    public mutating func parseScript() throws(SieveError) -> SieveScript {
        var commands: [SieveCommand] = []
        while let token = peek() {
            if token.kind == .rightBrace {
                throw SieveError(.syntax, at: token.location, "unexpected '}' without a matching '{'")
            }
            commands.append(try parseCommand(depth: 0))
        }
        return SieveScript(commands: commands)
    }

    // MARK: - Tokens

    private func peek() -> SieveToken? {
        index < tokens.count ? tokens[index] : nil
    }

    private func found(_ token: SieveToken?) -> String {
        token.map { $0.displayName } ?? "end of script"
    }

    private func here(_ token: SieveToken?) -> SieveSourceLocation {
        token?.location ?? endLocation
    }

    // MARK: - Productions

    /// `command = identifier arguments (";" / block)`
    private mutating func parseCommand(depth: Int) throws(SieveError) -> SieveCommand {
        let token = peek()
        guard let token, case .identifier(let name) = token.kind else {
            throw SieveError(
                .syntax, at: here(token), "expected a command name, but found \(found(token))")
        }
        index += 1
        let arguments = try parseArguments()
        let tests = try parseTestPart(after: name, kind: "command", depth: 0)
        let next = peek()
        switch next?.kind {
        case .semicolon?:
            index += 1
            return SieveCommand(name: name, arguments: arguments, tests: tests, location: token.location)
        case .leftBrace?:
            guard let brace = next else { break }
            if depth + 1 > limits.maxBlockNesting {
                throw SieveError(
                    .nestingTooDeep, at: brace.location,
                    "cannot nest command blocks deeper than \(limits.maxBlockNesting) levels")
            }
            index += 1
            var block: [SieveCommand] = []
            while true {
                let inner = peek()
                if inner == nil {
                    throw SieveError(
                        .syntax, at: endLocation,
                        "missing closing brace '}' for the block of the \(name) command opened at line \(brace.location.line)"
                    )
                }
                if inner?.kind == .rightBrace {
                    index += 1
                    break
                }
                block.append(try parseCommand(depth: depth + 1))
            }
            return SieveCommand(
                name: name, arguments: arguments, tests: tests, block: block, location: token.location)
        default:
            break
        }
        throw SieveError(
            .syntax, at: here(next),
            "expected end of command ';' or the beginning of a compound block '{', but found \(found(next))"
        )
    }

    /// `arguments = *argument` (the test part is parsed separately).
    private mutating func parseArguments() throws(SieveError) -> [SieveArgument] {
        var arguments: [SieveArgument] = []
        while let token = peek() {
            switch token.kind {
            case .tag(let name):
                index += 1
                arguments.append(SieveArgument(.tag(name), at: token.location))
            case .number(let value):
                index += 1
                arguments.append(SieveArgument(.number(value), at: token.location))
            case .quotedString(let text), .multiLineString(let text):
                index += 1
                arguments.append(SieveArgument(.string(text), at: token.location))
            case .leftBracket:
                arguments.append(try parseStringList())
            default:
                return arguments
            }
        }
        return arguments
    }

    /// `"[" string *("," string) "]"`
    private mutating func parseStringList() throws(SieveError) -> SieveArgument {
        let open = tokens[index]
        index += 1
        var strings: [String] = []
        while true {
            let token = peek()
            switch token?.kind {
            case .quotedString(let text)?, .multiLineString(let text)?:
                strings.append(text)
                index += 1
            default:
                throw SieveError(
                    .syntax, at: here(token), "expected a string in string list, but found \(found(token))")
            }
            let separator = peek()
            switch separator?.kind {
            case .comma?:
                index += 1
            case .rightBracket?:
                index += 1
                return SieveArgument(.stringList(strings), at: open.location)
            default:
                throw SieveError(
                    .syntax, at: here(separator),
                    "expected ',' or ']' in string list opened at line \(open.location.line), but found \(found(separator))"
                )
            }
        }
    }

    /// `[ test / test-list ]` after the arguments of a command or test named `owner`.
    private mutating func parseTestPart(after owner: String, kind: String, depth: Int)
        throws(SieveError) -> SieveTestArguments
    {
        let token = peek()
        switch token?.kind {
        case .identifier?:
            return .single([try parseTest(depth: depth + 1)])
        case .leftParenthesis?:
            guard let open = token else { return .none }
            index += 1
            var tests: [SieveTest] = []
            while true {
                let next = peek()
                guard case .identifier? = next?.kind else {
                    throw SieveError(
                        .syntax, at: here(next),
                        "expected a test in the test list of the \(owner) \(kind), but found \(found(next))")
                }
                tests.append(try parseTest(depth: depth + 1))
                let separator = peek()
                switch separator?.kind {
                case .comma?:
                    index += 1
                case .rightParenthesis?:
                    index += 1
                    return .list(tests)
                default:
                    throw SieveError(
                        .syntax, at: here(separator),
                        "expected ',' or ')' in test list opened at line \(open.location.line), but found \(found(separator))"
                    )
                }
            }
        default:
            return .none
        }
    }

    /// `test = identifier arguments`
    private mutating func parseTest(depth: Int) throws(SieveError) -> SieveTest {
        let token = tokens[index]
        guard case .identifier(let name) = token.kind else {
            throw SieveError(
                .syntax, at: token.location, "expected a test name, but found \(token.displayName)")
        }
        if depth > limits.maxTestNesting {
            throw SieveError(
                .nestingTooDeep, at: token.location,
                "cannot nest tests deeper than \(limits.maxTestNesting) levels")
        }
        index += 1
        let arguments = try parseArguments()
        let tests = try parseTestPart(after: name, kind: "test", depth: depth)
        return SieveTest(name: name, arguments: arguments, tests: tests, location: token.location)
    }
}
