#if canImport(Glibc)
import Glibc
#endif

/// Reads a message once, in chunks, for what `SieveMessage` keeps: the header bytes (up to a
/// bound), where the body starts, and the size with CRLF line ends.
///
/// Pure: feed it the message bytes in any chunking and read the results.
struct SieveMessageScanner: Sendable {
    /// The header bytes kept (at most `headerLimit`).
    private(set) var headerBytes: [UInt8] = []
    /// The offset of the first body byte, once the empty line ending the header was seen.
    private(set) var bodyOffset: Int?
    /// Bytes seen.
    private(set) var byteCount = 0
    /// Line feeds not preceded by a carriage return (each counts as two octets in `size`).
    private(set) var bareLineFeeds = 0

    private let headerLimit: Int
    private var previousByte: UInt8 = 0
    /// Whether the current line holds nothing but (possibly) a CR so far.
    private var lineEmptySoFar = true

    init(maxHeaderSize: Int) {
        // One byte more than the bound, so a line cut at the bound is recognised as cut.
        headerLimit = maxHeaderSize == .max ? .max : maxHeaderSize + 1
    }

    /// The size in octets as delivered over SMTP/LMTP, with every line end counted as CRLF.
    var sizeWithCRLF: Int { byteCount + bareLineFeeds }

    mutating func consume(_ chunk: ArraySlice<UInt8>) {
        chunk.withUnsafeBytes { consume($0) }
    }

    mutating func consume(_ chunk: [UInt8]) {
        chunk.withUnsafeBytes { consume($0) }
    }

    /// Takes the next bytes of the message.
    mutating func consume(_ buffer: UnsafeRawBufferPointer) {
        var index = 0
        // Header: byte by byte, looking for the empty line.
        while bodyOffset == nil && index < buffer.count {
            let byte = buffer[index]
            if byte == 0x0A {
                if previousByte != 0x0D { bareLineFeeds += 1 }
                if lineEmptySoFar {
                    bodyOffset = byteCount + 1
                }
                lineEmptySoFar = true
            } else if byte != 0x0D || !lineEmptySoFar || previousByte == 0x0D {
                lineEmptySoFar = false
            }
            if bodyOffset == nil && headerBytes.count < headerLimit {
                headerBytes.append(byte)
            }
            previousByte = byte
            byteCount += 1
            index += 1
        }
        // Body: only the line feeds matter, found with memchr.
        guard index < buffer.count, let base = buffer.baseAddress else { return }
        let end = buffer.count
        var position = index
        while position < end {
            guard let found = memchr(base + position, 0x0A, end - position) else { break }
            let offset = base.distance(to: UnsafeRawPointer(found))
            let before = offset > 0 ? buffer[offset - 1] : previousByte
            if before != 0x0D { bareLineFeeds += 1 }
            position = offset + 1
        }
        byteCount += end - index
        previousByte = buffer[end - 1]
    }
}
