#if canImport(Glibc)
    import Glibc
#endif

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
        let done: Void? = input.withContiguousStorageIfAvailable { normalize(contiguous: $0, into: &output) }
        if done == nil {
            Array(input).withUnsafeBufferPointer { normalize(contiguous: $0, into: &output) }
        }
    }

    /// The work of ``normalize(_:into:)`` on contiguous bytes: runs between CRs are copied
    /// whole (found with `memchr`), so a message costs a memory copy, not a loop per byte.
    private mutating func normalize(contiguous input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        guard let base = input.baseAddress, input.count > 0 else { return }
        let count = input.count
        let before = output.count
        output.reserveCapacity(before + count + 1)
        if pendingCR {
            pendingCR = false
            if base[0] != UInt8(ascii: "\n") { output.append(UInt8(ascii: "\r")) }
        }
        var start = 0
        while start < count {
            guard let found = memchr(base + start, Int32(UInt8(ascii: "\r")), count - start) else {
                output.append(contentsOf: UnsafeBufferPointer(start: base + start, count: count - start))
                break
            }
            let carriageReturn = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
            output.append(contentsOf: UnsafeBufferPointer(start: base + start, count: carriageReturn - start))
            let next = carriageReturn + 1
            if next == count {
                // Whether an LF follows is known only with the next chunk.
                pendingCR = true
            } else if base[next] != UInt8(ascii: "\n") {
                // A bare CR is kept.
                output.append(UInt8(ascii: "\r"))
            }
            start = next
        }
        lineFeeds += Self.countLineFeeds(input)
        size += output.count - before
    }

    /// The LF bytes in `input`, counted 8 bytes at a time in a 64-bit word (a byte equal to LF
    /// becomes a zero byte, whose high bit the mask sets exactly: the additions cannot carry
    /// from one byte into the next), the rest one by one.
    static func countLineFeeds(_ input: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = input.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        let count = input.count
        let lineFeeds: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
        let low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        var feeds = 0
        var index = 0
        while index + 8 <= count {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ lineFeeds
            let zeroBytes = ~(((word & low) &+ low) | word | low)
            feeds += zeroBytes.nonzeroBitCount
            index += 8
        }
        while index < count {
            if base[index] == UInt8(ascii: "\n") { feeds += 1 }
            index += 1
        }
        return feeds
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
