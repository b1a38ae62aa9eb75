/// A header to store instead of the one in the spool (Sieve's `editheader`): the copy is the
/// header prefix, then `header`, then the spool from `bodyOffset` on.
///
/// The spool's own header (its first `bodyOffset` bytes) is skipped; `replacedLineFeeds` says
/// how many LF bytes it held, so that the copy's sizes (`S=`, `W=`) follow from what is written
/// without reading the spool twice.
public struct HeaderReplacement: Sendable, Hashable {
    /// The new header section, ending with the empty line, LF line ends (as the spool).
    public var header: [UInt8]
    /// Where the spool's body starts: the spool is copied from this offset to its end.
    public var bodyOffset: Int
    /// LF bytes in the spool's first `bodyOffset` bytes.
    public var replacedLineFeeds: Int

    /// Creates a replacement.
    public init(header: [UInt8], bodyOffset: Int, replacedLineFeeds: Int) {
        self.header = header
        self.bodyOffset = bodyOffset
        self.replacedLineFeeds = replacedLineFeeds
    }

    /// A replacement for the header at the start of `messageStart` (the spool's first bytes,
    /// at least up to `bodyOffset`): counts the line feeds it replaces.
    public init(header: [UInt8], bodyOffset: Int, messageStart: [UInt8]) {
        let end = min(max(0, bodyOffset), messageStart.count)
        self.init(
            header: header, bodyOffset: bodyOffset,
            replacedLineFeeds: messageStart[0..<end].reduce(0) { $1 == 0x0A ? $0 + 1 : $0 })
    }
}

extension MaildirWriter {
    /// The sizes a stored copy has: `S=` (bytes written: the prefix, the header or its
    /// replacement, the rest of the spool) and `W=` (the same with CRLF line ends). The quota
    /// plugin counts `size` before the copy is written.
    public static func sizes(
        of message: SpooledMessage, headerPrefix: [UInt8], replacing replacement: HeaderReplacement? = nil
    ) -> (size: Int, virtualSize: Int) {
        func lineFeeds(_ bytes: [UInt8]) -> Int { bytes.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 } }
        var size = headerPrefix.count + message.size
        var feeds = lineFeeds(headerPrefix) + message.lineFeeds
        if let replacement {
            size += replacement.header.count - replacement.bodyOffset
            feeds += lineFeeds(replacement.header) - replacement.replacedLineFeeds
        }
        return (size, size + feeds)
    }
}
