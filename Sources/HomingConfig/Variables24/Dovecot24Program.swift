/// A Dovecot 2.4 template, parsed: literal text and `%{...}` pipelines, as Dovecot's
/// `var_expand_program_create` reads them.
///
/// - Text outside `%{` is literal; `%%{` is a literal `%{`; any other `%` is itself (`%%` stays
///   `%%`, and so does `%d`: Homing's loader rejects that one separately, because in a file
///   converted from 2.3 it is almost always a forgotten variable).
/// - `%{ a | b(x, 'y', key=1) | c + 1 }`: a pipeline of statements separated by `|`. The first
///   statement is a variable name or a function (`literal`, `lookup`, `if`, `concat`...), each
///   later one a filter. Arguments are numbers (`-12`), quoted strings (`'..'` or `".."` with `\`
///   escapes: `\\ \' \" \t \r \n \xHH \OOO`) or variable names; named arguments are `key=value`.
///   An operator (`+ - * / %`) and a number or variable after a statement is a `calculate` step.
/// - Blanks inside `%{ }` are ignored; names are `[A-Za-z\x80-\xff][A-Za-z0-9_/;:.\x80-\xff-]*`,
///   so `ldap:homeDirectory` and `userdb:quota_rule` are single names.
struct Dovecot24Program: Sendable, Hashable {
    /// One argument of a statement.
    enum Parameter: Sendable, Hashable {
        case string(String)
        case number(Int)
        /// A variable name, looked up when the statement runs.
        case variable(String)
    }

    /// One step of a pipeline: a function (or, first, a variable) and its arguments.
    struct Statement: Sendable, Hashable {
        var function: String
        /// Positional arguments in order.
        var positional: [Parameter] = []
        /// Named arguments (`rounds=1000`), keys lower-cased, sorted by key as Dovecot keeps them.
        var named: [(key: String, value: Parameter)] = []

        static func == (lhs: Statement, rhs: Statement) -> Bool {
            lhs.function == rhs.function && lhs.positional == rhs.positional
                && lhs.named.map(\.key) == rhs.named.map(\.key) && lhs.named.map(\.value) == rhs.named.map(\.value)
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(function)
            hasher.combine(positional)
            for (key, value) in named {
                hasher.combine(key)
                hasher.combine(value)
            }
        }
    }

    /// A run of the template.
    enum Piece: Sendable, Hashable {
        /// Text copied as it is (never escaped).
        case literal(String)
        /// `%{...}`: the statements in order, and where the `%` is (0-based byte offset).
        case pipeline([Statement], position: Int)
    }

    var pieces: [Piece]

    /// The operators of a `calculate` step, numbered as Dovecot numbers them.
    enum Operator: Int, Sendable {
        case plus = 0, minus, times, divide, modulo
    }

    // MARK: - Parsing

    /// Parses `text`; a syntax error names its byte position.
    static func parse(_ text: String) throws(VariableExpansionError) -> Dovecot24Program {
        var parser = Parser(bytes: Array(text.utf8))
        return Dovecot24Program(pieces: try parser.template())
    }

