import NIOCore

/// Parses one LMTP command line (without its line end) into an ``LMTPCommand``, or the
/// reply refusing it. Pure: no state, no I/O.
///
/// Verbs are case-insensitive. Refusals match Dovecot's texts (see the reference), except
/// where Homing deliberately differs: `MAIL` accepts `SIZE=` and `SMTPUTF8`, the DSN
/// parameters (RFC 3461: `RET=` and `ENVID=` on `MAIL`, `NOTIFY=` and `ORCPT=` on `RCPT`) are
/// accepted and checked with the texts of Dovecot's own DSN-aware parser, `XRCPTFORWARD=` on
/// `RCPT` (Dovecot's proxy parameter, ``LMTPForwardFields``) is decoded here and its trust
/// checked by the session, and `VRFY user@domain` is accepted like `VRFY user`.
public enum LMTPCommandParser {
    /// Verbs longer than this are a syntax error rather than an unknown command.
    public static let maximumVerbLength = 32

    /// Parses a command line given as bytes.
    public static func parse(_ line: ByteBuffer) -> Result<LMTPCommand, LMTPCommandError> {
        parse(Array(line.readableBytesView))
    }

    /// Parses a command line given as text (tests, tools).
    public static func parse(_ line: String) -> Result<LMTPCommand, LMTPCommandError> {
        parse(Array(line.utf8))
    }

