import Glibc
import NIOCore

/// Encodes a message for `DATA` as it streams through (RFC 5321 4.5.2): every line end
/// becomes CRLF (a bare LF too, as LMTP receives it), a `.` that opens a line is doubled, and
/// ``finish()`` ends an unterminated last line before the closing `.`. A bare CR is not a
/// line end and stays as it is. A pure value; chunks may split a line end anywhere. Lines are
/// found with `memchr` and copied whole, so a large message costs little per byte.
public struct DotStuffingEncoder: Sendable {
    private var atLineStart = true
    private var pendingCR = false

    public init() {}

    /// The wire bytes for the next chunk of the message.
    public mutating func encode(_ input: ByteBuffer) -> ByteBuffer {
        var output = ByteBuffer()
        output.reserveCapacity(input.readableBytes + 64)
        input.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            let count = bytes.count
            var start = 0
            if pendingCR {
                pendingCR = false
                if bytes[0] == UInt8(ascii: "\n") {
                    output.writeStaticString("\r\n")
                    atLineStart = true
                    start = 1
                } else {
                    output.writeInteger(UInt8(ascii: "\r"))
                    atLineStart = false
                }
            }
            while start < count {
                if atLineStart, bytes[start] == UInt8(ascii: ".") { output.writeInteger(UInt8(ascii: ".")) }
                let rest = count - start
                guard let found = memchr(base + start, Int32(UInt8(ascii: "\n")), rest) else {
                    // No line end in the rest: a trailing CR may be the first half of one.
                    var end = count
                    if bytes[count - 1] == UInt8(ascii: "\r") {
                        end -= 1
                        pendingCR = true
                    }
                    output.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                    atLineStart = false
                    return
                }
                let newline = base.distance(to: UnsafeRawPointer(found))
                var end = newline
                if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                output.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                output.writeStaticString("\r\n")
                atLineStart = true
                start = newline + 1
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
