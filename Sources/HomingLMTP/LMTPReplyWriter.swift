import NIOCore

/// Where an LMTP session sends its replies.
public protocol LMTPReplyWriter {
    /// Sends these replies, in order, in as few writes as possible (one flush for the batch).
    /// `waitingAfterReads` is set when the session, once these replies are out, has nothing left
    /// to do and waits for the client, having consumed that many pieces of input: the point at
    /// which an idle connection may be timed out or a quiescing server may close it.
    /// The batch may be empty (only the waiting mark). Throwing means the client is gone; the
    /// session then ends.
    func write(_ replies: [LMTPReply], waitingAfterReads: Int?) async throws
}

extension LMTPReply {
    /// Appends the reply's wire format (CRLF-terminated lines) to `buffer`.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeString(wireFormat)
    }
}

extension Array where Element == LMTPReply {
    /// The replies' wire format in one buffer.
    public func wireBuffer() -> ByteBuffer {
        var buffer = ByteBuffer()
        for reply in self { reply.write(into: &buffer) }
        return buffer
    }
}

/// What an LMTP session writes to its channel: reply bytes, and whether the session then
/// waits for its client. ``LMTPConnectionHandler`` turns it into bytes on the wire and uses the
/// mark for the idle timeout and for quiescing.
public struct LMTPSessionOutput: Sendable {
    /// The replies' bytes (possibly none).
    public var bytes: ByteBuffer
    /// Set when the session waits for the client after these bytes, having consumed this many
    /// reads of the channel.
    public var waitingAfterReads: Int?

    /// Creates an output element.
    public init(bytes: ByteBuffer, waitingAfterReads: Int?) {
        self.bytes = bytes
        self.waitingAfterReads = waitingAfterReads
    }
}

/// Writes replies to a `NIOAsyncChannel`'s outbound side, one element per batch.
public struct LMTPChannelReplyWriter: LMTPReplyWriter, Sendable {
    /// The channel's outbound writer.
    public let outbound: NIOAsyncChannelOutboundWriter<LMTPSessionOutput>

    /// Wraps a channel's outbound writer.
    public init(_ outbound: NIOAsyncChannelOutboundWriter<LMTPSessionOutput>) {
        self.outbound = outbound
    }

    /// Writes the batch as one buffer (one flush), with the waiting mark.
    public func write(_ replies: [LMTPReply], waitingAfterReads: Int?) async throws {
        guard !replies.isEmpty || waitingAfterReads != nil else { return }
        try await outbound.write(LMTPSessionOutput(bytes: replies.wireBuffer(), waitingAfterReads: waitingAfterReads))
    }
}
