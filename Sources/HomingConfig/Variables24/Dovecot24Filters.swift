import HomingDigest

/// The filters of Dovecot 2.4's variable expansion (`| lower`, `| md5`, `| substr(0, 1)`...).
extension Dovecot24Evaluator {
    // MARK: - Filters

    typealias Filter = @Sendable (Dovecot24Evaluator, Dovecot24Program.Statement, inout State) throws(Failure) -> Void

    static func noParameters(_ statement: Dovecot24Program.Statement) throws(Failure) {
        if let named = statement.named.first { throw Failure("Unsupported key '\(named.key)'") }
        if !statement.positional.isEmpty { throw Failure("Too many positional parameters") }
    }

    static func needsParameters(_ statement: Dovecot24Program.Statement) throws(Failure) {
        if statement.positional.isEmpty && statement.named.isEmpty { throw Failure("Missing parameters") }
    }

    static func needsValue(_ state: State, _ action: String) throws(Failure) {
        if !state.isSet { throw Failure("No value to \(action)") }
    }

    static func onlyPositional(_ statement: Dovecot24Program.Statement, max: Int) throws(Failure) {
        if let named = statement.named.first { throw Failure("Unsupported key '\(named.key)'") }
        if statement.positional.count > max { throw Failure("Too many positional parameters") }
    }

