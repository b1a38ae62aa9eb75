/// Dovecot 2.3's `%` variables seen from 2.4: finding them in a 2.4 template (where they are an
/// error) and rewriting a 2.3 template in 2.4 syntax (for `homing config --print-2.4`), with
/// the replacements of Dovecot's upgrade guide (`%d` → `%{user | domain}`, `%Lu` →
/// `%{user | lower}`, `%2.256Nu` → `%{user | md5 | substr(0, 8) % 256 | hex(2)}`...).
enum Dovecot23Syntax {
    /// One 2.3 variable as written.
    struct Variable {
        var written: String
        var position: Int
        var spec: VariableSubstringSpec
        var modifiers: [Character]
        /// The letter, the long name, or `provider:key[:default]`.
        var name: String
        var isLetter: Bool
    }

    enum Piece {
        case literal(String)
        case variable(Variable)
    }

    /// Splits a 2.3 template. Returns nil when it is not valid 2.3 (an unclosed `%{`).
    static func pieces(_ template: String) -> [Piece]? {
        let characters = Array(template)
        var pieces: [Piece] = []
        var literal = ""
        var index = 0
        while index < characters.count {
            guard characters[index] == "%" else {
                literal.append(characters[index])
                index += 1
                continue
            }
            let start = index
            index += 1
            if index < characters.count, characters[index] == "%" {
                literal.append("%")
                index += 1
                continue
            }
            var spec = VariableSubstringSpec()
            spec.parseNumbers(characters, &index)
            var modifiers: [Character] = []
            while index < characters.count, VariableExpander.modifierLetters.contains(characters[index]) {
                modifiers.append(characters[index])
                index += 1
            }
            guard index < characters.count else { return nil }
            let name: String
            let isLetter: Bool
            if characters[index] == "{" {
                guard let end = characters[index...].firstIndex(of: "}") else { return nil }
                name = String(characters[(index + 1)..<end])
                isLetter = false
                index = end + 1
            } else {
                name = String(characters[index])
                isLetter = true
                index += 1
            }
            if !literal.isEmpty { pieces.append(.literal(literal)) }
            literal = ""
            pieces.append(.variable(Variable(written: String(characters[start..<index]), position: start, spec: spec,
                                             modifiers: modifiers, name: name, isLetter: isLetter)))
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        return pieces
    }

    // MARK: - In a 2.4 template

    /// The 2.3 variables in a template read as 2.4: `%d`, `%Lu`, `%1.2n`, `%L{user}`. `%%`,
    /// `%{` and a `%` before anything that is not a letter are fine in 2.4.
    static func obsoleteVariables(in template: String, context: TemplateChecks.Context) -> [VariableExpansionError] {
        let characters = Array(template)
        var result: [VariableExpansionError] = []
        var index = 0
        while index < characters.count {
            defer { index += 1 }
            guard characters[index] == "%", index + 1 < characters.count else { continue }
            if characters[index + 1] == "%" || characters[index + 1] == "{" {
                index += 1
                continue
            }
            var end = index + 1
            var spec = VariableSubstringSpec()
            spec.parseNumbers(characters, &end)
            var modifiers: [Character] = []
            while end < characters.count, VariableExpander.modifierLetters.contains(characters[end]) {
                modifiers.append(characters[end])
                end += 1
            }
            guard end < characters.count else { continue }
            let next = characters[end]
            let isVariable = next.isASCII && (next.isLetter || next == "$") || (next == "{" && end > index + 1)
            guard isVariable else { continue }
            var name = String(next)
            var stop = end + 1
            if next == "{", let close = characters[end...].firstIndex(of: "}") {
                name = String(characters[(end + 1)..<close])
                stop = close + 1
            }
            let written = String(characters[index..<stop])
            let variable = Variable(written: written, position: index, spec: spec, modifiers: modifiers, name: name,
                                    isLetter: next != "{")
            result.append(.obsoleteVariable(written: written, replacement: try? convert(variable, context: context),
                                            position: byteOffset(characters, index)))
            index = stop - 1
        }
        return result
    }

    private static func byteOffset(_ characters: [Character], _ index: Int) -> Int {
        characters[..<index].reduce(0) { $0 + $1.utf8.count }
    }

    // MARK: - Rewriting

    /// Why a 2.3 variable has no 2.4 form.
    struct Unconvertible: Error, CustomStringConvertible {
        var written: String
        var reason: String
        var description: String { "\(written): \(reason)" }
    }

    /// A 2.3 template in 2.4 syntax. Literal text that 2.4 would read as a variable start (`%{`)
    /// is escaped as `%%{`.
    static func convert(_ template: String, context: TemplateChecks.Context) throws(Unconvertible) -> String {
        guard let pieces = pieces(template) else {
            throw Unconvertible(written: template, reason: "not a valid 2.3 template")
        }
        var out = ""
        for piece in pieces {
            switch piece {
            case .literal(let text):
                var escaped = ""
                var characters = Array(text)[...]
                while let character = characters.popFirst() {
                    if character == "%", characters.first == "{" { escaped += "%%" } else { escaped.append(character) }
                }
                out += escaped
            case .variable(let variable):
                out += try convert(variable, context: context)
            }
        }
        return out
    }

    /// The 2.4 expression of a letter, by context.
    private static func letterExpression(_ letter: Character, context: TemplateChecks.Context) -> String? {
        if context == .deliveryLog {
            switch letter {
            case "$": return "message"
            case "m": return "msgid"
            case "s": return "subject"
            case "f": return "from"
            case "e": return "from_envelope"
            case "p": return "size"
            case "w": return "vsize"
            default: break
            }
        }
        switch letter {
        case "u": return "user"
        case "n": return "user | username"
        case "d": return "user | domain"
        case "h": return "home"
        case "s": return "service"
        case "l": return "local_ip"
        case "r": return "remote_ip"
        case "p": return "process:pid"
        case "i": return "process:uid"
        case "a": return "local_port"
        case "b": return "remote_port"
        case "c": return "secured"
        case "m": return "mechanism"
        case "w": return "password"
        default: return nil
        }
    }

    static func convert(_ variable: Variable, context: TemplateChecks.Context) throws(Unconvertible) -> String {
        var expression: String
        if variable.isLetter {
            guard let letter = variable.name.first, let mapped = letterExpression(letter, context: context) else {
                throw Unconvertible(written: variable.written, reason: "no 2.4 variable corresponds to %\(variable.name)")
            }
            expression = mapped
        } else if let colon = variable.name.firstIndex(of: ":") {
            let provider = variable.name[..<colon]
            let rest = variable.name[variable.name.index(after: colon)...]
            if let second = rest.firstIndex(of: ":") {
                let fallback = String(rest[rest.index(after: second)...])
                expression = "\(provider):\(rest[..<second]) | default(\(quoted(fallback)))"
            } else if provider == "ldap" {
                // 2.3 expanded a missing attribute to nothing; 2.4 fails without a default.
                expression = "\(provider):\(rest) | default"
            } else {
                expression = variable.name
            }
        } else if let replacement = VariableExpander.obsoleteLongNames[variable.name] {
            expression = String(replacement.dropFirst(2).dropLast())
        } else {
            expression = variable.name
        }
        var spec = variable.spec
        for modifier in variable.modifiers {
            switch modifier {
            case "L": expression += " | lower"
            case "U": expression += " | upper"
            case "R": expression += " | reverse"
            case "X": expression += " | hex"
            case "D": expression += " | ldap_dn"
            case "M": expression += " | md5 | hexlify"
            case "N":
                let modulus = spec.width > 0 ? spec.width : 0
                guard modulus > 0 else {
                    throw Unconvertible(written: variable.written, reason: "%N without a modulus has no 2.4 form")
                }
                expression += " | md5 | substr(0, 8) % \(modulus) | hex" + (spec.offset > 0 ? "(\(spec.offset))" : "")
                spec = VariableSubstringSpec()
            default:
                throw Unconvertible(written: variable.written,
                                    reason: "the %\(modifier) modifier has no 2.4 equivalent (see Dovecot's upgrade guide)")
            }
        }
        if !spec.isEmpty, spec.offset != 0 || spec.width != 0 {
            if spec.zeroPadding {
                expression += " | lfill(\(spec.width))"
            } else if spec.offset == 0, spec.width > 0 {
                expression += " | truncate(\(spec.width))"
            } else if spec.width == 0 {
                expression += " | substr(\(spec.offset))"
            } else {
                expression += " | substr(\(spec.offset), \(spec.width))"
            }
        }
        return "%{\(expression)}"
    }

    /// A 2.4 string literal.
    static func quoted(_ text: String) -> String {
        var out = "'"
        for character in text {
            if character == "'" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "'"
    }
}
