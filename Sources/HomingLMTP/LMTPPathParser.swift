/// Parses the `<path>` of `MAIL FROM:` and `RCPT TO:` (RFC 5321 section 4.1.2, with a
/// domain-less mailbox such as `<postmaster>` allowed, as LMTP servers do).
///
/// Errors carry Dovecot's texts: `Missing '<' at beginning of path`, `Missing '>' at end of
/// path`, `Null path not allowed`, `Path is empty string`, `Unexpected whitespace before path`.
enum LMTPPathParser {
    /// Which command the path belongs to; it names the path in errors (`Invalid FROM: ...`).
    enum Kind {
        /// `MAIL FROM`: the null path `<>` is allowed and the local part is read leniently
        /// (`sender@@example.org` is accepted, as by Dovecot).
        case from
        /// `RCPT TO`: a mailbox is required.
        case to

        var label: String {
            switch self {
            case .from: return "FROM"
            case .to: return "TO"
            }
        }
    }

    /// A parsed path.
    struct ParsedPath: Hashable {
        /// The text between the brackets, as sent.
        var path: String
        /// The mailbox without source route, local part unquoted where possible; empty for `<>`.
        var address: String
        /// The parameters after the path (after one space), or empty.
        var parameters: [UInt8]
    }

    /// The longest path RFC 5321 allows, brackets included.
    static let maximumPathLength = 256

    /// Parses `text` (what follows `FROM:` or `TO:`): a path, then optionally a space and parameters.
    static func parse(_ text: [UInt8], kind: Kind) -> Result<ParsedPath, LMTPCommandError> {
        func failure(_ message: String) -> Result<ParsedPath, LMTPCommandError> {
            .failure(LMTPCommandError(LMTPReply(501, "5.5.4", "Invalid \(kind.label): \(message)")))
        }
        guard let first = text.first else { return failure("Path is empty string") }
        if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            return failure("Unexpected whitespace before path")
        }
        guard first == UInt8(ascii: "<") else { return failure("Missing '<' at beginning of path") }

