import NIOCore

/// Where an LMTP session sends its replies.
public protocol LMTPReplyWriter {
    /// Sends these replies, in order, in as few writes as possible (one flush for the batch).
    /// Throwing means the client is gone; the session then ends.
    func write(_ replies: [LMTPReply]) async throws
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

/// Writes replies to a `NIOAsyncChannel`'s outbound side, one buffer per batch.
public struct LMTPChannelReplyWriter: LMTPReplyWriter, Sendable {
    /// The channel's outbound writer.
    public let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    /// Wraps a channel's outbound writer.
    public init(_ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.outbound = outbound
    }

    /// Writes the batch as one buffer (one flush).
    public func write(_ replies: [LMTPReply]) async throws {
        guard !replies.isEmpty else { return }
        try await outbound.write(replies.wireBuffer())
    }
}
