/// Turns CRLF line ends into LF as bytes stream through, the way Dovecot stores mail.
/// A CR at the end of one chunk is held until the next chunk shows whether an LF follows.
/// A bare CR (not followed by LF) is kept.
public struct LineEndingNormalizer: Sendable {
    private var pendingCR = false
    /// LF bytes emitted so far.
    public private(set) var lineFeeds = 0
    /// Bytes emitted so far.
    public private(set) var size = 0

    public init() {}

    /// Appends the normalized form of `input` to `output`.
    public mutating func normalize<Bytes: Collection>(_ input: Bytes, into output: inout [UInt8])
    where Bytes.Element == UInt8 {
        output.reserveCapacity(output.count + input.count + 1)
        let before = output.count
        for byte in input {
            if pendingCR {
                pendingCR = false
                if byte != UInt8(ascii: "\n") { output.append(UInt8(ascii: "\r")) }
            }
            switch byte {
            case UInt8(ascii: "\r"):
                pendingCR = true
            case UInt8(ascii: "\n"):
                lineFeeds += 1
                output.append(byte)
            default:
                output.append(byte)
            }
        }
        size += output.count - before
    }

    /// Ends the stream: a CR still held is emitted.
    public mutating func finish(into output: inout [UInt8]) {
        if pendingCR {
            pendingCR = false
            output.append(UInt8(ascii: "\r"))
            size += 1
        }
    }
}