    /// Every filter Dovecot 2.4.1 has, by name (`encrypt`/`decrypt` refuse: Homing has no
    /// OpenSSL to run them with).
    static let filters: [String: Filter] = [
        "lookup": { evaluator, statement, state throws(Failure) in
            guard let parameter = statement.positional.first else {
                if let named = statement.named.first { throw Failure("Unsupported key '\(named.key)'") }
                throw Failure("Missing name to lookup")
            }
            state.unset()
            let name = try evaluator.string(parameter)
            state.set(try evaluator.lookUp(name).get())
        },
        "literal": { evaluator, statement, state throws(Failure) in
            try needsParameters(statement)
            if let named = statement.named.first { throw Failure("Unsupported key '\(named.key)'") }
            state.set(try evaluator.any(statement.positional.first))
        },
        "calculate": { evaluator, statement, state throws(Failure) in
            try needsParameters(statement)
            try onlyPositional(statement, max: 2)
            guard case .number(let code) = statement.positional.first, let op = Dovecot24Program.Operator(rawValue: code) else {
                throw Failure("Missing operator")
            }
            let right = try evaluator.number(statement.positional.count > 1 ? statement.positional[1] : nil)
            try needsValue(state, "calculate")
            if state.isBinary, op == .modulo {
                guard right > 0 else { throw Failure(right == 0 ? "Modulo by zero" : "Binary modulo must be positive integer") }
                var number: UInt64 = 0
                for byte in state.transfer.suffix(8) { number = number << 8 | UInt64(byte) }
                state.set(String(number % UInt64(right)))
                return
            }
            guard let left = integer(state.text) else { throw Failure("Input is not a number") }
            let result: Int
            switch op {
            case .plus: result = left &+ right
            case .minus: result = left &- right
            case .times: result = left &* right
            case .divide:
                guard right != 0 else { throw Failure("Division by zero") }
                result = left.dividedReportingOverflow(by: right).partialValue
            case .modulo:
                guard right != 0 else { throw Failure("Modulo by zero") }
                result = left.remainderReportingOverflow(dividingBy: right).partialValue
            }
            state.setData(Array(String(result).utf8))
        },
        "concat": { evaluator, statement, state throws(Failure) in
            try needsParameters(statement)
            if let named = statement.named.first { throw Failure("Unsupported key '\(named.key)'") }
            var result = state.isSet ? state.transfer : []
            for parameter in statement.positional { result += Array(try evaluator.any(parameter).utf8) }
            state.setData(result)
        },
        "upper": { _, statement, state throws(Failure) in
            try noParameters(statement)
            try needsValue(state, "upper")
            state.transfer = state.transfer.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
        },
        "lower": { _, statement, state throws(Failure) in
            try noParameters(statement)
            try needsValue(state, "lower")
            state.transfer = state.transfer.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        },
        "hash": { evaluator, statement, state throws(Failure) in
            try needsParameters(statement)
            guard let first = statement.positional.first else { throw Failure("No algorithm as first parameter") }
            let name = try evaluator.string(first)
            try hash(evaluator, statement, algorithm: name, fromParameter: true, state: &state)
        },
        "md5": { evaluator, statement, state throws(Failure) in
            try hash(evaluator, statement, algorithm: "md5", fromParameter: false, state: &state)
        },
        "sha1": { evaluator, statement, state throws(Failure) in
            try hash(evaluator, statement, algorithm: "sha1", fromParameter: false, state: &state)
        },
        "sha256": { evaluator, statement, state throws(Failure) in
            try hash(evaluator, statement, algorithm: "sha256", fromParameter: false, state: &state)
        },
        "sha384": { evaluator, statement, state throws(Failure) in
            try hash(evaluator, statement, algorithm: "sha384", fromParameter: false, state: &state)
        },
        "sha512": { evaluator, statement, state throws(Failure) in
            try hash(evaluator, statement, algorithm: "sha512", fromParameter: false, state: &state)
        },
        "base64": { evaluator, statement, state throws(Failure) in
            if !statement.positional.isEmpty { throw Failure("Too many positional parameters") }
            var pad = true
            var url = false
            for (key, value) in statement.named {
                switch key {
                case "pad": pad = try evaluator.bool(value)
                case "url": url = try evaluator.bool(value)
                default: throw Failure("Unsupported key '\(key)'")
                }
            }
            try needsValue(state, "base64")
            state.set(Base64.encode(state.transfer, url: url, pad: pad))
        },
        "unbase64": { evaluator, statement, state throws(Failure) in
            if !statement.positional.isEmpty { throw Failure("Too many positional parameters") }
            var url = false
            for (key, value) in statement.named {
                switch key {
                case "pad":
                    guard [0, 1].contains(try evaluator.number(value)) else { throw Failure("Supported values for pad are 0 or 1") }
                case "url":
                    let flag = try evaluator.number(value)
                    guard [0, 1].contains(flag) else { throw Failure("Supported values for url are 0 or 1") }
                    url = flag == 1
                default: throw Failure("Unsupported key '\(key)'")
                }
            }
            try needsValue(state, "unbase64")
            state.setBinary(Base64.decode(state.transfer, url: url))
        },
        "hex": { evaluator, statement, state throws(Failure) in
            try onlyPositional(statement, max: 1)
            let width = statement.positional.isEmpty ? 0 : try evaluator.number(statement.positional[0])
            try needsValue(state, "hex")
            let text = state.text
            guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let number = UInt64(text) else {
                throw Failure("Input is not a number")
            }
            var digits = String(number, radix: 16)
            if width < 0 {
                let size = -width
                if digits.count < size { digits += String(repeating: "0", count: size - digits.count) }
                digits = String(digits.prefix(size))
            } else if width > 0 {
                if digits.count < width { digits = String(repeating: "0", count: width - digits.count) + digits }
                digits = String(digits.suffix(width))
            }
            state.setData(Array(digits.utf8))
        },
        "unhex": { _, statement, state throws(Failure) in
            try noParameters(statement)
            try needsValue(state, "unhex")
            guard let number = UInt64(state.text, radix: 16), !state.text.hasPrefix("+"), !state.text.hasPrefix("-") else {
                throw Failure("Input is not a hex number")
            }
            state.set(String(number))
        },
        "hexlify": { evaluator, statement, state throws(Failure) in
            try onlyPositional(statement, max: 1)
            var width = 0
            if let parameter = statement.positional.first {
                width = try evaluator.number(parameter)
                if width < 0 { throw Failure("Width must be positive") }
            }
            try needsValue(state, "hexlify")
            var digits = hex(state.transfer)
            if width > 0 {
                if digits.count < width { digits = String(repeating: "0", count: width - digits.count) + digits }
                digits = String(digits.prefix(width))
            }
            state.set(digits)
        },
        "unhexlify": { _, statement, state throws(Failure) in
            try noParameters(statement)
            try needsValue(state, "unhexlify")
            guard state.transfer.count % 2 == 0 else { throw Failure("Not a hex value") }
            var bytes: [UInt8] = []
            var index = 0
            while index < state.transfer.count {
                guard let byte = UInt8(String(decoding: state.transfer[index...(index + 1)], as: UTF8.self), radix: 16) else {
                    throw Failure("Not a hex value")
                }
                bytes.append(byte)
                index += 2
            }
            state.setBinary(bytes)
        },
        "default": { evaluator, statement, state throws(Failure) in
            if state.isSet, !state.transfer.isEmpty { return }
            if let named = statement.named.first { throw Failure("Unsupported key '\(named.key)'") }
            let value = statement.positional.isEmpty ? "" : try evaluator.any(statement.positional[0])
            if statement.positional.count > 1 { throw Failure("Too many positional parameters") }
            state.set(value)
        },
        "reverse": { _, statement, state throws(Failure) in
            try noParameters(statement)
            try needsValue(state, "reverse")
            state.setData(state.transfer.reversed())
        },
        "truncate": { evaluator, statement, state throws(Failure) in
            try needsParameters(statement)
            var length: Int?
            var bits = false
            for (key, value) in statement.named {
                guard key == "bits" else { throw Failure("Unsupported key '\(key)'") }
                length = try evaluator.number(value)
                bits = true
            }
            if statement.positional.count > 1 { throw Failure("Too many positional parameters") }
            if let parameter = statement.positional.first { length = try evaluator.number(parameter) }
            guard let length else { throw Failure("Missing truncation length") }
            guard length >= 0 else { throw Failure("Value of out of bounds") }
            try needsValue(state, "truncate")
            state.setData(bits ? truncatedBits(state.transfer, bits: length) : Array(state.transfer.prefix(length)))
        },
        "substr": { evaluator, statement, state throws(Failure) in
            try needsParameters(statement)
            try onlyPositional(statement, max: 2)
            let offset = try evaluator.number(statement.positional.first)
            let givenLength: Int? = statement.positional.count > 1 ? try evaluator.number(statement.positional[1]) : nil
            try needsValue(state, "substring")
            let used = state.transfer.count
            var off = offset
            guard off >= -used, off <= used else { throw Failure("Offset out of bounds") }
            var length = givenLength ?? used
            guard length >= -used, length <= used else { throw Failure("Length out of bounds") }
            if length == 0 {
                state.setData([])
                return
            }
            if off < 0 { off += used }
            if givenLength == nil {
                length = used - off
            } else if length < 0 {
                length += used
                guard length >= off else { throw Failure("Length out of bounds") }
                length -= off
            }
            guard off >= 0, off <= used else { throw Failure("Offset out of bounds") }
            guard length >= 0, length + off <= used else { throw Failure("Length out of bounds") }
            state.setData(Array(state.transfer[off..<(off + length)]))
        },
        "ldap_dn": { _, statement, state throws(Failure) in
            try noParameters(statement)
            try needsValue(state, "convert to ldap_dn")
            var out: [UInt8] = []
            for byte in state.transfer {
                if byte == UInt8(ascii: ".") { out += Array(",dc=".utf8) } else { out.append(byte) }
            }
            state.setData(out)
        },
        "if": { evaluator, statement, state throws(Failure) in
            try Dovecot24Condition.run(evaluator, statement, state: &state)
        },
        "regexp": { evaluator, statement, state throws(Failure) in
            try needsParameters(statement)
            try onlyPositional(statement, max: 2)
            guard let patternParameter = statement.positional.first else { throw Failure("Missing pattern and replacement parameters") }
            let pattern = try evaluator.string(patternParameter)
            guard statement.positional.count > 1 else { throw Failure("Missing replacement parameter") }
            let replacement = try evaluator.string(statement.positional[1])
            try needsValue(state, "regexp")
            state.setData(Array(try Dovecot24Condition.replace(state.text, pattern: pattern, with: replacement).utf8))
        },
        "lenumber": { _, statement, state throws(Failure) in
            try number(statement, bigEndian: false, state: &state)
        },
        "benumber": { _, statement, state throws(Failure) in
            try number(statement, bigEndian: true, state: &state)
        },
        "index": { evaluator, statement, state throws(Failure) in
            try needsParameters(statement)
            try onlyPositional(statement, max: 2)
            guard let separatorParameter = statement.positional.first else { throw Failure("Missing separator and index parameters") }
            let separator = try evaluator.string(separatorParameter)
            guard statement.positional.count > 1 else { throw Failure("Missing index parameter") }
            let position = try evaluator.number(statement.positional[1])
            guard position >= Int(Int32.min), position <= Int(Int32.max) else { throw Failure("Position out of bounds") }
            try needsValue(state, "index")
            state.set(try element(of: state.text, separator: separator, index: position))
        },
        "username": { _, statement, state throws(Failure) in
            try noParameters(statement)
            try needsValue(state, "get username from")
            state.set(try element(of: state.text, separator: "@", index: 0))
        },
        "domain": { _, statement, state throws(Failure) in
            try noParameters(statement)
            try needsValue(state, "get domain from")
            let text = state.text
            if let at = text.firstIndex(of: "@") { state.set(String(text[text.index(after: at)...])) } else { state.set("") }
        },
        "list": { evaluator, statement, state throws(Failure) in
            try onlyPositional(statement, max: 1)
            let separator = statement.positional.isEmpty ? "," : try evaluator.string(statement.positional[0])
            try needsValue(state, "generate list from")
            state.set(tabUnescapedList(state.text).joined(separator: separator))
        },
        "lfill": { evaluator, statement, state throws(Failure) in
            try fill(evaluator, statement, left: true, state: &state)
        },
        "rfill": { evaluator, statement, state throws(Failure) in
            try fill(evaluator, statement, left: false, state: &state)
        },
        "text": { _, statement, state throws(Failure) in
            try noParameters(statement)
            try needsValue(state, "text")
            state.set(sanitizedText(state.transfer))
        },
        "encrypt": { _, _, _ throws(Failure) in
            throw Failure("encrypt is not supported by Homing")
        },
        "decrypt": { _, _, _ throws(Failure) in
            throw Failure("decrypt is not supported by Homing")
        },
    ]

