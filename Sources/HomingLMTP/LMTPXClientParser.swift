import NIOCore

/// Parses the arguments of `XCLIENT` (`attribute=xtext` words separated by single spaces)
/// with Dovecot 2.3's replies for what is wrong. Pure. Whether the client may send XCLIENT at
/// all is the state machine's business: it checks that first, as Dovecot does, so that an
/// untrusted client learns nothing about the syntax.
///
/// Unknown attributes (`NAME=`, `DESTADDR=`, `FOO=`) are ignored, as Dovecot 2.3 ignores any it
/// has no `xclient_extensions` for. Where Homing is stricter than Dovecot: `ADDR=` must be a
/// dotted-quad IPv4 or an IPv6 address (Dovecot also takes `inet_aton` shorthands such as
/// `1.2.3`), and `SESSION=` must be 1 to 128 visible ASCII characters (it is copied into
/// replies and the Received header; Dovecot takes any bytes but NUL), `LOGIN=` any but control
/// characters.
public enum LMTPXClientParser {
    /// Parses the text after `XCLIENT ` (`nil`: the command had no arguments, which Dovecot
    /// accepts and answers like any other XCLIENT).
    public static func parse(_ arguments: [UInt8]?) -> Result<LMTPXClientAttributes, LMTPCommandError> {
        var attributes = LMTPXClientAttributes()
        guard let arguments, !arguments.isEmpty else { return .success(attributes) }
        for word in arguments.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false) {
            let keyword: String
            let rawValue: ArraySlice<UInt8>
            switch parameter(word) {
            case .success(let parsed): (keyword, rawValue) = parsed
            case .failure(let error): return .failure(error)
            }
            let value: String
            switch decodeXtext(rawValue) {
            case .success(let decoded): value = decoded
            case .failure(let problem): return refuse("Invalid \(keyword) parameter: \(problem)")
            }
            let unavailable = value.uppercased() == "[UNAVAILABLE]"
            switch keyword {
            case "ADDR":
                if unavailable { continue }
                guard let address = ipAddress(value) else { return refuse("Invalid ADDR parameter") }
                attributes.address = address
            case "PORT":
                if unavailable { continue }
                guard let port = unsigned(value), (1...65535).contains(port) else {
                    return refuse("Invalid PORT parameter")
                }
                attributes.port = port
            case "HELO":
                if unavailable { continue }
                // Dovecot 2.3 ignores a HELO= that is neither a domain nor an address literal.
                if isHeloName(value) { attributes.helo = value }
            case "LOGIN":
                if unavailable { continue }
                guard value.utf8.allSatisfy({ $0 >= 32 && $0 != 127 }) else { return refuse("Invalid LOGIN parameter") }
                attributes.login = value
            case "SESSION":
                if unavailable { continue }
                guard (1...LMTPXClientAttributes.maximumSessionLength).contains(value.utf8.count),
                    value.utf8.allSatisfy({ $0 > 32 && $0 < 127 })
                else { return refuse("Invalid SESSION parameter") }
                attributes.session = value
            case "PROTO":
                let proto = value.uppercased()
                guard ["SMTP", "ESMTP", "LMTP"].contains(proto) else { return refuse("Invalid PROTO parameter") }
                attributes.proto = proto
            case "TTL":
                guard let ttl = unsigned(value) else { return refuse("Invalid TTL parameter") }
                attributes.ttl = ttl
            case "TIMEOUT":
                guard let timeout = unsigned(value) else { return refuse("Invalid TIMEOUT parameter") }
                attributes.timeout = timeout
            default:
                continue
            }
        }
        return .success(attributes)
    }

    /// Parses command arguments given as text (tests).
    public static func parse(_ arguments: String) -> Result<LMTPXClientAttributes, LMTPCommandError> {
        parse(Array(arguments.utf8))
    }

    // MARK: - Pieces

    private static func refuse(_ text: String) -> Result<LMTPXClientAttributes, LMTPCommandError> {
        .failure(LMTPCommandError(LMTPReply(501, "5.5.4", text)))
    }

    /// `esmtp-keyword ["=" esmtp-value]`: the upper-cased keyword and the raw value (empty when
    /// there is no `=`, which Dovecot treats as an empty value).
    private static func parameter(_ word: ArraySlice<UInt8>) -> Result<(String, ArraySlice<UInt8>), LMTPCommandError> {
        func invalid(_ problem: String) -> Result<(String, ArraySlice<UInt8>), LMTPCommandError> {
            .failure(LMTPCommandError(LMTPReply(501, "5.5.4", "Invalid parameter: \(problem)")))
        }
        guard let first = word.first else { return invalid("Parameter is empty") }
        guard isAlphanumeric(first) else { return invalid("Unexpected character in parameter keyword") }
        var index = word.index(after: word.startIndex)
        while index < word.endIndex, isAlphanumeric(word[index]) || word[index] == UInt8(ascii: "-") {
            index += 1
        }
        let keyword = String(decoding: word[word.startIndex..<index], as: UTF8.self).uppercased()
        guard index < word.endIndex else { return .success((keyword, [])) }
        guard word[index] == UInt8(ascii: "=") else { return invalid("Unexpected character in parameter keyword") }
        let value = word[(index + 1)...]
        // esmtp-value: any CHAR but "=", SP and controls.
        guard value.allSatisfy({ $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: "=") }) else {
            return invalid("Unexpected character in parameter value")
        }
        return .success((keyword, value))
    }

    /// RFC 3461 xtext: `+XX` (two upper-case hex digits) stands for a byte. NUL is refused.
    static func decodeXtext(_ raw: ArraySlice<UInt8>) -> Result<String, XtextProblem> {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            guard byte == UInt8(ascii: "+") else {
                bytes.append(byte)
                index += 1
                continue
            }
            guard index + 2 < raw.endIndex, let high = hexValue(raw[index + 1]), let low = hexValue(raw[index + 2])
            else { return .failure(.badHexchar) }
            let decoded = high << 4 | low
            guard decoded != 0 else { return .failure(.nul) }
            bytes.append(decoded)
            index += 3
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// What is wrong with an xtext value, in Dovecot's words.
    enum XtextProblem: Error, CustomStringConvertible {
        case badHexchar
        case nul

        var description: String {
            switch self {
            case .badHexchar: return "Invalid hexchar after '+' in xtext"
            case .nul: return "Encountered NUL character in xtext"
            }
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// A decimal number that fits an unsigned 32-bit integer (Dovecot's `str_to_uint`).
    private static func unsigned(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 10, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let number = Int(text), number <= Int(UInt32.max)
        else { return nil }
        return number
    }

    /// `ADDR=`: IPv4, IPv6 (optionally `IPV6:`-prefixed, which then must be IPv6, or in
    /// brackets), as canonical text.
    static func ipAddress(_ value: String) -> String? {
        var text = Substring(value)
        var mustBeIPv6 = false
        if text.uppercased().hasPrefix("IPV6:") {
            text = text.dropFirst(5)
            mustBeIPv6 = true
        }
        if text.hasPrefix("["), text.hasSuffix("]"), text.count > 2 {
            text = text.dropFirst().dropLast()
            guard text.contains(":") else { return nil }
        }
        // No zone ids (`fe80::1%eth0`) and nothing the resolver would have to look up.
        guard !text.isEmpty, text.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) else { return nil }
        guard let address = try? SocketAddress(ipAddress: String(text), port: 0) else { return nil }
        if mustBeIPv6, case .v4 = address { return nil }
        return address.ipAddress
    }

    /// A HELO name Dovecot keeps: a domain (letters, digits, `-`, dot-separated labels) or an
    /// address literal in brackets.
    static func isHeloName(_ value: String) -> Bool {
        if value.hasPrefix("["), value.hasSuffix("]"), value.count > 2 {
            return value.dropFirst().dropLast().utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != 91 && $0 != 93 && $0 != 92 }
        }
        let labels = value.split(separator: ".", omittingEmptySubsequences: false)
        return !value.isEmpty && value.utf8.count <= 255
            && labels.allSatisfy { label in
                !label.isEmpty && label.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
            }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