        // Find the closing bracket, skipping quoted strings (a quoted local part may hold `>`).
        var index = 1
        var inQuotes = false
        var closing: Int?
        while index < text.count {
            let byte = text[index]
            if inQuotes {
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    inQuotes = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inQuotes = true
            } else if byte == UInt8(ascii: ">") {
                closing = index
                break
            }
            index += 1
        }
        guard let closing else { return failure("Missing '>' at end of path") }
        let content = Array(text[1..<closing])
        var parameters: [UInt8] = []
        let afterPath = text[(closing + 1)...]
        if let next = afterPath.first {
            guard next == UInt8(ascii: " ") else { return failure("Invalid character after path") }
            parameters = Array(afterPath.dropFirst())
        }
        if content.count + 2 > maximumPathLength { return failure("Path too long") }
        if content.isEmpty {
            switch kind {
            case .from:
                return .success(ParsedPath(path: "", address: "", parameters: parameters))
            case .to:
                return failure("Null path not allowed")
            }
        }
        guard let path = String(validating: content, as: UTF8.self) else {
            return failure("Invalid UTF-8 in path")
        }
        switch parseMailboxWithRoute(content, lenient: kind == .from) {
        case .success(let address):
            return .success(ParsedPath(path: path, address: address, parameters: parameters))
        case .failure(let message):
            return failure(message.text)
        }
    }

    /// Validates a bare `local@domain` (used by VRFY); `nil` when it is not one.
    static func mailbox(_ bytes: [UInt8]) -> String? {
        guard !bytes.isEmpty, bytes.first != UInt8(ascii: "@"),
            case .success(let address) = parseMailboxWithRoute(bytes, lenient: false)
        else { return nil }
        return address
    }

    // MARK: - Grammar

    struct Message: Error {
        var text: String
        init(_ text: String) { self.text = text }
    }

    /// `[A-d-l ":"] Mailbox`; returns the normalised mailbox.
    private static func parseMailboxWithRoute(_ content: [UInt8], lenient: Bool) -> Result<String, Message> {
        var mailbox = content[...]
        if content.first == UInt8(ascii: "@") {
            guard let colon = content.firstIndex(of: UInt8(ascii: ":")) else {
                return .failure(Message("Invalid source route"))
            }
            let route = content[0..<colon]
            for hop in route.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                guard hop.first == UInt8(ascii: "@"), isValidDomain(hop.dropFirst()) else {
                    return .failure(Message("Invalid source route"))
                }
            }
            if route.isEmpty { return .failure(Message("Invalid source route")) }
            mailbox = content[(colon + 1)...]
        }
        guard !mailbox.isEmpty else { return .failure(Message("Missing localpart")) }

        var localPart: String
        var rest: ArraySlice<UInt8>
        if mailbox.first == UInt8(ascii: "\"") {
            guard let (unquoted, end) = parseQuotedString(mailbox) else {
                return .failure(Message("Invalid quoted string in localpart"))
            }
            localPart = isDotString(Array(unquoted.utf8)[...]) ? unquoted : quote(unquoted)
            rest = mailbox[end...]
        } else {
            let separator: Int?
            if lenient {
                separator = mailbox.lastIndex(of: UInt8(ascii: "@"))
            } else {
                separator = mailbox.firstIndex(of: UInt8(ascii: "@"))
            }
            let localBytes = mailbox[mailbox.startIndex..<(separator ?? mailbox.endIndex)]
            guard !localBytes.isEmpty else { return .failure(Message("Empty localpart")) }
            for byte in localBytes {
                let allowed = lenient ? isLenientLocalByte(byte) : (isAtext(byte) || byte == UInt8(ascii: "."))
                guard allowed else { return .failure(Message("Invalid character in localpart")) }
            }
            localPart = String(decoding: localBytes, as: UTF8.self)
            rest = mailbox[(separator ?? mailbox.endIndex)...]
        }
        if rest.isEmpty { return .success(localPart) }
        guard rest.first == UInt8(ascii: "@") else {
            return .failure(Message("Invalid character in localpart"))
        }
        let domain = rest.dropFirst()
        guard !domain.isEmpty else { return .failure(Message("Missing domain")) }
        guard isValidDomain(domain) else { return .failure(Message("Invalid domain")) }
        return .success(localPart + "@" + String(decoding: domain, as: UTF8.self))
    }

    /// A quoted string starting at `bytes.startIndex`: its unescaped value and the index after it.
    private static func parseQuotedString(_ bytes: ArraySlice<UInt8>) -> (String, Int)? {
        var value: [UInt8] = []
        var index = bytes.startIndex + 1
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                return (String(decoding: value, as: UTF8.self), index + 1)
            }
            if byte == UInt8(ascii: "\\") {
                index += 1
                guard index < bytes.endIndex, bytes[index] >= 32, bytes[index] != 127 else { return nil }
                value.append(bytes[index])
            } else {
                guard byte >= 32, byte != 127 else { return nil }
                value.append(byte)
            }
            index += 1
        }
        return nil
    }

    private static func quote(_ text: String) -> String {
        var out = "\""
        for character in text {
            if character == "\"" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }

    /// RFC 5321 `atext`, plus UTF-8 bytes (RFC 6531).
    static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case 0x80...0xFF:
            return true
        default:
            return "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }

    /// Any visible character but the brackets (MAIL FROM is read leniently).
    private static func isLenientLocalByte(_ byte: UInt8) -> Bool {
        byte > 32 && byte != 127 && byte != UInt8(ascii: "<") && byte != UInt8(ascii: ">")
            && byte != UInt8(ascii: "\"")
    }

    private static func isDotString(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.first != UInt8(ascii: "."), bytes.last != UInt8(ascii: ".") else { return false }
        var previousDot = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                if previousDot { return false }
                previousDot = true
            } else {
                guard isAtext(byte) else { return false }
                previousDot = false
            }
        }
        return true
    }

    /// A host name (`sub-domain *("." sub-domain)`) or an address literal (`[...]`).
    static func isValidDomain(_ domain: ArraySlice<UInt8>) -> Bool {
        guard !domain.isEmpty else { return false }
        if domain.first == UInt8(ascii: "[") {
            guard domain.count >= 3, domain.last == UInt8(ascii: "]") else { return false }
            return domain.dropFirst().dropLast().allSatisfy { byte in
                byte >= 33 && byte <= 126 && byte != UInt8(ascii: "[") && byte != UInt8(ascii: "]")
                    && byte != UInt8(ascii: "\\")
            }
        }
        for label in domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty else { return false }
            for byte in label {
                let allowed: Bool
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), 0x80...0xFF:
                    allowed = true
                default:
                    allowed = false
                }
                guard allowed else { return false }
            }
        }
        return true
    }
}
