/// One SMTP reply (RFC 5321 section 4.2): a three-digit code and its text lines.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// The reply code (`250`, `451`...).
    public var code: Int
    /// The text of each line, without the code and separator.
    public var lines: [String]

    /// Creates a reply.
    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// The reply as the server sent it, lines joined with ` / `: `550 5.1.1 unknown user`.
    public var description: String {
        lines.map { "\(code) \($0)" }.joined(separator: " / ")
    }

    /// 2xx.
    public var isPositive: Bool { (200..<300).contains(code) }
    /// 4xx: try again later.
    public var isTemporary: Bool { (400..<500).contains(code) }
}

/// Assembles replies from lines (pure): `250-first`, `250-more`, `250 last`.
public struct SMTPReplyParser: Sendable {
    private var code: Int?
    private var lines: [String] = []

    /// Creates a parser.
    public init() {}

    /// Feeds one line (without its line end); returns the reply when this was its last line.
    /// A line that is not a reply line is an error naming it.
    public mutating func feed(_ line: String) throws(SubmissionError) -> SMTPReply? {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, bytes[0...2].allSatisfy({ (48...57).contains($0) }),
            bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-"),
            let lineCode = Int(String(decoding: bytes[0...2], as: UTF8.self))
        else {
            throw SubmissionError(temporary: true, "the SMTP server sent a malformed reply line: \(line.prefix(200))")
        }
        if let code, code != lineCode {
            throw SubmissionError(temporary: true, "the SMTP server changed the reply code within a reply: \(line.prefix(200))")
        }
        code = lineCode
        lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        if bytes.count == 3 || bytes[3] == UInt8(ascii: " ") {
            let reply = SMTPReply(code: lineCode, lines: lines)
            code = nil
            lines = []
            return reply
        }
        return nil
    }
}
