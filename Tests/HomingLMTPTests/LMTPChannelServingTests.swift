import HomingLMTP
import Logging
import NIOCore
import NIOEmbedded
import Testing

@Suite("LMTP over a NIOAsyncChannel", .timeLimit(.minutes(1)))
struct LMTPChannelServingTests {
    /// Reads outbound buffers until `count` CRLF-terminated lines arrived.
    func readLines(_ channel: NIOAsyncTestingChannel, count: Int) async throws -> [String] {
        var text = ""
        while text.components(separatedBy: "\r\n").count - 1 < count {
            let buffer = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
            text += String(buffer: buffer)
        }
        return text.components(separatedBy: "\r\n").dropLast().map { $0 }
    }

    /// A testing channel with the connection handler and the async channel the session runs on.
    func makeChannel(idleTimeout: TimeAmount = .minutes(5)) async throws -> (
        NIOAsyncTestingChannel, NIOAsyncChannel<ByteBuffer, LMTPSessionOutput>
    ) {
        let channel = NIOAsyncTestingChannel()
        let asyncChannel = try await channel.testingEventLoop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(
                LMTPConnectionHandler(hostname: "mx.example.com", idleTimeout: idleTimeout, logger: Logger(label: "test")))
            return try NIOAsyncChannel<ByteBuffer, LMTPSessionOutput>(wrappingChannelSynchronously: channel)
        }
        return (channel, asyncChannel)
    }

    @Test("serveLMTP answers over the channel and closes it after QUIT")
    func serveOverChannel() async throws {
        let (channel, asyncChannel) = try await makeChannel()
        let backend = TestBackend()
        async let served: Void = serveLMTP(
            channel: asyncChannel, backend: backend, connection: LMTPConnectionInfo(), logger: Logger(label: "test"),
            sessionID: testSessionID)
        #expect(try await readLines(channel, count: 1) == ["220 mx.example.com Homing ready."])
        try await channel.writeInbound(
            ByteBuffer(string: "MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n"))
        #expect(try await readLines(channel, count: 3) == ["250 2.1.0 OK", "250 2.1.5 OK", "354 OK"])
        try await channel.writeInbound(ByteBuffer(string: "hello\r\n.\r\nQUIT\r\n"))
        #expect(
            try await readLines(channel, count: 2) == [
                "250 2.0.0 <alice@example.com> \(testSessionID) Saved", "221 2.0.0 Bye",
            ])
        try await served
        #expect(backend.record.current.delivered.first?.bytes == Array("hello\r\n".utf8))
        try await channel.closeFuture.get()
    }

    @Test("the connection handler closes a waiting session with 421 and the session discards its message")
    func idleTimeoutWithSession() async throws {
        let (channel, asyncChannel) = try await makeChannel()
        let backend = TestBackend()
        async let served: Void = serveLMTP(
            channel: asyncChannel, backend: backend, connection: LMTPConnectionInfo(), logger: Logger(label: "test"),
            sessionID: testSessionID)
        _ = try await readLines(channel, count: 1)
        try await channel.writeInbound(
            ByteBuffer(string: "MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\npart"))
        // The replies come with the session's mark that it now waits: the idle timer runs.
        _ = try await readLines(channel, count: 3)
        await channel.testingEventLoop.advanceTime(by: .minutes(5))
        #expect(try await readLines(channel, count: 1) == ["421 4.4.2 mx.example.com Disconnected for inactivity"])
        try await served
        #expect(backend.record.current.delivered.isEmpty)
        #expect(backend.record.current.discarded == [Array("part".utf8)])
    }
}
