import NIOCore

/// Encodes a message for `DATA` as it streams through (RFC 5321 4.5.2): every line end
/// becomes CRLF (a bare LF too, as LMTP receives it), a `.` that opens a line is doubled, and
/// ``finish()`` ends an unterminated last line before the closing `.`. A pure value; chunks
/// may split a line end anywhere.
public struct DotStuffingEncoder: Sendable {
    private var atLineStart = true
    private var pendingCR = false

    public init() {}

    /// The wire bytes for the next chunk of the message.
    public mutating func encode(_ input: ByteBuffer) -> ByteBuffer {
        var output = ByteBuffer()
        output.reserveCapacity(input.readableBytes + input.readableBytes / 16 + 4)
        input.withUnsafeReadableBytes { bytes in
            for byte in bytes {
                if pendingCR {
                    pendingCR = false
                    if byte == UInt8(ascii: "\n") {
                        output.writeStaticString("\r\n")
                        atLineStart = true
                        continue
                    }
                    // A bare CR is not a line end: kept as it was.
                    output.writeInteger(UInt8(ascii: "\r"))
                    atLineStart = false
                }
                switch byte {
                case UInt8(ascii: "\r"):
                    pendingCR = true
                case UInt8(ascii: "\n"):
                    output.writeStaticString("\r\n")
                    atLineStart = true
                case UInt8(ascii: "."):
                    output.writeStaticString(atLineStart ? ".." : ".")
                    atLineStart = false
                default:
                    output.writeInteger(byte)
                    atLineStart = false
                }
            }
        }
        return output
    }

    /// The end of the message: the last line's end when missing, then `.` CRLF.
    public mutating func finish() -> ByteBuffer {
        var output = ByteBuffer()
        if pendingCR {
            pendingCR = false
            output.writeStaticString("\r\n")
            atLineStart = true
        }
        if !atLineStart { output.writeStaticString("\r\n") }
        output.writeStaticString(".\r\n")
        atLineStart = true
        return output
    }
}