    /// Parses a command line given as bytes.
    public static func parse(_ line: [UInt8]) -> Result<LMTPCommand, LMTPCommandError> {
        var bytes = line[...]
        // Trailing blanks are tolerated; a NUL or an invalid UTF-8 sequence is not.
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            bytes = bytes.dropLast()
        }
        guard !bytes.contains(0), String(validating: bytes, as: UTF8.self) != nil else {
            return refuse(.invalidCommandSyntax)
        }
        let verbEnd = bytes.firstIndex(of: UInt8(ascii: " ")) ?? bytes.endIndex
        let verbBytes = bytes[bytes.startIndex..<verbEnd]
        guard !verbBytes.isEmpty, verbBytes.count <= maximumVerbLength,
            verbBytes.allSatisfy({ isLetter($0) })
        else {
            return refuse(.invalidCommandSyntax)
        }
        let verb = String(decoding: verbBytes, as: UTF8.self).uppercased()
        var arguments: [UInt8]?
        if verbEnd < bytes.endIndex {
            let rest = bytes[(verbEnd + 1)...]
            // `MAIL  FROM:<...>`: whitespace right after the verb's space is a syntax error.
            if let first = rest.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                return refuse(.invalidCommandSyntax)
            }
            arguments = Array(rest)
        }

        switch verb {
        case "LHLO":
            guard let arguments, !arguments.isEmpty else { return refuse(.missingHostname) }
            return .success(.lhlo(String(decoding: arguments, as: UTF8.self)))
        case "MAIL":
            return parseMail(arguments)
        case "RCPT":
            return parseRcpt(arguments)
        case "DATA":
            return noArguments(arguments, .data)
        case "BDAT":
            return parseBDAT(arguments)
        case "RSET":
            return noArguments(arguments, .rset)
        case "QUIT":
            return noArguments(arguments, .quit)
        case "NOOP":
            guard let arguments else { return .success(.noop) }
            guard isSMTPString(arguments) else { return refuse(.invalidStringParameter) }
            return .success(.noop)
        case "VRFY":
            guard let arguments, !arguments.isEmpty else { return refuse(.invalidParameters) }
            guard isSMTPString(arguments) || LMTPPathParser.mailbox(arguments) != nil else {
                return refuse(.invalidStringParameter)
            }
            return .success(.vrfy)
        case "STARTTLS":
            return refuse(.tlsNotEnabled)
        case "AUTH":
            return refuse(.unsupportedCommand)
        case "XCLIENT":
            return .success(.xclient(LMTPXClientParser.parse(arguments)))
        default:
            // EHLO, HELO, EXPN, HELP, ETRN, TURN, SEND, SOML, SAML and anything else.
            return refuse(.unknownCommand)
        }
    }

    // MARK: - Commands with arguments

    /// The path after `FROM:` or `TO:` and its parameters.
    private static func parsePath(
        _ arguments: [UInt8]?, prefix: String, kind: LMTPPathParser.Kind
    ) -> Result<LMTPPathParser.ParsedPath, LMTPCommandError> {
        guard let arguments, let pathText = afterPrefix(prefix, in: arguments) else {
            return .failure(LMTPCommandError(.invalidParameters))
        }
        return LMTPPathParser.parse(pathText, kind: kind)
    }

    private static func parseMail(_ arguments: [UInt8]?) -> Result<LMTPCommand, LMTPCommandError> {
        let parsed: LMTPPathParser.ParsedPath
        switch parsePath(arguments, prefix: "FROM:", kind: .from) {
        case .success(let value): parsed = value
        case .failure(let error): return .failure(error)
        }
        var mail = LMTPMailCommand(reversePath: parsed.path)
        var seen: Set<String> = []
        for parameter in parsed.parameters.split(separator: UInt8(ascii: " ")) {
            let keyword: String
            let value: String?
            switch splitParameter(parameter) {
            case .success(let split): (keyword, value) = split
            case .failure(let error): return .failure(error)
            }
            guard seen.insert(keyword).inserted else { return refuse(duplicate(keyword)) }
            switch keyword {
            case "RET":
                guard let value else { return refuse(LMTPReply(501, "5.5.4", "Missing RET= parameter value")) }
                guard let ret = LMTPReturn(rawValue: value.uppercased()) else {
                    return refuse(LMTPReply(555, "5.5.4", "Unsupported RET= parameter keyword"))
                }
                mail.notificationReturn = ret
            case "ENVID":
                guard let value else { return refuse(LMTPReply(501, "5.5.4", "Missing ENVID= parameter value")) }
                switch LMTPEnvelopeID.parse(value) {
                case .success(let id): mail.envelopeID = id
                case .failure(let error): return .failure(error)
                }
            case "BODY":
                guard let value else { return refuse(LMTPReply(501, "5.5.4", "Invalid BODY parameter")) }
                let body = value.uppercased()
                guard body == "7BIT" || body == "8BITMIME" else { return refuse(.unsupportedBodyType) }
                mail.body = body
            case "SIZE":
                guard let value, !value.isEmpty, value.utf8.count <= 18,
                    value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                    let size = Int(value)
                else {
                    return refuse(.invalidSizeParameter)
                }
                mail.size = size
            case "SMTPUTF8":
                guard value == nil else { return refuse(LMTPReply(501, "5.5.4", "Invalid SMTPUTF8 parameter")) }
                mail.smtpUTF8 = true
            default:
                return refuse(.unsupportedParameters)
            }
        }
        return .success(.mail(mail))
    }

    private static func parseRcpt(_ arguments: [UInt8]?) -> Result<LMTPCommand, LMTPCommandError> {
        let parsed: LMTPPathParser.ParsedPath
        switch parsePath(arguments, prefix: "TO:", kind: .to) {
        case .success(let value): parsed = value
        case .failure(let error): return .failure(error)
        }
        var rcpt = LMTPRcptCommand(path: parsed.path, address: parsed.address)
        var seen: Set<String> = []
        for parameter in parsed.parameters.split(separator: UInt8(ascii: " ")) {
            let keyword: String
            let value: String?
            // Dovecot's answer to a value outside esmtp-value (a second `=`, say).
            switch splitParameter(
                parameter, badValue: LMTPReply(501, "5.5.4", "Invalid RCPT parameter: Unexpected character in parameter value"))
            {
            case .success(let split): (keyword, value) = split
            case .failure(let error): return .failure(error)
            }
            // Dovecot takes XRCPTFORWARD more than once (the first counts).
            guard seen.insert(keyword).inserted || keyword == "XRCPTFORWARD" else { return refuse(duplicate(keyword)) }
            switch keyword {
            case "NOTIFY":
                guard let value else { return refuse(LMTPReply(501, "5.5.4", "Missing NOTIFY= parameter value")) }
                switch LMTPNotify.parse(value) {
                case .success(let notify): rcpt.notify = notify
                case .failure(let error): return .failure(error)
                }
            case "ORCPT":
                // `addr-type ";" xtext`, e.g. `rfc822;alice@example.com`.
                guard let value, let original = LMTPOriginalRecipient(parsing: value) else {
                    return refuse(LMTPReply(501, "5.5.4", "Invalid ORCPT parameter"))
                }
                rcpt.originalRecipient = original
            case "XRCPTFORWARD":
                // Whether the client may send it is the session's to decide (login_trusted_networks).
                guard let value else {
                    return refuse(LMTPReply(501, "5.5.4", "Invalid XRCPTFORWARD= parameter: Missing value"))
                }
                switch LMTPForwardFields.parse(value) {
                case .success(let fields): if rcpt.forwardFields == nil { rcpt.forwardFields = fields }
                case .failure(let error): return .failure(error)
                }
            default:
                return refuse(.unsupportedParameters)
            }
        }
        return .success(.rcpt(rcpt))
    }

    private static func parseBDAT(_ arguments: [UInt8]?) -> Result<LMTPCommand, LMTPCommandError> {
        guard let arguments, !arguments.isEmpty else { return refuse(.invalidParameters) }
        let words = arguments.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard words.count <= 2 else { return refuse(.invalidParameters) }
        let sizeWord = words[0]
        guard !sizeWord.isEmpty, sizeWord.count <= 18,
            sizeWord.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let size = Int(String(decoding: sizeWord, as: UTF8.self))
        else {
            return refuse(LMTPReply(501, "5.5.4", "Invalid chunk size parameter"))
        }
        var last = false
        if words.count == 2 {
            guard String(decoding: words[1], as: UTF8.self).uppercased() == "LAST" else {
                return refuse(LMTPReply(501, "5.5.4", "Invalid end marker parameter"))
            }
            last = true
        }
        return .success(.bdat(size: size, last: last))
    }

    // MARK: - Helpers

    /// A parameter given twice: Dovecot's `Duplicate RET= parameter` for the DSN ones, Homing's
    /// earlier `Duplicate SIZE parameter` for the others.
    private static func duplicate(_ keyword: String) -> LMTPReply {
        let dsn = ["RET", "ENVID", "NOTIFY"].contains(keyword)
        return LMTPReply(501, "5.5.4", "Duplicate \(keyword)\(dsn ? "=" : "") parameter")
    }

    private static func refuse(_ reply: LMTPReply) -> Result<LMTPCommand, LMTPCommandError> {
        .failure(LMTPCommandError(reply))
    }

    private static func noArguments(_ arguments: [UInt8]?, _ command: LMTPCommand) -> Result<
        LMTPCommand, LMTPCommandError
    > {
        arguments == nil ? .success(command) : refuse(.invalidParameters)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    /// The bytes after a case-insensitive ASCII `prefix`, or `nil`.
    private static func afterPrefix(_ prefix: String, in bytes: [UInt8]) -> [UInt8]? {
        let prefixBytes = Array(prefix.utf8)
        guard bytes.count >= prefixBytes.count else { return nil }
        for (byte, expected) in zip(bytes, prefixBytes) {
            let folded = isLetter(byte) ? byte & 0xDF : byte
            guard folded == expected else { return nil }
        }
        return Array(bytes[prefixBytes.count...])
    }

    /// `esmtp-keyword ["=" esmtp-value]`: the upper-cased keyword and the value. A value with a
    /// character outside esmtp-value (visible characters except `=`, UTF-8 allowed: RFC 6531)
    /// is refused with `badValue`, looked at before the keyword; a bad keyword or an empty value
    /// with `501 5.5.4 Invalid parameters`.
    private static func splitParameter(
        _ parameter: ArraySlice<UInt8>, badValue: LMTPReply = .invalidParameters
    ) -> Result<(String, String?), LMTPCommandError> {
        let equals = parameter.firstIndex(of: UInt8(ascii: "="))
        if let equals, parameter[(equals + 1)...].contains(where: { $0 <= 32 || $0 == 127 || $0 == UInt8(ascii: "=") }) {
            return .failure(LMTPCommandError(badValue))
        }
        let keyword = parameter[parameter.startIndex..<(equals ?? parameter.endIndex)]
        guard let first = keyword.first, isLetter(first) || isDigit(first),
            keyword.allSatisfy({ isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") })
        else { return .failure(LMTPCommandError(.invalidParameters)) }
        let name = String(decoding: keyword, as: UTF8.self).uppercased()
        guard let equals else { return .success((name, nil)) }
        let value = parameter[(equals + 1)...]
        guard !value.isEmpty else { return .failure(LMTPCommandError(.invalidParameters)) }
        return .success((name, String(decoding: value, as: UTF8.self)))
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// RFC 5321 `String = Atom / Quoted-string`.
    private static func isSMTPString(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first else { return false }
        if first == UInt8(ascii: "\"") {
            var index = 1
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\") {
                    index += 1
                    guard index < bytes.count, bytes[index] >= 32, bytes[index] != 127 else { return false }
                } else if byte == UInt8(ascii: "\"") {
                    return index == bytes.count - 1
                } else if byte < 32 || byte == 127 {
                    return false
                }
                index += 1
            }
            return false
        }
        return bytes.allSatisfy { LMTPPathParser.isAtext($0) }
    }
}
