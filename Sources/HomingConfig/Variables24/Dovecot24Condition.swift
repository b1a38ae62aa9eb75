#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Dovecot 2.4's `if` filter and the POSIX regular expressions it and `regexp` use.
///
/// `if(left, op, right, true, false)`, or `if(op, right, true, false)` on the value piped in.
/// Numeric operators `== != < <= > >=`, string operators `eq ne lt le gt ge`, `*`/`!*` for
/// wildcard masks (`*` and `?`), `~`/`!~` for POSIX extended regular expressions.
enum Dovecot24Condition {
    typealias Failure = Dovecot24Evaluator.Failure
    typealias Parameter = Dovecot24Program.Parameter

    private static let numericOperators = ["==", "<", "<=", ">", ">=", "!="]
    private static let stringOperators = ["eq", "lt", "le", "gt", "ge", "ne", "*", "!*", "~", "!~"]

    static func run(_ evaluator: Dovecot24Evaluator, _ statement: Dovecot24Program.Statement,
                    state: inout Dovecot24Evaluator.State) throws(Failure) {
        if let named = statement.named.first { throw Failure("Unsupported key '\(named.key)'") }
        let usesInput = state.isSet
        let expected = usesInput ? 4 : 5
        if statement.positional.count > expected { throw Failure("Too many positional parameters") }
        guard statement.positional.count == expected else { throw Failure("Missing parameters") }
        var parameters = statement.positional
        let lhsParameter: Parameter? = usesInput ? nil : parameters.removeFirst()
        let op: String
        do {
            op = try evaluator.string(parameters[0])
        } catch {
            throw Failure("Comparator: \(error.message)")
        }
        let (rhs, whenTrue, whenFalse) = (parameters[1], parameters[2], parameters[3])
        let numeric = numericOperators.contains(op)
        guard numeric || stringOperators.contains(op) else { throw Failure("Unsupported comparator '\(op)'") }
        let result: Bool
        if numeric {
            let left: Int
            if let lhsParameter {
                do { left = try evaluator.number(lhsParameter) } catch { throw Failure("Left-hand side: \(error.message)") }
            } else {
                guard let value = Dovecot24Evaluator.integer(state.text) else { throw Failure("Input is not a number") }
                left = value
            }
            let right: Int
            do { right = try evaluator.number(rhs) } catch { throw Failure("Right-hand side: \(error.message)") }
            switch op {
            case "==": result = left == right
            case "<": result = left < right
            case "<=": result = left <= right
            case ">": result = left > right
            case ">=": result = left >= right
            default: result = left != right
            }
        } else {
            let left: String
            if let lhsParameter {
                do { left = try evaluator.string(lhsParameter) } catch { throw Failure("Left-hand side \(error.message)") }
            } else {
                left = state.text
            }
            let right: String
            do { right = try evaluator.string(rhs) } catch { throw Failure("Right-hand side \(error.message)") }
            let (l, r) = (Array(left.utf8), Array(right.utf8))
            switch op {
            case "eq": result = l == r
            case "ne": result = l != r
            case "lt": result = l.lexicographicallyPrecedes(r)
            case "le": result = !r.lexicographicallyPrecedes(l)
            case "gt": result = r.lexicographicallyPrecedes(l)
            case "ge": result = !l.lexicographicallyPrecedes(r)
            case "*": result = wildcardMatch(l[...], r[...])
            case "!*": result = !wildcardMatch(l[...], r[...])
            case "~": result = try matches(left, pattern: right)
            default: result = try !matches(left, pattern: right)
            }
        }
        let chosen = result ? whenTrue : whenFalse
        do {
            state.set(try evaluator.any(chosen))
        } catch {
            throw Failure("\(result ? "True branch" : "False branch"): \(error.message)")
        }
    }

    /// `*` matches any run, `?` one character (Dovecot's `wildcard_match`).
    static func wildcardMatch(_ text: ArraySlice<UInt8>, _ mask: ArraySlice<UInt8>) -> Bool {
        guard let first = mask.first else { return text.isEmpty }
        if first == UInt8(ascii: "*") {
            let rest = mask.dropFirst()
            var index = text.startIndex
            while true {
                if wildcardMatch(text[index...], rest) { return true }
                if index == text.endIndex { return false }
                index += 1
            }
        }
        guard let character = text.first else { return false }
        guard first == UInt8(ascii: "?") || first == character else { return false }
        return wildcardMatch(text.dropFirst(), mask.dropFirst())
    }

    private static func compile(_ pattern: String) throws(Failure) -> regex_t {
        var expression = regex_t()
        let status = regcomp(&expression, pattern, REG_EXTENDED)
        guard status == 0 else {
            var buffer = [CChar](repeating: 0, count: 256)
            regerror(status, &expression, &buffer, buffer.count)
            regfree(&expression)
            let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw Failure("regexp() failed: \(message)")
        }
        return expression
    }

    static func matches(_ text: String, pattern: String) throws(Failure) -> Bool {
        var expression = try compile(pattern)
        defer { regfree(&expression) }
        return regexec(&expression, text, 0, nil, 0) == 0
    }

    /// `regexp(pattern, replacement)`: the whole input becomes the replacement, `\1`...`\9`
    /// standing for the groups; without a match the input is kept.
    static func replace(_ text: String, pattern: String, with replacement: String) throws(Failure) -> String {
        var expression = try compile(pattern)
        defer { regfree(&expression) }
        var groups = [regmatch_t](repeating: regmatch_t(), count: 10)
        guard regexec(&expression, text, groups.count, &groups, 0) == 0 else { return text }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        let template = Array(replacement.utf8)
        var index = 0
        while index < template.count {
            let byte = template[index]
            if byte == UInt8(ascii: "\\"), index + 1 < template.count,
               template[index + 1] >= 0x30, template[index + 1] <= 0x39 {
                let group = Int(template[index + 1] - 0x30)
                guard groups[group].rm_so >= 0 else { throw Failure("Invalid capture group") }
                out += bytes[Int(groups[group].rm_so)..<Int(groups[group].rm_eo)]
                index += 2
                continue
            }
            out.append(byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
