/// The `encoded-character` extension (RFC 5228 section 2.4.2.4): `${hex:...}` and
/// `${unicode:...}` sequences in strings, decoded at compile time.
///
/// `${hex: 48 65}` gives the octets 0x48 0x65 ("He"); `${unicode:263A}` gives U+263A. The
/// prefixes are case-insensitive, the hex digits may be separated (and surrounded) by blanks
/// (space, tab, CRLF). A sequence that does not follow the grammar is left as it is. Naming a
/// code point outside 0-D7FF and E000-10FFFF is an error, as is producing octets that are
/// not UTF-8.
public enum SieveEncodedCharacter {
    /// Decodes every encoded-character sequence in `text`; throws (at `location`) for a
    /// surrogate or too large code point, or octets that do not form UTF-8.
    public static func decode(_ text: String, at location: SieveSourceLocation) throws(SieveError) -> String {
        guard text.utf8.contains(UInt8(ascii: "$")) else { return text }
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "$"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "{"),
                let (decoded, end) = try decodeSequence(bytes, from: index, location: location)
            {
                output.append(contentsOf: decoded)
                index = end
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        guard let result = String(validating: output, as: UTF8.self) else {
            throw SieveError(
                .invalidEncodedCharacter, at: location,
                "encoded-character: the ${hex:...} sequences of the string do not form valid UTF-8")
        }
        return result
    }

    /// Decodes the sequence starting at `start` (at `${`): its octets and the index after `}`,
    /// or `nil` when it is not a valid encoded-character sequence.
    private static func decodeSequence(_ bytes: [UInt8], from start: Int, location: SieveSourceLocation)
        throws(SieveError) -> ([UInt8], Int)?
    {
        var index = start + 2
        let isHex: Bool
        if hasPrefix(bytes, at: index, "hex:") {
            isHex = true
            index += 4
        } else if hasPrefix(bytes, at: index, "unicode:") {
            isHex = false
            index += 8
        } else {
            return nil
        }
        var values: [UInt32] = []
        var needBlank = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "}") {
                if values.isEmpty { return nil }
                return (try encode(values, isHex: isHex, location: location), index + 1)
            }
            if let length = blankLength(bytes, at: index) {
                index += length
                needBlank = false
                continue
            }
            guard hexValue(byte) != nil, !needBlank else { return nil }
            var value: UInt32 = 0
            var digits = 0
            var overflow = false
            while index < bytes.count, let digit = hexValue(bytes[index]) {
                digits += 1
                if value > 0x0FFF_FFFF { overflow = true } else { value = value << 4 | UInt32(digit) }
                index += 1
            }
            if isHex, digits > 2 { return nil }
            values.append(overflow ? UInt32.max : value)
            needBlank = true
        }
        return nil
    }

    private static func encode(_ values: [UInt32], isHex: Bool, location: SieveSourceLocation)
        throws(SieveError) -> [UInt8]
    {
        if isHex { return values.map { UInt8(truncatingIfNeeded: $0) } }
        var output: [UInt8] = []
        for value in values {
            guard let scalar = Unicode.Scalar(value) else {
                let shown = value == UInt32.max ? "too large" : "U+\(String(value, radix: 16, uppercase: true))"
                throw SieveError(
                    .invalidEncodedCharacter, at: location,
                    "encoded-character: invalid unicode character \(shown) in ${unicode:...} "
                        + "(allowed are 0-D7FF and E000-10FFFF)")
            }
            output.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
        return output
    }

    private static func hasPrefix(_ bytes: [UInt8], at index: Int, _ prefix: String) -> Bool {
        let expected = Array(prefix.utf8)
        guard index + expected.count <= bytes.count else { return false }
        for (offset, byte) in expected.enumerated() {
            let actual = bytes[index + offset]
            let lowered = actual >= 0x41 && actual <= 0x5A ? actual + 0x20 : actual
            if lowered != byte { return false }
        }
        return true
    }

    /// RFC 5228 `blank = WSP / CRLF` (a bare LF is accepted too: multi-line strings are stored
    /// with the line ends of the script).
    private static func blankLength(_ bytes: [UInt8], at index: Int) -> Int? {
        switch bytes[index] {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"): return 1
        case UInt8(ascii: "\r"):
            return index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n") ? 2 : nil
        default: return nil
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    // MARK: - Scripts

    /// `script` with every string argument decoded, except the arguments of `require`.
    public static func decode(_ script: SieveScript) throws(SieveError) -> SieveScript {
        var commands: [SieveCommand] = []
        for command in script.commands {
            commands.append(try decode(command))
        }
        return SieveScript(commands: commands)
    }

    private static func decode(_ command: SieveCommand) throws(SieveError) -> SieveCommand {
        var result = command
        if command.name != "require" {
            result.arguments = try decode(command.arguments)
        }
        result.tests = try decode(command.tests)
        if let block = command.block {
            var decoded: [SieveCommand] = []
            for inner in block { decoded.append(try decode(inner)) }
            result.block = decoded
        }
        return result
    }

    private static func decode(_ tests: SieveTestArguments) throws(SieveError) -> SieveTestArguments {
        switch tests {
        case .none: return .none
        case .single(let list): return .single(try decode(list))
        case .list(let list): return .list(try decode(list))
        }
    }

    private static func decode(_ tests: [SieveTest]) throws(SieveError) -> [SieveTest] {
        var result: [SieveTest] = []
        for test in tests {
            var decoded = test
            decoded.arguments = try decode(test.arguments)
            decoded.tests = try decode(test.tests)
            result.append(decoded)
        }
        return result
    }

    private static func decode(_ arguments: [SieveArgument]) throws(SieveError) -> [SieveArgument] {
        var result: [SieveArgument] = []
        for argument in arguments {
            var decoded = argument
            switch argument.value {
            case .string(let text):
                decoded.value = .string(try decode(text, at: argument.location))
            case .stringList(let list):
                var strings: [String] = []
                for text in list { strings.append(try decode(text, at: argument.location)) }
                decoded.value = .stringList(strings)
            case .number, .tag:
                break
            }
            result.append(decoded)
        }
        return result
    }
}
