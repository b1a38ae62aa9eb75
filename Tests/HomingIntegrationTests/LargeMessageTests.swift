import Foundation
import HomingTestSupport
import Testing

@Suite("homing serve: a 100 MB message", .serialized)
struct LargeMessageTests {
    @Test("a 100 MB message is streamed to disk with the server's memory growing by a few MB at most")
    func hundredMegabytes() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.connect(unixPath: fixture.socketPath)
        _ = try await client.readReply()
        // Warm up: one small delivery so that lazily allocated pools exist before measuring.
        try await client.send("LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n")
        _ = try await client.readReplies(4)
        try await client.send("Subject: warm-up\r\n\r\nx\r\n.\r\n")
        _ = try await client.readReply()
        let before = try #require(server.memoryKB("VmRSS"))

        try await client.send("MAIL FROM:<a@b>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n")
        #expect(try await client.readReplies(3) == ["250 2.1.0 OK", "250 2.1.5 OK", "354 OK"])
        try await client.send("Subject: big\r\n\r\n")
        let line = Array((String(repeating: "0123456789", count: 99) + "abcdefgh\r\n").utf8)  // 1000 bytes
        let lines = 100 * 1024  // 102,400,000 bytes
        try await client.sendRepeated(Array(repeating: line, count: 64).flatMap { $0 }, times: lines / 64)
        try await client.send(".\r\n")
        let reply = try await client.readReply()
        #expect(reply.first?.hasPrefix("250 2.0.0 <bob@example.com>") == true, "\(reply) \(server.log)")
        let peak = try #require(server.memoryKB("VmHWM"))
        let growth = peak - before
        // "A few MB": the read buffers, the 64 KiB spool pieces and the copy buffer. Not
        // measurable under a sanitizer (make test-sanitize sets HOMING_SANITIZER): shadow
        // memory and AddressSanitizer's quarantine of freed memory (256 MB) count as resident.
        if ProcessInfo.processInfo.environment["HOMING_SANITIZER"] == nil {
            #expect(growth < 16 * 1024, "server memory grew by \(growth) kB (before \(before) kB, peak \(peak) kB)")
        }

        let names = fixture.files(fixture.maildir("bob"))
        try #require(names.count == 1)
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.maildir("bob") + "/new/" + names[0])
        let size = try #require(attributes[.size] as? Int)
        // 999 bytes + LF per line once CRLF is turned into LF, plus the header lines.
        #expect(size > lines * 999 && names[0].contains(",S=\(size),"))
    }
}
