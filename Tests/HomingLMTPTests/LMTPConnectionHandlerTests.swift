import HomingLMTP
import Logging
import NIOCore
import NIOEmbedded
import Testing

@Suite("LMTP connection handler: idle timeout and quiescing")
struct LMTPConnectionHandlerTests {
    func makeChannel(idleTimeout: TimeAmount = .seconds(300)) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            LMTPConnectionHandler(hostname: "mx.example.com", idleTimeout: idleTimeout, logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 24)).wait()
        return channel
    }

    /// The session writes `text` and marks that it waits, having consumed `reads` reads.
    func sessionWrites(_ channel: EmbeddedChannel, _ text: String, waitingAfterReads reads: Int?) throws {
        try channel.writeOutbound(LMTPSessionOutput(bytes: ByteBuffer(string: text), waitingAfterReads: reads))
    }

    func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test("the session's output reaches the socket as bytes; an empty batch writes nothing")
    func passesBytes() throws {
        let channel = try makeChannel()
        try sessionWrites(channel, "220 mx.example.com Homing ready.\r\n", waitingAfterReads: nil)
        try sessionWrites(channel, "", waitingAfterReads: nil)
        #expect(try written(channel) == "220 mx.example.com Homing ready.\r\n")
        _ = try channel.finish()
    }

    @Test("a session waiting for its client past the idle timeout gets the 421 and is closed")
    func closesIdleConnection() throws {
        let channel = try makeChannel()
        try sessionWrites(channel, "220 ready\r\n", waitingAfterReads: 0)
        channel.embeddedEventLoop.advanceTime(by: .seconds(299))
        #expect(try written(channel) == "220 ready\r\n")
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try written(channel) == "421 4.4.2 mx.example.com Disconnected for inactivity\r\n")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("a busy session (lookup or delivery running) is never timed out")
    func keepsBusyConnection() throws {
        let channel = try makeChannel()
        try sessionWrites(channel, "220 ready\r\n", waitingAfterReads: 0)
        try channel.writeInbound(ByteBuffer(string: "RCPT TO:<a@b>\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .hours(1))
        #expect(try written(channel) == "220 ready\r\n")
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test("a mark that does not cover every read leaves the session busy: input it has not seen yet")
    func staleMark() throws {
        let channel = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "NOOP\r\n"))
        try channel.writeInbound(ByteBuffer(string: "NOOP\r\n"))
        try sessionWrites(channel, "250 2.0.0 OK\r\n", waitingAfterReads: 1)
        channel.embeddedEventLoop.advanceTime(by: .hours(1))
        #expect(channel.isActive)
        try sessionWrites(channel, "250 2.0.0 OK\r\n", waitingAfterReads: 2)
        channel.embeddedEventLoop.advanceTime(by: .seconds(300))
        #expect(try written(channel).hasSuffix("421 4.4.2 mx.example.com Disconnected for inactivity\r\n"))
    }

    @Test("input restarts the idle time")
    func inputRestartsTimer() throws {
        let channel = try makeChannel()
        try sessionWrites(channel, "220 ready\r\n", waitingAfterReads: 0)
        channel.embeddedEventLoop.advanceTime(by: .seconds(200))
        try channel.writeInbound(ByteBuffer(string: "NOOP\r\n"))
        try sessionWrites(channel, "250 2.0.0 OK\r\n", waitingAfterReads: 1)
        channel.embeddedEventLoop.advanceTime(by: .seconds(200))
        #expect(channel.isActive)
        #expect(!(try written(channel)).contains("421"))
        _ = try channel.finish()
    }

    @Test("quiescing closes a waiting session at once with 421 4.3.2")
    func quiesceWaiting() throws {
        let channel = try makeChannel()
        try sessionWrites(channel, "220 ready\r\n", waitingAfterReads: 0)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(try written(channel) == "220 ready\r\n421 4.3.2 mx.example.com Shutting down\r\n")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("quiescing lets a busy session answer first, then closes it with 421 4.3.2")
    func quiesceBusy() throws {
        let channel = try makeChannel()
        try sessionWrites(channel, "220 ready\r\n354 OK\r\n", waitingAfterReads: 0)
        try channel.writeInbound(ByteBuffer(string: "hello\r\n.\r\n"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(channel.isActive)
        try sessionWrites(channel, "250 2.0.0 <a@b> id Saved\r\n", waitingAfterReads: 1)
        #expect(
            try written(channel)
                == "220 ready\r\n354 OK\r\n250 2.0.0 <a@b> id Saved\r\n421 4.3.2 mx.example.com Shutting down\r\n")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("other user events pass through")
    func otherEvents() throws {
        let channel = try makeChannel()
        try sessionWrites(channel, "220 ready\r\n", waitingAfterReads: 0)
        channel.pipeline.fireUserInboundEventTriggered("something else")
        #expect(try written(channel) == "220 ready\r\n")
        #expect(channel.isActive)
        _ = try channel.finish()
    }
}
