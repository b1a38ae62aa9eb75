/// A message to send: header lines built in memory, then optionally the rest streamed from a
/// file (a redirect sends the delivered message without loading it into memory).
public struct OutgoingMessage: Sendable, Hashable {
    /// Octets sent first (built headers, or a whole small message). LF or CRLF line ends.
    public var prefix: [UInt8]
    /// A file whose content follows `prefix`, from `offset` to its end; `nil` for none.
    public var bodyFile: String?
    /// Where in `bodyFile` to start.
    public var bodyOffset: Int

    /// Creates a message.
    public init(prefix: [UInt8], bodyFile: String? = nil, bodyOffset: Int = 0) {
        self.prefix = prefix
        self.bodyFile = bodyFile
        self.bodyOffset = bodyOffset
    }
}
