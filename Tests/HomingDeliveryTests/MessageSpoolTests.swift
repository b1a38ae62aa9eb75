import Glibc
import HomingConfig
import NIOCore
import NIOPosix
import Testing

@testable import HomingDelivery

@Suite("Message spool")
struct MessageSpoolTests {
    static func contents(_ fd: Int32, size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, 0) }
        return Array(out[..<max(0, n)])
    }

    @Test("bytes are stored with LF line ends, counted, and the headers scanned")
    func spoolsNormalized() async throws {
        let pool = NIOThreadPool.singleton
        let spool = try await MessageSpool.create(in: "/tmp", threadPool: pool)
        try await spool.write(ByteBuffer(string: "Message-ID: <1@x>\r\nSubject: s\r"))
        try await spool.write(ByteBuffer(string: "\n\r\nbody\r\n"))
        let (message, headers) = try await spool.finish()
        #expect(message.size == 35)
        #expect(message.lineFeeds == 4)
        #expect(headers.messageID == "<1@x>")
        #expect(String(decoding: Self.contents(message.fileDescriptor, size: 100), as: UTF8.self)
            == "Message-ID: <1@x>\nSubject: s\n\nbody\n")
        await spool.discard()
        await spool.discard()
        #expect(fcntl(message.fileDescriptor, F_GETFD) == -1)
    }

    @Test("a large message is written in pieces and read back intact")
    func largeMessage() async throws {
        let pool = NIOThreadPool.singleton
        let spool = try await MessageSpool.create(in: "/tmp", threadPool: pool)
        let line = String(repeating: "x", count: 999) + "\r\n"
        let chunk = String(repeating: line, count: 100)
        for _ in 0..<30 { try await spool.write(ByteBuffer(string: chunk)) }
        let (message, _) = try await spool.finish()
        #expect(message.size == 30 * 100 * 1000)
        #expect(message.lineFeeds == 3000)
        let back = Self.contents(message.fileDescriptor, size: message.size)
        #expect(back.count == message.size)
        #expect(back.filter { $0 == UInt8(ascii: "\r") }.isEmpty)
        await spool.discard()
    }

    @Test("a spool directory that does not exist is an error naming it")
    func missingDirectory() async throws {
        let pool = NIOThreadPool.singleton
        await #expect(throws: SystemCallError.self) {
            _ = try await MessageSpool.create(in: "/nonexistent/dir", threadPool: pool)
        }
        do {
            _ = try await MessageSpool.create(in: "/nonexistent/dir", threadPool: pool)
        } catch {
            #expect("\(error)".contains("/nonexistent/dir"))
        }
    }
}
