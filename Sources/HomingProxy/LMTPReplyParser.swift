import HomingLMTP

/// Assembles SMTP/LMTP replies from the lines a server sends (RFC 5321 4.2): `250-first`,
/// `250 last`; the enhanced status code (RFC 3463), when the first line starts with one of
/// the reply's class, is kept apart from the text. A pure value: feed it lines without their
/// line ends.
public struct LMTPReplyParser: Sendable {
    /// The longest reply accepted, all lines together (Dovecot's `LMTP_MAX_REPLY_SIZE`).
    public static let maximumReplySize = 4096

    private var code: Int?
    private var lines: [String] = []
    private var size = 0

    public init() {}

    /// Takes one line; returns the reply once its last line is in.
    public mutating func feed(_ line: String) throws(LMTPClientError) -> LMTPReply? {
        size += line.utf8.count + 2
        if size > Self.maximumReplySize { throw .badReply("Reply too long (over \(Self.maximumReplySize) bytes)") }
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, bytes[0..<3].allSatisfy({ (0x30...0x39).contains($0) }),
            let lineCode = Int(String(decoding: bytes[0..<3], as: UTF8.self)), lineCode >= 200, lineCode < 600
        else { throw .badReply("Invalid reply line: \(Self.printable(line))") }
        if let code, code != lineCode {
            throw .badReply("Inconsistent reply codes \(code) and \(lineCode) in one reply")
        }
        code = lineCode
        let last: Bool
        if bytes.count == 3 {
            last = true
        } else if bytes[3] == UInt8(ascii: " ") {
            last = true
        } else if bytes[3] == UInt8(ascii: "-") {
            last = false
        } else {
            throw .badReply("Invalid reply line: \(Self.printable(line))")
        }
        lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        guard last else { return nil }
        defer {
            self.code = nil
            lines = []
            size = 0
        }
        return Self.reply(code: lineCode, lines: lines)
    }

    /// Separates the enhanced code from each line's text.
    static func reply(code: Int, lines: [String]) -> LMTPReply {
        guard let first = lines.first, let enhanced = enhancedCode(prefixOf: first, replyCode: code) else {
            return LMTPReply(code: code, enhancedCode: nil, lines: lines)
        }
        let texts = lines.map { line -> String in
            guard line.hasPrefix(enhanced) else { return line }
            let rest = line.dropFirst(enhanced.count)
            return rest.hasPrefix(" ") ? String(rest.dropFirst()) : String(rest)
        }
        return LMTPReply(code: code, enhancedCode: enhanced, lines: texts)
    }

    /// `x.y.z` at the start of `text` (followed by a space or the end) whose class `x` is the
    /// reply code's first digit.
    static func enhancedCode(prefixOf text: String, replyCode: Int) -> String? {
        let token = text.prefix { $0 != " " }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            Int(parts[0]) == replyCode / 100
        else { return nil }
        return String(token)
    }

    static func printable(_ line: String) -> String {
        String(line.prefix(80).map { $0.isASCII && !$0.isNewline && $0 != "\0" ? $0 : "?" })
    }
}
