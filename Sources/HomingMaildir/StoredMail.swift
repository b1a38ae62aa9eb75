/// A message stored by ``MaildirWriter``.
public struct StoredMail: Sendable, Hashable {
    /// The full path of the file (`.../new/<fileName>` or `.../cur/<fileName>`).
    public var path: String
    /// The file name, with `:2,<flags>` when flags were given.
    public var fileName: String
    /// The file name without the `:2,...` info part: `<time>.M<usec>P<pid>.<host>,S=<s>,W=<w>`.
    public var baseName: String
    /// `S=`: bytes on disk (header prefix + spool).
    public var size: Int
    /// `W=`: the RFC 822 size with CRLF line ends.
    public var virtualSize: Int
    /// True when the file went to `cur/` (flags given), false for `new/`.
    public var inCur: Bool
    /// What could not be recorded although the message was stored: keywords that have no
    /// letter (the `dovecot-keywords` file could not be updated), a subscription that could not
    /// be written. For the log.
    public var problems: [String]

    public init(
        path: String, fileName: String, baseName: String, size: Int, virtualSize: Int, inCur: Bool,
        problems: [String] = []
    ) {
        self.path = path
        self.fileName = fileName
        self.baseName = baseName
        self.size = size
        self.virtualSize = virtualSize
        self.inCur = inCur
        self.problems = problems
    }
}
