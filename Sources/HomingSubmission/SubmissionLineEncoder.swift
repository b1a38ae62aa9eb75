/// Rewrites a message's line ends on the fly, for the transport it goes to: chunk by chunk, so a
/// message never has to be in memory at once. Pure state machine, no I/O.
///
/// - `.sendmail`: CRLF (and bare CR) become LF, the Unix line end sendmail reads.
/// - `.smtp`: every line end becomes CRLF and a line starting with `.` gets another `.`
///   (RFC 5321 section 4.5.2); `finish` ends the last line and adds the `.` terminator.
public struct SubmissionLineEncoder: Sendable {
    /// The output line convention.
    public enum Mode: Sendable, Hashable {
        /// LF line ends, no dot-stuffing.
        case sendmail
        /// CRLF line ends, dot-stuffing, `.` terminator.
        case smtp
    }

    /// The mode.
    public let mode: Mode
    private var pendingCR = false
    private var atLineStart = true

    /// Creates an encoder.
    public init(mode: Mode) {
        self.mode = mode
    }

    /// The encoded form of the next `chunk`.
    public mutating func encode(_ chunk: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(chunk.underestimatedCount + 64)
        for byte in chunk {
            if pendingCR {
                pendingCR = false
                endLine(&out)
                if byte == 10 { continue }
            }
            if byte == 13 {
                pendingCR = true
                continue
            }
            if byte == 10 {
                endLine(&out)
                continue
            }
            if atLineStart && mode == .smtp && byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            atLineStart = false
            out.append(byte)
        }
        return out
    }

    /// What remains at the end: a pending line end, a final line end when the message did not
    /// end with one, and for SMTP the `.` line.
    public mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        if pendingCR {
            pendingCR = false
            endLine(&out)
        }
        if !atLineStart { endLine(&out) }
        if mode == .smtp { out += [UInt8(ascii: "."), 13, 10] }
        return out
    }

    private mutating func endLine(_ out: inout [UInt8]) {
        if mode == .smtp { out.append(13) }
        out.append(10)
        atLineStart = true
    }
}
