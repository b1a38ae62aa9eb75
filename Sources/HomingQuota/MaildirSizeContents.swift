/// A parsed Maildir++ `maildirsize` file: the limits line (`1073741824S,10000C`) followed by
/// `<bytes> <count>` lines whose sums are the usage (removals are negative lines).
///
/// Pure value; ``MaildirSizeFile`` does the I/O.
public struct MaildirSizeContents: Sendable, Hashable {
    /// The limits of the first line (0 where a part is missing).
    public var limits: QuotaLimits
    /// Sum of all `<bytes> <count>` lines.
    public var usage: QuotaUsage
    /// The number of usage lines.
    public var usageLineCount: Int
    /// Whether every line parsed and the file ended with a newline. An invalid file must be recalculated.
    public var isValid: Bool

    public init(limits: QuotaLimits, usage: QuotaUsage, usageLineCount: Int, isValid: Bool) {
        self.limits = limits
        self.usage = usage
        self.usageLineCount = usageLineCount
        self.isValid = isValid
    }

    /// Parses the file's bytes. Never fails: problems make ``isValid`` false.
    public static func parse(_ bytes: [UInt8]) -> MaildirSizeContents {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var valid = text.hasSuffix("\n")
        if valid { lines.removeLast() }
        guard let first = lines.first, let limits = parseLimitsLine(first) else {
            return MaildirSizeContents(limits: .unlimited, usage: .zero, usageLineCount: 0, isValid: false)
        }
        var bytesTotal: Int64 = 0, countTotal: Int64 = 0, lineCount = 0
        for line in lines.dropFirst() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 2, let size = Int64(fields[0]), let count = Int64(fields[1]) else {
                valid = false
                continue
            }
            bytesTotal = bytesTotal.addingReportingOverflow(size).partialValue
            countTotal = countTotal.addingReportingOverflow(count).partialValue
            lineCount += 1
        }
        return MaildirSizeContents(limits: limits, usage: QuotaUsage(bytes: bytesTotal, messages: countTotal),
                                   usageLineCount: lineCount, isValid: valid)
    }

    /// Parses `1073741824S,10000C` (either part optional, in any order). Nil when malformed.
    public static func parseLimitsLine(_ line: Substring) -> QuotaLimits? {
        var bytes: Int64 = 0, messages: Int64 = 0
        for part in line.split(separator: ",") {
            let trimmed = part.trimmingSpaces()
            guard let kind = trimmed.last, let number = Int64(trimmed.dropLast()), number >= 0 else { return nil }
            switch kind {
            case "S": bytes = number
            case "C": messages = number
            default: return nil
            }
        }
        return QuotaLimits(bytes: bytes, messages: messages)
    }

    /// The limits line Homing writes: `<bytes>S`, `<count>C`, or both joined by `,`; `0S` when unlimited.
    public static func limitsLine(_ limits: QuotaLimits) -> String {
        var parts: [String] = []
        if limits.bytes > 0 { parts.append("\(limits.bytes)S") }
        if limits.messages > 0 { parts.append("\(limits.messages)C") }
        return parts.isEmpty ? "0S" : parts.joined(separator: ",")
    }

    /// One usage line, `<bytes> <count>\n`.
    public static func usageLine(bytes: Int64, messages: Int64) -> String {
        "\(bytes) \(messages)\n"
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var result = self
        while result.first == " " { result = result.dropFirst() }
        while result.last == " " { result = result.dropLast() }
        return result
    }
}