    /// Whether `name` is a filter (a first statement with this name that is not a variable runs it).
    static func isFunction(_ name: String) -> Bool { filters[name] != nil }

    static func hash(_ evaluator: Dovecot24Evaluator, _ statement: Dovecot24Program.Statement, algorithm: String,
                             fromParameter: Bool, state: inout State) throws(Failure) {
        guard let digest = MessageDigest(name: algorithm) else { throw Failure("Unsupported algorithm '\(algorithm)'") }
        if statement.positional.count > (fromParameter ? 1 : 0) { throw Failure("Too many positional parameters") }
        var rounds = 1
        var salt = ""
        for (key, value) in statement.named {
            switch key {
            case "rounds": rounds = try evaluator.number(value)
            case "salt": salt = try evaluator.string(value)
            default: throw Failure("Unsupported key '\(key)'")
            }
        }
        try needsValue(state, fromParameter ? "hash" : algorithm)
        var input = state.transfer
        for _ in 0..<max(rounds, 0) { input = digest.digest(Array(salt.utf8) + input) }
        state.setBinary(input)
    }

    static func number(_ statement: Dovecot24Program.Statement, bigEndian: Bool, state: inout State) throws(Failure) {
        try noParameters(statement)
        try needsValue(state, "convert to number")
        let bytes = state.transfer
        guard [1, 2, 4, 8].contains(bytes.count) else { throw Failure("Cannot convert '\(bytes.count)' bytes to number") }
        var value: UInt64 = 0
        for byte in (bigEndian ? bytes : bytes.reversed()) { value = value << 8 | UInt64(byte) }
        state.set(String(value))
    }

