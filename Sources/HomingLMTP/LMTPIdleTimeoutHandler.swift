import Logging
import NIOCore

/// Closes an idle LMTP connection with `421 4.4.2 <hostname> Disconnected for inactivity`.
///
/// Install it right after a `NIOCore.IdleStateHandler(readTimeout:)` in the child channel's
/// pipeline, before wrapping the channel in a `NIOAsyncChannel`, and pass the same
/// ``LMTPConnectionActivity`` to the session (``serveLMTP(channel:backend:connection:configuration:logger:activity:sessionID:)``):
///
/// ```swift
/// let activity = LMTPConnectionActivity()
/// try channel.pipeline.syncOperations.addHandlers([
///     IdleStateHandler(readTimeout: .minutes(5)),
///     LMTPIdleTimeoutHandler(activity: activity, hostname: hostname, logger: logger),
/// ])
/// let asyncChannel = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
/// ```
///
/// On an idle event (`.read` or `.all`) it writes the 421 and closes the channel, but only
/// while the session is waiting for the client; while the session is busy (a lookup or a
/// delivery is running) the event is ignored and the next one is awaited.
public final class LMTPIdleTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    /// Bytes from the client, passed through untouched.
    public typealias InboundIn = ByteBuffer
    /// Bytes from the client, passed through untouched.
    public typealias InboundOut = ByteBuffer
    /// The 421 reply.
    public typealias OutboundOut = ByteBuffer

    private let activity: LMTPConnectionActivity
    private let hostname: String
    private let logger: Logger
    private var closing = false

    /// - Parameters:
    ///   - activity: shared with the session driver of this connection.
    ///   - hostname: the host name in the 421 reply.
    ///   - logger: where the disconnection is logged.
    public init(activity: LMTPConnectionActivity, hostname: String, logger: Logger) {
        self.activity = activity
        self.hostname = hostname
        self.logger = logger
    }

    /// Reacts to `IdleStateHandler.IdleStateEvent.read`/`.all`; passes every other event on.
    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read || idle == .all else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard !closing, activity.isAwaitingClientInput else { return }
        closing = true
        logger.info("Disconnected for inactivity")
        let channel = context.channel
        let bytes = [LMTPReply.idleTimeout(hostname: hostname)].wireBuffer()
        context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension LMTPIdleTimeoutHandler: Sendable {}
