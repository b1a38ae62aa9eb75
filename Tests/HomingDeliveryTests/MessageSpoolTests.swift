import Foundation
import Glibc
import HomingTestSupport
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

    /// What `/proc/self/fd/N` points to.
    static func target(of fd: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        return count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    }

    @Test("a message up to 128 KiB stays in memory (a memfd) and mail_temp_dir is never touched; a larger one moves there, whole")
    func smallInMemoryLargeOnDisk() async throws {
        let pool = NIOThreadPool.singleton
        let directory = try TemporaryDirectory()
        let line = String(repeating: "y", count: 98) + "\r\n"  // 100 bytes, 99 once stored
        let small = try await MessageSpool.create(in: directory.path, threadPool: pool)
        for _ in 0..<(MessageSpool.memoryLimit / 99 / 10) {
            try await small.write(ByteBuffer(string: String(repeating: line, count: 10)))
        }
        let (smallMessage, _) = try await small.finish()
        #expect(small.isInMemory)
        #expect(smallMessage.size <= MessageSpool.memoryLimit)
        #expect(Self.target(of: smallMessage.fileDescriptor).hasPrefix("/memfd:homing-spool"), "\(Self.target(of: smallMessage.fileDescriptor))")
        #expect(Self.contents(smallMessage.fileDescriptor, size: smallMessage.size + 1).count == smallMessage.size)
        await small.discard()

        let large = try await MessageSpool.create(in: directory.path, threadPool: pool)
        var expected: [UInt8] = []
        for index in 0..<6000 {
            let text = "line \(index) " + String(repeating: "z", count: index % 50) + "\r\n"
            try await large.write(ByteBuffer(string: text))
            expected += Array(text.utf8.dropLast(2)) + [10]
        }
        let (largeMessage, _) = try await large.finish()
        #expect(!large.isInMemory)
        #expect(largeMessage.size == expected.count)
        #expect(largeMessage.size > MessageSpool.memoryLimit)
        #expect(Self.target(of: largeMessage.fileDescriptor).hasPrefix(directory.path + "/"), "\(Self.target(of: largeMessage.fileDescriptor))")
        #expect(Self.contents(largeMessage.fileDescriptor, size: largeMessage.size + 1) == expected)
        await large.discard()
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [])
    }

    @Test("with a recent check of mail_temp_dir a spool in memory is made without looking again; a first check still fails for a missing directory")
    func recentDirectoryCheck() async throws {
        let pool = NIOThreadPool.singleton
        let missing = SpoolDirectoryCheck()
        await #expect(throws: SystemCallError.self) {
            _ = try await MessageSpool.create(in: "/nonexistent/dir", threadPool: pool, recentCheck: missing)
        }
        #expect(!missing.isRecent, "a failed check is not remembered")

        let directory = try TemporaryDirectory()
        let spoolDirectory = directory.path + "/spool"
        try FileManager.default.createDirectory(atPath: spoolDirectory, withIntermediateDirectories: false)
        let check = SpoolDirectoryCheck()
        let first = try await MessageSpool.create(in: spoolDirectory, threadPool: pool, recentCheck: check)
        #expect(check.isRecent)
        await first.discard()
        // Gone now: within the check's validity a small message still spools in memory (the
        // directory is needed only if it grows past 128 KiB), without a check that would fail.
        try FileManager.default.removeItem(atPath: spoolDirectory)
        let second = try await MessageSpool.create(in: spoolDirectory, threadPool: pool, recentCheck: check)
        #expect(second.isInMemory)
        try await second.write(ByteBuffer(string: "Subject: x\r\n\r\nbody\r\n"))
        let (message, _) = try await second.finish()
        #expect(message.size == "Subject: x\n\nbody\n".utf8.count)
        await second.discard()
        // Without the check it is looked at, and missing.
        await #expect(throws: SystemCallError.self) {
            _ = try await MessageSpool.create(in: spoolDirectory, threadPool: pool)
        }
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

    @Test("the spool file has no name: O_TMPFILE, or created and unlinked at once where the file system lacks it",
          arguments: [true, false])
    func noName(tmpfile: Bool) throws {
        let directory = try ScratchDirectory("spool-name")
        defer { directory.remove() }
        let fd = try MessageSpool.openAnonymousFile(in: directory.path, allowTmpfile: tmpfile)
        defer { close(fd) }
        var info = stat()
        #expect(fstat(fd, &info) == 0)
        #expect(info.st_nlink == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [])
        #expect(pwrite(fd, "x", 1, 0) == 1)
    }

    @Test("stale spool files are removed by their exact name shape and owner; nothing else")
    func staleFiles() throws {
        let directory = try ScratchDirectory("spool-stale")
        defer { directory.remove() }
        for name in ["homing-spool.abcDEF", "homing-spool.123456", "homing-spool.toolong1", "homing-spool.", "other"] {
            try directory.write(name, "x")
        }
        try FileManager.default.createDirectory(atPath: directory.file("homing-spool.dirABC"), withIntermediateDirectories: false)
        #expect(symlink("/etc/passwd", directory.file("homing-spool.linkAB")) == 0)
        let result = MessageSpool.removeStaleFiles(in: directory.path)
        #expect(result.removed.sorted() == ["homing-spool.123456 (1 bytes)", "homing-spool.abcDEF (1 bytes)"])
        #expect(result.problems.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            == ["homing-spool.", "homing-spool.dirABC", "homing-spool.linkAB", "homing-spool.toolong1", "other"])
    }
}