    /// Every variable the template refers to: first-statement names (which may turn out to be
    /// functions, see ``isFunction(_:)``) and variable arguments, each with its pipeline's position.
    var variableReferences: [(name: String, position: Int, isFirst: Bool)] {
        var result: [(String, Int, Bool)] = []
        for piece in pieces {
            guard case .pipeline(let statements, let position) = piece else { continue }
            for (index, statement) in statements.enumerated() {
                if index == 0 { result.append((statement.function, position, true)) }
                for parameter in statement.positional + statement.named.map(\.value) {
                    if case .variable(let name) = parameter { result.append((name, position, false)) }
                }
            }
        }
        return result
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        mutating func template() throws(VariableExpansionError) -> [Piece] {
            var pieces: [Piece] = []
            var literal: [UInt8] = []
            func flush() {
                if !literal.isEmpty { pieces.append(.literal(String(decoding: literal, as: UTF8.self))) }
                literal = []
            }
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "%") {
                    if starts(with: "%%{") {
                        literal += Array("%{".utf8)
                        index += 3
                        continue
                    }
                    if starts(with: "%{") {
                        flush()
                        let start = index
                        index += 2
                        let statements = try pipeline(start: start)
                        pieces.append(.pipeline(statements, position: start))
                        continue
                    }
                }
                literal.append(byte)
                index += 1
            }
            flush()
            return pieces
        }

        private func starts(with text: String) -> Bool {
            let needle = Array(text.utf8)
            guard index + needle.count <= bytes.count else { return false }
            return Array(bytes[index..<(index + needle.count)]) == needle
        }

        // MARK: Tokens

        enum Token: Equatable {
            case name(String), value(String), number(String)
            case close, pipe, openParen, closeParen, comma, equals, plus, minus, star, slash, percent
            case end
        }

        private mutating func skipBlanks() {
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
                index += 1
            }
        }

        private static func isNameStart(_ byte: UInt8) -> Bool {
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte >= 0x80
        }

        private static func isNameByte(_ byte: UInt8) -> Bool {
            isNameStart(byte) || (byte >= 0x30 && byte <= 0x39)
                || [UInt8(ascii: "_"), UInt8(ascii: "/"), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "."),
                    UInt8(ascii: "-")].contains(byte)
        }

        /// The next token inside `%{ }` and where it starts.
        private mutating func next() throws(VariableExpansionError) -> (Token, Int) {
            skipBlanks()
            let start = index
            guard index < bytes.count else { return (.end, start) }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "}"): return (.close, start)
            case UInt8(ascii: "|"): return (.pipe, start)
            case UInt8(ascii: "("): return (.openParen, start)
            case UInt8(ascii: ")"): return (.closeParen, start)
            case UInt8(ascii: ","): return (.comma, start)
            case UInt8(ascii: "="): return (.equals, start)
            case UInt8(ascii: "+"): return (.plus, start)
            case UInt8(ascii: "-"): return (.minus, start)
            case UInt8(ascii: "*"): return (.star, start)
            case UInt8(ascii: "/"): return (.slash, start)
            case UInt8(ascii: "%"): return (.percent, start)
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                return (.value(try quoted(byte, start: start)), start)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
                return (.number(String(decoding: bytes[start..<index], as: UTF8.self)), start)
            default:
                guard Self.isNameStart(byte) else {
                    throw .syntax(message: "unexpected character '\(String(decoding: [byte], as: UTF8.self))'", position: start)
                }
                while index < bytes.count, Self.isNameByte(bytes[index]) { index += 1 }
                guard let name = String(validating: bytes[start..<index], as: UTF8.self) else {
                    throw .syntax(message: "Invalid UTF-8 string", position: start)
                }
                return (.name(name), start)
            }
        }

        /// A quoted string; the opening quote is already read.
        private mutating func quoted(_ quote: UInt8, start: Int) throws(VariableExpansionError) -> String {
            var collected: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == quote {
                    guard let text = String(validating: collected, as: UTF8.self) else {
                        throw .syntax(message: "Invalid UTF-8 string", position: start)
                    }
                    return text
                }
                guard byte == UInt8(ascii: "\\") else {
                    collected.append(byte)
                    continue
                }
                guard index < bytes.count else { break }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\\"): collected.append(escaped)
                case UInt8(ascii: "'"), UInt8(ascii: "\""): collected.append(escaped)
                case UInt8(ascii: "t"): collected.append(0x09)
                case UInt8(ascii: "r"): collected.append(0x0D)
                case UInt8(ascii: "n"): collected.append(0x0A)
                case UInt8(ascii: "x"):
                    guard index + 1 < bytes.count, let value = UInt8(String(decoding: bytes[index...(index + 1)], as: UTF8.self), radix: 16) else {
                        throw .syntax(message: "Invalid character escape", position: index - 2)
                    }
                    index += 2
                    collected.append(value)
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    var digits = [escaped]
                    while digits.count < 3, index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                        digits.append(bytes[index])
                        index += 1
                    }
                    guard let value = UInt16(String(decoding: digits, as: UTF8.self), radix: 8), value <= 255,
                          digits.allSatisfy({ $0 <= UInt8(ascii: "7") })
                    else { throw .syntax(message: "Invalid character escape", position: index - digits.count - 1) }
                    collected.append(UInt8(value))
                default:
                    throw .syntax(message: "Invalid character escape", position: index - 2)
                }
            }
            throw .syntax(message: "missing closing \(quote == UInt8(ascii: "'") ? "'" : "\"") in string", position: start)
        }

        // MARK: Grammar

        /// `filter ( | filter )* }` after `%{`.
        mutating func pipeline(start: Int) throws(VariableExpansionError) -> [Statement] {
            var statements: [Statement] = []
            var token = try next()
            while true {
                switch token.0 {
                case .end:
                    throw .syntax(message: "'%{' has no closing '}'", position: start)
                case .close:
                    return statements
                case .pipe:
                    token = try next()
                    continue
                case .name(let name):
                    var statement = Statement(function: name)
                    token = try next()
                    if token.0 == .openParen {
                        try arguments(into: &statement)
                        token = try next()
                    }
                    statements.append(statement)
                    if let op = Self.operator(token.0) {
                        let (operand, operandStart) = try next()
                        var calculate = Statement(function: "calculate", positional: [.number(op.rawValue)])
                        switch operand {
                        case .number(let digits):
                            calculate.positional.append(.number(try number(digits, negative: false, at: operandStart)))
                        case .minus:
                            let (digits, digitsStart) = try next()
                            guard case .number(let text) = digits else {
                                throw .syntax(message: "expected a number after '-'", position: digitsStart)
                            }
                            calculate.positional.append(.number(try number(text, negative: true, at: digitsStart)))
                        case .name(let variable):
                            calculate.positional.append(.variable(variable))
                        default:
                            throw .syntax(message: "expected a number or a variable after the operator", position: operandStart)
                        }
                        statements.append(calculate)
                        token = try next()
                    }
                    switch token.0 {
                    case .pipe, .close, .end: continue
                    default:
                        throw .syntax(message: "expected '|' or '}' after \(name)", position: token.1)
                    }
                default:
                    throw .syntax(message: "expected a variable or function name", position: token.1)
                }
            }
        }

        private static func `operator`(_ token: Token) -> Operator? {
            switch token {
            case .plus: return .plus
            case .minus: return .minus
            case .star: return .times
            case .slash: return .divide
            case .percent: return .modulo
            default: return nil
            }
        }

        private func number(_ digits: String, negative: Bool, at position: Int) throws(VariableExpansionError) -> Int {
            guard let value = Int(negative ? "-" + digits : digits) else {
                throw .syntax(message: "Not a number", position: position)
            }
            return value
        }

        /// `argument (, argument)* )` after `(`.
        private mutating func arguments(into statement: inout Statement) throws(VariableExpansionError) {
            while true {
                let (token, start) = try next()
                var parameter: Parameter
                var key: String?
                switch token {
                case .value(let text): parameter = .string(text)
                case .number(let digits): parameter = .number(try number(digits, negative: false, at: start))
                case .minus:
                    let (digits, digitsStart) = try next()
                    guard case .number(let text) = digits else {
                        throw .syntax(message: "expected a number after '-'", position: digitsStart)
                    }
                    parameter = .number(try number(text, negative: true, at: digitsStart))
                case .name(let name):
                    let save = index
                    let (following, _) = try next()
                    if following == .equals {
                        key = name.lowercased()
                        let (value, valueStart) = try next()
                        switch value {
                        case .value(let text): parameter = .string(text)
                        case .number(let digits): parameter = .number(try number(digits, negative: false, at: valueStart))
                        case .minus:
                            let (digits, digitsStart) = try next()
                            guard case .number(let text) = digits else {
                                throw .syntax(message: "expected a number after '-'", position: digitsStart)
                            }
                            parameter = .number(try number(text, negative: true, at: digitsStart))
                        case .name(let variable): parameter = .variable(variable)
                        default: throw .syntax(message: "expected a value after '\(name)='", position: valueStart)
                        }
                    } else {
                        index = save
                        parameter = .variable(name)
                    }
                case .closeParen where statement.positional.isEmpty && statement.named.isEmpty:
                    throw .syntax(message: "empty argument list '()' after \(statement.function)", position: start)
                default:
                    throw .syntax(message: "expected an argument of \(statement.function)", position: start)
                }
                if let key {
                    let insertAt = statement.named.firstIndex { $0.key >= key } ?? statement.named.count
                    statement.named.insert((key, parameter), at: insertAt)
                } else {
                    statement.positional.append(parameter)
                }
                let (separator, separatorStart) = try next()
                switch separator {
                case .comma: continue
                case .closeParen: return
                default: throw .syntax(message: "expected ',' or ')' in the arguments of \(statement.function)", position: separatorStart)
                }
            }
        }
    }
}
