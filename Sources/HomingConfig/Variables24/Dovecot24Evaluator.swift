#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a ``Dovecot24Program`` the way Dovecot 2.4's `var_expand_program_execute` does.
///
/// Each pipeline passes a value from step to step (the "transfer"). The first step is looked up
/// as a variable and, only when there is no such variable, run as a function; a lookup that
/// fails is remembered, so that `| default(...)` can still supply a value, and reported when
/// nothing does. A value produced by a hash (`md5`, `unbase64`...) is binary: it is written out
/// in hex at the end unless `text` turned it back into text. `escape` applies to each
/// pipeline's result (not to literal text), as Dovecot's escape function does.
struct Dovecot24Evaluator {
    /// Looks a plain variable (`user`) up: its value, or a message (`Unknown variable 'x'`).
    var lookUpVariable: (String) -> Result<String, Failure>
    /// Looks `prefix:key` up: its value, or a message.
    var lookUpProvider: (String, String) -> Result<String, Failure>

    /// A failed step, in Dovecot's words.
    struct Failure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// The value between two steps.
    struct State {
        var transfer: [UInt8] = []
        var isSet = false
        var isBinary = false
        var delayedError: String?

        mutating func set(_ text: String) {
            transfer = Array(text.utf8)
            isSet = true
            isBinary = false
        }

        /// Replaces the bytes, keeping the binary mark (Dovecot's `set_transfer_data`).
        mutating func setData(_ bytes: [UInt8]) {
            transfer = bytes
            isSet = true
        }

        mutating func setBinary(_ bytes: [UInt8]) {
            transfer = bytes
            isSet = true
            isBinary = true
        }

        mutating func unset() {
            transfer = []
            isSet = false
        }

        var text: String { String(decoding: transfer, as: UTF8.self) }
    }

    func run(_ program: Dovecot24Program, escape: (String) -> String) throws(VariableExpansionError) -> String {
        var output = ""
        for piece in program.pieces {
            switch piece {
            case .literal(let text):
                output += text
            case .pipeline(let statements, _):
                guard !statements.isEmpty else { continue }
                var state = State()
                for (index, statement) in statements.enumerated() {
                    try execute(statement, first: index == 0, state: &state)
                }
                if state.isBinary { state.set(Self.hex(state.transfer)) }
                guard state.isSet else {
                    throw .failed(message: state.delayedError ?? "No value")
                }
                output += escape(state.text)
            }
        }
        return output
    }

    /// One step (Dovecot's `var_expand_execute_stmt`).
    private func execute(_ statement: Dovecot24Program.Statement, first: Bool,
                         state: inout State) throws(VariableExpansionError) {
        var delayed: String?
        if first {
            switch lookUp(statement.function) {
            case .success(let value):
                state.set(value)
                return
            case .failure(let failure):
                state.unset()
                delayed = failure.message
            }
        }
        if let filter = Self.filters[statement.function] {
            do {
                try filter(self, statement, &state)
                delayed = nil
            } catch {
                state.unset()
                if let earlier = state.delayedError { throw .failed(message: earlier) }
                delayed = "\(statement.function): \(error.message)"
            }
        } else if !first {
            throw .failed(message: "No such function '\(statement.function)'")
        }
        state.delayedError = delayed
    }

    /// A variable name or `prefix:key`.
    func lookUp(_ name: String) -> Result<String, Failure> {
        guard let colon = name.firstIndex(of: ":") else { return lookUpVariable(name) }
        let prefix = String(name[..<colon])
        let key = String(name[name.index(after: colon)...])
        switch lookUpProvider(prefix, key) {
        case .success(let value): return .success(value)
        case .failure(let failure):
            if failure.message.hasPrefix("Unsupported prefix") { return .failure(failure) }
            return .failure(Failure("\(prefix): \(failure.message)"))
        }
    }

    // MARK: - Parameters

    typealias Parameter = Dovecot24Program.Parameter

    func string(_ parameter: Parameter?) throws(Failure) -> String {
        switch parameter {
        case nil: throw Failure("Missing parameter")
        case .string(let text): return text
        case .number(let number): throw Failure("\(number) is not a string")
        case .variable(let name): return try lookUp(name).get()
        }
    }

    func any(_ parameter: Parameter?) throws(Failure) -> String {
        switch parameter {
        case nil: throw Failure("Missing parameter")
        case .string(let text): return text
        case .number(let number): return String(number)
        case .variable(let name): return try lookUp(name).get()
        }
    }

    func number(_ parameter: Parameter?) throws(Failure) -> Int {
        switch parameter {
        case nil: throw Failure("Missing parameter")
        case .number(let number): return number
        case .string(let text): throw Failure("'\(text)' is not a number")
        case .variable(let name):
            let value = try lookUp(name).get()
            guard let number = Self.integer(value) else { throw Failure("'\(value)' (in \(name)) is not a number") }
            return number
        }
    }

    func bool(_ parameter: Parameter?) throws(Failure) -> Bool {
        let value = try number(parameter)
        switch value {
        case 0: return false
        case 1: return true
        default: throw Failure("'\(value)' is not 0 or 1")
        }
    }

    /// Dovecot's `str_to_intmax`: an optional `-` and decimal digits, nothing else.
    static func integer(_ text: String) -> Int? {
        var digits = Substring(text)
        if digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Dovecot's `buffer_truncate_rshift_bits`: the first `bits` bits, as a number right-aligned
    /// in the fewest whole bytes.
    static func truncatedBits(_ bytes: [UInt8], bits: Int) -> [UInt8] {
        let totalBits = bytes.count * 8
        guard bits < totalBits else { return bytes }
        let byteCount = (bits + 7) / 8
        var kept = Array(bytes.prefix(byteCount))
        let shift = byteCount * 8 - bits
        guard shift > 0 else { return kept }
        var carry: UInt8 = 0
        for index in kept.indices {
            let byte = kept[index]
            kept[index] = (byte >> UInt8(shift)) | carry
            carry = byte << UInt8(8 - shift)
        }
        return kept
    }

    /// A `\t`-separated list with Dovecot's tab escapes (`\001` followed by `1 t r n 0`).
    static func tabUnescapedList(_ text: String) -> [String] {
        text.split(separator: "\t", omittingEmptySubsequences: false).map { part in
            var out: [UInt8] = []
            var iterator = part.utf8.makeIterator()
            while let byte = iterator.next() {
                guard byte == 1, let code = iterator.next() else {
                    out.append(byte)
                    continue
                }
                switch code {
                case UInt8(ascii: "1"): out.append(1)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "0"): out.append(0)
                default: out.append(code)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Dovecot's `str_sanitize_append_utf8`: control characters become `?`, bad UTF-8 U+FFFD.
    static func sanitizedText(_ bytes: [UInt8]) -> String {
        let decoded = String(decoding: bytes, as: UTF8.self)
        return String(decoded.unicodeScalars.map { scalar -> Character in
            (scalar.value < 0x20 || scalar.value == 0x7F) ? "?" : Character(scalar)
        })
    }
}
