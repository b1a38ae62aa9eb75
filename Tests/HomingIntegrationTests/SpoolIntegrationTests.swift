import Foundation
import Glibc
import HomingTestSupport
import Testing

/// The prefix of spool files created where O_TMPFILE is missing (`MessageSpool.fileNamePrefix`).
enum MessageSpoolName {
    static let prefix = "homing-spool."
}

/// Issue 19, item 2: the spool in `mail_temp_dir` never has a name, and leftovers of an earlier
/// Homing (where O_TMPFILE was missing) are removed at start.
@Suite("The message spool, end to end", .serialized)
struct SpoolIntegrationTests {
    /// The server's descriptors that point into `directory`: (fd path, link target).
    static func descriptors(of pid: pid_t, into directory: String) -> [(String, String)] {
        let fdDirectory = "/proc/\(pid)/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fdDirectory)) ?? []
        var found: [(String, String)] = []
        for name in names {
            let path = fdDirectory + "/" + name
            var buffer = [CChar](repeating: 0, count: 4096)
            let count = readlink(path, &buffer, buffer.count - 1)
            guard count > 0 else { continue }
            let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix(directory + "/") { found.append((path, target)) }
        }
        return found
    }

    @Test("while DATA is being received, mail_temp_dir has no entry for the spool; the server holds an unlinked file")
    func spoolHasNoName() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        let tempDir = fixture.dir.file("tmp")
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "sender@example.org")
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        // Half the message, past the 128 KiB kept in memory: the server is now spooling it to
        // mail_temp_dir.
        try await client.send("Subject: spool\r\n\r\n" + String(repeating: "a line of the body\r\n", count: 20000))

        // Wait until the server has the spool open and has written part of the message to it.
        var spool: [(String, String)] = []
        var info = stat()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            spool = Self.descriptors(of: server.pid, into: tempDir)
            if spool.count == 1, stat(spool[0].0, &info) == 0, info.st_size > 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(spool.count == 1, "no spool descriptor found in /proc/\(server.pid)/fd")
        #expect(spool[0].1.hasSuffix(" (deleted)"), "\(spool[0].1)")
        // O_TMPFILE: the file never had a name (the kernel shows "#<inode>"), unlike a
        // homing-spool.XXXXXX created and then unlinked.
        #expect(!spool[0].1.contains(MessageSpoolName.prefix), "\(spool[0].1)")
        #expect(info.st_nlink == 0, "the spool file has \(info.st_nlink) names")
        #expect(info.st_size > 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tempDir) == [])

        try await client.send(String(repeating: "the rest\r\n", count: 100) + ".\r\n")
        let reply = try await client.readReply()
        #expect(reply.first?.hasPrefix("250 2.0.0 <alice@example.com>") == true, "\(reply)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tempDir) == [])
        await server.stop()
    }

    @Test("at start, spool files an earlier Homing left are removed and logged; other files stay")
    func staleSpoolFilesRemoved() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let tempDir = fixture.dir.file("tmp")
        try "half a message".write(toFile: tempDir + "/homing-spool.Ab3dE9", atomically: false, encoding: .utf8)
        try "not ours".write(toFile: tempDir + "/homing-spool.longer-name", atomically: false, encoding: .utf8)
        try "not ours".write(toFile: tempDir + "/other-file", atomically: false, encoding: .utf8)
        let server = try await fixture.startServer()
        let left = try FileManager.default.contentsOfDirectory(atPath: tempDir).sorted()
        #expect(left == ["homing-spool.longer-name", "other-file"])
        #expect(server.log.contains("removed stale spool file \(tempDir)/homing-spool.Ab3dE9 (14 bytes) left by an earlier Homing"), "\(server.log)")
        await server.stop()
    }
}
