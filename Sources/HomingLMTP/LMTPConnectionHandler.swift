import Logging
import NIOCore

/// The channel handler of one LMTP connection, between the socket and the `NIOAsyncChannel` the
/// session runs on. It turns the session's ``LMTPSessionOutput`` into bytes and is the one place
/// that decides when a connection is closed from the server's side:
///
/// - **Idle timeout.** Once the session waits for its client (every reply written, every read
///   consumed), a timer starts; if no byte arrives before it fires, the client gets
///   `421 4.4.2 <hostname> Disconnected for inactivity` and the connection is closed. While the
///   session works (a userdb lookup, a delivery) there is no timer, so a slow delivery is never
///   cut short.
/// - **Quiescing.** On `ChannelShouldQuiesceEvent` (the server is shutting down), a waiting
///   session is told `421 4.3.2 <hostname> Shutting down` and closed at once; a busy one
///   when it next waits, so that a delivery in progress is answered first.
///
/// Everything happens on the channel's event loop, so the session's mark ("I wait, having
/// consumed N reads") and the client's bytes are seen in the order they happened: a read that
/// arrives after the mark makes the session busy again.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(
///     LMTPConnectionHandler(hostname: hostname, idleTimeout: .minutes(5), logger: logger))
/// let asyncChannel = try NIOAsyncChannel<ByteBuffer, LMTPSessionOutput>(wrappingChannelSynchronously: channel)
/// ```
public final class LMTPConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    /// The client's bytes, passed through untouched.
    public typealias InboundIn = ByteBuffer
    /// The client's bytes, passed through untouched.
    public typealias InboundOut = ByteBuffer
    /// What the session writes.
    public typealias OutboundIn = LMTPSessionOutput
    /// Bytes for the socket.
    public typealias OutboundOut = ByteBuffer

    private let hostname: String
    private let idleTimeout: TimeAmount
    private let logger: Logger
    /// Reads passed on to the session.
    private var reads = 0
    /// The session waits for the client (its last mark covered every read).
    private var waiting = false
    /// The server asked to close the connection as soon as the session waits.
    private var quiescing = false
    /// The 421 is on its way; nothing more is done.
    private var closing = false
    private var idleTimer: Scheduled<Void>?

    /// - Parameters:
    ///   - hostname: the host name in the 421 replies.
    ///   - idleTimeout: how long a waiting session may hear nothing from its client.
    ///   - logger: where the disconnection is logged.
    public init(hostname: String, idleTimeout: TimeAmount, logger: Logger) {
        self.hostname = hostname
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reads += 1
        waiting = false
        cancelIdleTimer()
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let output = unwrapOutboundIn(data)
        if output.bytes.readableBytes > 0 {
            context.write(wrapOutboundOut(output.bytes), promise: promise)
        } else {
            promise?.succeed()
        }
        if let consumed = output.waitingAfterReads, consumed == reads, !closing {
            waiting = true
            if quiescing {
                close(context, with: .shuttingDown(hostname: hostname), log: nil)
            } else {
                startIdleTimer(context)
            }
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        quiescing = true
        if waiting, !closing {
            close(context, with: .shuttingDown(hostname: hostname), log: nil)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        cancelIdleTimer()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelIdleTimer()
    }

    // MARK: - Pieces

    private func startIdleTimer(_ context: ChannelHandlerContext) {
        cancelIdleTimer()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(in: idleTimeout) {
            let (handler, context) = loopBound.value
            handler.idleTimerFired(context)
        }
    }

    private func idleTimerFired(_ context: ChannelHandlerContext) {
        idleTimer = nil
        guard waiting, !closing else { return }
        close(context, with: .idleTimeout(hostname: hostname), log: "Disconnected for inactivity")
    }

    private func cancelIdleTimer() {
        idleTimer?.cancel()
        idleTimer = nil
    }

    /// Writes `reply` after whatever the session wrote, then closes the connection.
    private func close(_ context: ChannelHandlerContext, with reply: LMTPReply, log: String?) {
        closing = true
        cancelIdleTimer()
        if let log { logger.info("\(log)") }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut([reply].wireBuffer())).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension LMTPConnectionHandler: Sendable {}
