/// A received message waiting in a spool file, ready to be copied into maildirs.
///
/// The spool holds the message with LF line ends (as Dovecot stores it). `size` is its length
/// in bytes and `lineFeeds` the number of LF bytes in it, so the RFC 822 size with CRLF line
/// ends (`,W=`) is `size + lineFeeds`.
public struct SpooledMessage: Sendable, Hashable {
    /// An open, readable file descriptor on the spool file. Read with `pread` from offset 0;
    /// owned by whoever spooled the message, never closed by a reader.
    public var fileDescriptor: Int32
    /// Bytes in the spool file.
    public var size: Int
    /// LF bytes in the spool file.
    public var lineFeeds: Int

    public init(fileDescriptor: Int32, size: Int, lineFeeds: Int) {
        self.fileDescriptor = fileDescriptor
        self.size = size
        self.lineFeeds = lineFeeds
    }
}
