import HomingLMTP
import NIOCore

/// One thing to send to the destination: bytes, and how many replies they call for.
struct LMTPClientRequest: Sendable {
    var bytes: ByteBuffer
    /// Replies expected (0 for message bytes).
    var replies: Int
    /// Completed with the replies, in order, or failed with an ``LMTPClientError``.
    var promise: EventLoopPromise<[LMTPReply]>?
    /// How long the replies may take.
    var timeout: TimeAmount
}

/// The client side of an LMTP/SMTP connection on the event loop: splits the byte stream into
/// lines, assembles replies (``LMTPReplyParser``) and hands them to the requests waiting, in
/// order. A reply nobody waits for, a malformed one, a timeout, an error or the connection
/// closing fails every waiting request and closes the channel: a connection that failed once
/// is never used again.
final class LMTPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = LMTPClientRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        var remaining: Int
        var replies: [LMTPReply]
        var promise: EventLoopPromise<[LMTPReply]>?
        var timeout: TimeAmount
    }

    private var parser = LMTPReplyParser()
    private var buffer = ByteBuffer()
    private var waiting = CircularBuffer<Waiting>()
    private var timer: Scheduled<Void>?
    private var failure: LMTPClientError?
    private weak var context: ChannelHandlerContext?

    /// - Parameter greeting: waits for the server's greeting from the start.
    init(greeting: EventLoopPromise<[LMTPReply]>, timeout: TimeAmount) {
        waiting.append(Waiting(remaining: 1, replies: [], promise: greeting, timeout: timeout))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        armTimer(context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise?.fail(failure)
            promise?.fail(failure)
            return
        }
        if request.replies > 0 {
            waiting.append(
                Waiting(remaining: request.replies, replies: [], promise: request.promise, timeout: request.timeout))
            if waiting.count == 1 { armTimer(context: context) }
        } else {
            request.promise?.succeed([])
        }
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        buffer.writeBuffer(&input)
        while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - buffer.readerIndex
            guard var line = buffer.readString(length: length) else { break }
            buffer.moveReaderIndex(forwardBy: 1)
            if line.hasSuffix("\r") { line.removeLast() }
            do {
                if let reply = try parser.feed(line) { received(reply, context: context) }
            } catch {
                fail(error, context: context)
                return
            }
            if failure != nil { return }
        }
        if buffer.readableBytes > LMTPReplyParser.maximumReplySize {
            fail(.badReply("Reply line too long"), context: context)
        }
        buffer.discardReadBytes()
    }

    private func received(_ reply: LMTPReply, context: ChannelHandlerContext) {
        guard var first = waiting.first else {
            fail(.badReply("Unexpected reply: \(reply)"), context: context)
            return
        }
        if reply.code == 421 {
            // The server is going away: every waiting command fails, this one with its text.
            fail(.connectionLost("Remote server is closing the connection: \(reply)"), context: context)
            return
        }
        first.replies.append(reply)
        first.remaining -= 1
        if first.remaining == 0 {
            waiting.removeFirst()
            first.promise?.succeed(first.replies)
            armTimer(context: context)
        } else {
            waiting[waiting.startIndex] = first
            armTimer(context: context)
        }
    }

    private func armTimer(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        guard let first = waiting.first else { return }
        let seconds = first.timeout.nanoseconds / 1_000_000_000
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: first.timeout) {
            handler.value.timedOut(seconds: seconds)
        }
    }

    fileprivate func timedOut(seconds: Int64) {
        guard let context else { return }
        fail(.timedOut("No reply within \(seconds) s"), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.connectionLost("Remote closed connection unexpectedly"), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(.connectionLost("Connection failed: \(error)"), context: context)
    }

    private func fail(_ error: LMTPClientError, context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if failure == nil { failure = error }
        while let waiter = waiting.popFirst() { waiter.promise?.fail(failure ?? error) }
        context.close(promise: nil)
    }
}
