import HomingLMTP
import Logging
import NIOCore
import NIOEmbedded
import Testing

@Suite("LMTP idle timeout handler")
struct LMTPIdleTimeoutHandlerTests {
    func makeChannel(_ activity: LMTPConnectionActivity) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            LMTPIdleTimeoutHandler(activity: activity, hostname: "mx.example.com", logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 24)).wait()
        return channel
    }

    @Test("an idle read while the session awaits input writes the 421 and closes")
    func closesIdleConnection() throws {
        let activity = LMTPConnectionActivity()
        activity.setAwaitingClientInput(true)
        let channel = try makeChannel(activity)
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        let written = try channel.readOutbound(as: ByteBuffer.self)
        #expect(written.map { String(buffer: $0) } == "421 4.4.2 mx.example.com Disconnected for inactivity\r\n")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("an idle event while a delivery runs is ignored")
    func keepsBusyConnection() throws {
        let activity = LMTPConnectionActivity()
        activity.setAwaitingClientInput(false)
        let channel = try makeChannel(activity)
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test("other events pass through")
    func otherEvents() throws {
        let activity = LMTPConnectionActivity()
        activity.setAwaitingClientInput(true)
        let channel = try makeChannel(activity)
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.write)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(channel.isActive)
        _ = try channel.finish()
    }
}