    static func element(of text: String, separator: String, index: Int) throws(Failure) -> String {
        var parts: [String] = []
        if separator.isEmpty {
            parts = [text]
        } else {
            let bytes = Array(text.utf8)
            let needle = Array(separator.utf8)
            var start = 0
            var index = 0
            while index + needle.count <= bytes.count {
                if Array(bytes[index..<(index + needle.count)]) == needle {
                    parts.append(String(decoding: bytes[start..<index], as: UTF8.self))
                    index += needle.count
                    start = index
                } else {
                    index += 1
                }
            }
            parts.append(String(decoding: bytes[start...], as: UTF8.self))
        }
        let position = index < 0 ? parts.count + index : index
        guard position >= 0, position < parts.count else { throw Failure("Position out of bounds") }
        return parts[position]
    }

    static func fill(_ evaluator: Dovecot24Evaluator, _ statement: Dovecot24Program.Statement, left: Bool,
                             state: inout State) throws(Failure) {
        try needsParameters(statement)
        try onlyPositional(statement, max: 2)
        let amount = try evaluator.number(statement.positional.first)
        guard amount >= 1, amount <= Int(Int32.max) else { throw Failure("Fill length out of bounds") }
        let filler = statement.positional.count > 1 ? try evaluator.string(statement.positional[1]) : "0"
        try needsValue(state, "fill")
        guard !filler.isEmpty else { return }
        while state.transfer.count < amount {
            if left { state.transfer.insert(contentsOf: Array(filler.utf8), at: 0) } else { state.transfer += Array(filler.utf8) }
        }
    }
}
