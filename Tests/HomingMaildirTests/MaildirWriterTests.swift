import Foundation
import Glibc
import Synchronization
import Testing
@testable import HomingMaildir
import HomingTestSupport

@Suite("storing messages in maildir")
struct MaildirWriterTests {
    let prefix = Array("Return-Path: <a@b>\n".utf8)
    let body = Array("Subject: test\n\nHello\n".utf8)
    let writer = MaildirWriter()

    func inbox(_ root: String, identity: FilesystemIdentity? = nil, flags: String = "") -> MaildirDestination {
        MaildirDestination(
            directory: root, trustedBase: (root as NSString).deletingLastPathComponent, createIfMissing: false,
            isInbox: true, flags: flags, identity: identity)
    }

    @Test("a message lands in new/ with Dovecot's name, exact sizes and exact content")
    func storesIntoNew() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let root = temporary.path + "/home/alice/Maildir"
        let stored = try writer.store(spool.message, headerPrefix: prefix, into: inbox(root))

        // S = 19 + 21 bytes; W adds one CR per LF (1 in the prefix, 3 in the body).
        #expect(stored.size == 40)
        #expect(stored.virtualSize == 44)
        #expect(stored.inCur == false)
        #expect(stored.fileName == stored.baseName)
        #expect(stored.path == root + "/new/" + stored.fileName)
        let match = try #require(stored.fileName.wholeMatch(of: #/([0-9]+)\.M([0-9]+)P([0-9]+)\.(.+),S=40,W=44/#))
        #expect(Int32(match.3) == getpid())
        #expect(String(match.4) == MaildirFileName.host)
        let seconds = try #require(Int(match.1))
        #expect(abs(seconds - Int(time(nil))) < 60)
        #expect(try #require(Int(match.2)) < 1_000_000)

        #expect(try contents(stored.path) == prefix + body)
        #expect(try permissions(stored.path) == 0o600)
        for directory in ["/home", "/home/alice", "/home/alice/Maildir", "/home/alice/Maildir/cur", "/home/alice/Maildir/new", "/home/alice/Maildir/tmp"] {
            #expect(try permissions(temporary.path + directory) == 0o700, "\(directory)")
        }
        #expect(entries(root + "/new") == [stored.fileName])
        #expect(entries(root + "/tmp").isEmpty)
        #expect(entries(root + "/cur").isEmpty)
        #expect(entries(root) == ["cur", "new", "tmp"])
    }

    @Test("flags send the message to cur/ with :2,<sorted flags>")
    func flagsGoToCur() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let root = temporary.path + "/Maildir"
        let stored = try writer.store(spool.message, headerPrefix: [], into: inbox(root, flags: "SF"))
        #expect(stored.inCur)
        #expect(stored.fileName == stored.baseName + ":2,FS")
        #expect(stored.baseName.hasSuffix(",S=21,W=24"))
        #expect(entries(root + "/cur") == [stored.fileName])
        #expect(entries(root + "/new").isEmpty)
        #expect(try contents(root + "/cur/" + stored.fileName) == body)

        let seen = try writer.store(spool.message, headerPrefix: [], into: inbox(root, flags: "S"))
        #expect(seen.fileName.hasSuffix(",S=21,W=24:2,S"))
    }

    @Test("invalid flags are refused before anything is written")
    func invalidFlags() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let root = temporary.path + "/Maildir"
        #expect(throws: MaildirError.invalidFlags("S,")) {
            try writer.store(spool.message, headerPrefix: [], into: inbox(root, flags: "S,"))
        }
        #expect(!exists(root))
    }

    @Test("a created subfolder gets cur/new/tmp and an empty maildirfolder file; INBOX does not")
    func subfolderCreation() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let location = try MailLocation.parse("maildir:~/Maildir", home: temporary.path + "/alice")
        let lists = try location.mailbox(named: "lists")
        let stored = try writer.store(
            spool.message, headerPrefix: prefix,
            into: MaildirDestination(mailbox: lists, createIfMissing: true, identity: nil))
        let folder = temporary.path + "/alice/Maildir/.lists"
        #expect(stored.path == folder + "/new/" + stored.fileName)
        #expect(entries(folder) == ["cur", "maildirfolder", "new", "tmp"])
        #expect(try permissions(folder) == 0o700)
        #expect(try permissions(folder + "/maildirfolder") == 0o600)
        #expect(try fileStatus(folder + "/maildirfolder").st_size == 0)
        #expect(entries(temporary.path + "/alice/Maildir") == [".lists"])

        _ = try writer.store(
            spool.message, headerPrefix: prefix,
            into: MaildirDestination(mailbox: try location.mailbox(named: "INBOX"), createIfMissing: false, identity: nil))
        #expect(entries(temporary.path + "/alice/Maildir") == [".lists", "cur", "new", "tmp"])
    }

    @Test("LAYOUT=fs folders are nested, only the leaf is a maildir")
    func fsLayout() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let location = try MailLocation.parse("maildir:\(temporary.path)/m:LAYOUT=fs", home: nil)
        _ = try writer.store(
            spool.message, headerPrefix: [],
            into: MaildirDestination(mailbox: try location.mailbox(named: "a/b"), createIfMissing: true, identity: nil))
        #expect(entries(temporary.path + "/m") == ["a"])
        #expect(entries(temporary.path + "/m/a") == ["b"])
        #expect(entries(temporary.path + "/m/a/b") == ["cur", "maildirfolder", "new", "tmp"])
        #expect(entries(temporary.path + "/m/a/b/new").count == 1)
    }

    @Test("a missing folder without create is an error and nothing is created")
    func missingFolder() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let location = try MailLocation.parse("maildir:~/Maildir", home: temporary.path + "/alice")
        let destination = MaildirDestination(mailbox: try location.mailbox(named: "lists"), createIfMissing: false, identity: nil)
        let error = #expect(throws: MaildirError.self) { try writer.store(spool.message, headerPrefix: prefix, into: destination) }
        #expect(error == .mailboxDoesNotExist(path: temporary.path + "/alice/Maildir/.lists"))
        #expect(error?.isTemporary == false)
        #expect(!exists(temporary.path + "/alice"))

        // A directory without cur/ is not a mailbox either.
        try makeDirectory(temporary.path + "/alice")
        try makeDirectory(temporary.path + "/alice/Maildir")
        try makeDirectory(temporary.path + "/alice/Maildir/.lists")
        #expect(throws: MaildirError.mailboxDoesNotExist(path: temporary.path + "/alice/Maildir/.lists")) {
            try writer.store(spool.message, headerPrefix: prefix, into: destination)
        }
        #expect(entries(temporary.path + "/alice/Maildir/.lists").isEmpty)
    }

    @Test("an existing folder missing new/ and tmp/ is repaired")
    func repairsMissingSubdirectories() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let folder = temporary.path + "/Maildir/.lists"
        try makeDirectory(temporary.path + "/Maildir")
        try makeDirectory(folder)
        try makeDirectory(folder + "/cur")
        let destination = MaildirDestination(
            directory: folder, trustedBase: temporary.path, createIfMissing: false, isInbox: false, identity: nil)
        _ = try writer.store(spool.message, headerPrefix: [], into: destination)
        #expect(entries(folder + "/new").count == 1)
        #expect(entries(folder).contains("tmp"))
    }

    @Test("a symlinked new/ inside the tree is refused and nothing is written")
    func symlinkedNew() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let root = temporary.path + "/Maildir"
        let elsewhere = temporary.path + "/elsewhere"
        try makeDirectory(root)
        try makeDirectory(root + "/cur")
        try makeDirectory(root + "/tmp")
        try makeDirectory(elsewhere)
        try makeSymlink(elsewhere, at: root + "/new")
        let error = #expect(throws: MaildirError.self) { try writer.store(spool.message, headerPrefix: prefix, into: inbox(root)) }
        #expect(error == .symlinkNotAllowed(path: root + "/new"))
        #expect(error?.description.hasPrefix("symlink not allowed: \(root)/new (") == true)
        #expect(entries(elsewhere).isEmpty)
        #expect(entries(root + "/tmp").isEmpty)
    }

    @Test("a symlinked folder or tree root is refused, symlinks above the tree root are fine")
    func symlinkedFolderAndRoot() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let elsewhere = temporary.path + "/elsewhere"
        try makeDirectory(elsewhere)

        let root = temporary.path + "/Maildir"
        try makeDirectory(root)
        try makeSymlink(elsewhere, at: root + "/.lists")
        let lists = MaildirDestination(directory: root + "/.lists", trustedBase: temporary.path, createIfMissing: true, isInbox: false, identity: nil)
        #expect(throws: MaildirError.symlinkNotAllowed(path: root + "/.lists")) {
            try writer.store(spool.message, headerPrefix: prefix, into: lists)
        }

        let linkedRoot = temporary.path + "/LinkedMaildir"
        try makeSymlink(elsewhere, at: linkedRoot)
        #expect(throws: MaildirError.symlinkNotAllowed(path: linkedRoot)) {
            try writer.store(spool.message, headerPrefix: prefix, into: inbox(linkedRoot))
        }
        #expect(entries(elsewhere).isEmpty)

        try makeSymlink(elsewhere, at: temporary.path + "/vmail")
        let stored = try writer.store(spool.message, headerPrefix: prefix, into: inbox(temporary.path + "/vmail/alice/Maildir"))
        #expect(exists(elsewhere + "/alice/Maildir/new/" + stored.fileName))
    }

    @Test("a folder outside the tree root is an invalid destination")
    func folderOutsideTreeRoot() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let destination = MaildirDestination(
            directory: temporary.path + "/other", trustedBase: temporary.path + "/Maildir", createIfMissing: true, isInbox: false,
            identity: nil)
        #expect(throws: MaildirError.self) { try writer.store(spool.message, headerPrefix: [], into: destination) }
        let relative = MaildirDestination(directory: "Maildir", trustedBase: "Maildir", createIfMissing: true, isInbox: true, identity: nil)
        #expect(throws: MaildirError.self) { try writer.store(spool.message, headerPrefix: [], into: relative) }
    }

    @Test("a spool shorter than claimed fails and leaves nothing in tmp/ or new/")
    func shortSpool() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body, claimedSize: 100)
        let root = temporary.path + "/Maildir"
        let error = #expect(throws: MaildirError.self) { try writer.store(spool.message, headerPrefix: prefix, into: inbox(root)) }
        #expect(error == .spoolSizeMismatch(expected: 100, actual: 21))
        #expect(error?.isTemporary == true)
        #expect(entries(root + "/tmp").isEmpty)
        #expect(entries(root + "/new").isEmpty)
    }

    @Test("the spool is copied whole whatever the chunk size, and its size is checked the same way",
          arguments: [1, 7, 64 * 1024])
    func chunkedCopy(chunkSize: Int) throws {
        let temporary = try TemporaryDirectory()
        let chunked = MaildirWriter(chunkSize: chunkSize)
        let large = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let spool = try SpoolFile(in: temporary.path, bytes: large)
        let root = temporary.path + "/Maildir"
        let stored = try chunked.store(spool.message, headerPrefix: prefix, into: inbox(root))
        #expect(try contents(stored.path) == prefix + large)
        let short = try SpoolFile(in: temporary.path, bytes: body, claimedSize: 100)
        #expect(throws: MaildirError.spoolSizeMismatch(expected: 100, actual: 21)) {
            try chunked.store(short.message, headerPrefix: prefix, into: inbox(root))
        }
        let long = try SpoolFile(in: temporary.path, bytes: body, claimedSize: 10)
        #expect(throws: MaildirError.spoolSizeMismatch(expected: 10, actual: 11)) {
            try chunked.store(long.message, headerPrefix: prefix, into: inbox(root))
        }
        #expect(entries(root + "/tmp").isEmpty)
        #expect(entries(root + "/new") == [stored.fileName])
    }

    @Test("a full file system (ENOSPC while writing) is an out-of-space error and leaves nothing in tmp/ or new/",
          .enabled(if: geteuid() == 0, "mounting a small tmpfs needs root"))
    func diskFull() throws {
        let temporary = try TemporaryDirectory()
        let small = temporary.path + "/small"
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        try #require(try TestProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=512k", "homing-full", small]).status == 0)
        defer { _ = try? TestProcess.run("/bin/umount", ["--lazy", small]) }
        let message = [UInt8](repeating: UInt8(ascii: "x"), count: 2 << 20)
        let spool = try SpoolFile(in: temporary.path, bytes: message)
        let root = small + "/Maildir"
        let error = #expect(throws: MaildirError.self) { try writer.store(spool.message, headerPrefix: prefix, into: inbox(root)) }
        #expect(error?.isOutOfSpace == true, "\(String(describing: error))")
        #expect(error?.isTemporary == true)
        #expect(entries(root + "/tmp").isEmpty)
        #expect(entries(root + "/new").isEmpty)
    }

    @Test("a spool longer than claimed fails and leaves nothing behind")
    func longSpool() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body, claimedSize: 10)
        let root = temporary.path + "/Maildir"
        #expect(throws: MaildirError.spoolSizeMismatch(expected: 10, actual: 11)) {
            try writer.store(spool.message, headerPrefix: prefix, into: inbox(root))
        }
        #expect(entries(root + "/tmp").isEmpty)
        #expect(entries(root + "/new").isEmpty)
    }

    @Test("an unreadable spool descriptor is a temporary system error and leaves nothing behind")
    func badSpoolDescriptor() throws {
        let temporary = try TemporaryDirectory()
        let root = temporary.path + "/Maildir"
        let message = SpooledMessage(fileDescriptor: 987_654, size: 5, lineFeeds: 0)
        let error = #expect(throws: MaildirError.self) { try writer.store(message, headerPrefix: prefix, into: inbox(root)) }
        #expect(error?.errno == EBADF)
        #expect(error?.isTemporary == true)
        #expect(entries(root + "/tmp").isEmpty)
        #expect(entries(root + "/new").isEmpty)
    }

    @Test("moving into place never replaces an existing file")
    func renameNeverReplaces() throws {
        let temporary = try TemporaryDirectory()
        try makeDirectory(temporary.path + "/tmp")
        try makeDirectory(temporary.path + "/new")
        #expect(FileManager.default.createFile(atPath: temporary.path + "/tmp/x", contents: Data("new".utf8)))
        #expect(FileManager.default.createFile(atPath: temporary.path + "/new/y", contents: Data("old".utf8)))
        let tmp = open(temporary.path + "/tmp", O_RDONLY | O_DIRECTORY)
        let new = open(temporary.path + "/new", O_RDONLY | O_DIRECTORY)
        defer {
            close(tmp)
            close(new)
        }
        #expect(MaildirWriter.renameWithoutReplacing(from: tmp, "x", to: new, "y") == EEXIST)
        #expect(try contents(temporary.path + "/new/y") == Array("old".utf8))
        #expect(exists(temporary.path + "/tmp/x"))
        #expect(MaildirWriter.renameWithoutReplacing(from: tmp, "x", to: new, "z") == 0)
        #expect(try contents(temporary.path + "/new/z") == Array("new".utf8))
        #expect(!exists(temporary.path + "/tmp/x"))
    }

    @Test("fsync never still stores the message")
    func fsyncNever() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        var destination = inbox(temporary.path + "/Maildir")
        destination.fsync = .never
        let stored = try writer.store(spool.message, headerPrefix: prefix, into: destination)
        #expect(try contents(stored.path) == prefix + body)
    }

    @Test("as root with an identity, files and directories belong to the user and the thread is restored", .enabled(if: isRoot))
    func storesAsUser() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        chown(temporary.path, 4242, 4243)
        let before = try FilesystemIdentity.currentThreadIdentity()
        let location = try MailLocation.parse("maildir:~/Maildir", home: temporary.path + "/alice")
        let identity = FilesystemIdentity(uid: 4242, gid: 4243)
        let stored = try writer.store(
            spool.message, headerPrefix: prefix,
            into: MaildirDestination(mailbox: try location.mailbox(named: "INBOX"), createIfMissing: false, identity: identity))
        let sub = try writer.store(
            spool.message, headerPrefix: prefix,
            into: MaildirDestination(mailbox: try location.mailbox(named: "lists"), createIfMissing: true, identity: identity))
        #expect(try FilesystemIdentity.currentThreadIdentity() == before)

        let owned = [
            "/alice", "/alice/Maildir", "/alice/Maildir/new", "/alice/Maildir/cur", "/alice/Maildir/tmp",
            "/alice/Maildir/.lists", "/alice/Maildir/.lists/maildirfolder",
        ].map { temporary.path + $0 } + [stored.path, sub.path]
        for path in owned {
            let info = try fileStatus(path)
            #expect(info.st_uid == 4242, "\(path)")
            #expect(info.st_gid == 4243, "\(path)")
        }
    }

    @Test("as root with an identity, a directory the user cannot write is a temporary EACCES error", .enabled(if: isRoot))
    func userPermissionsApply() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        chmod(temporary.path, 0o755)
        let root = temporary.path + "/Maildir"
        let error = #expect(throws: MaildirError.self) {
            try writer.store(spool.message, headerPrefix: prefix, into: inbox(root, identity: FilesystemIdentity(uid: 4242, gid: 4243)))
        }
        #expect(error?.errno == EACCES)
        #expect(
            error == .permissionDenied(
                operation: "mkdir", path: root,
                explanation: "euid=4242(unknown) egid=4243(unknown) missing +w perm: \(temporary.path), dir owned by 0:0 mode=0755"))
        #expect(error?.isTemporary == true)
        #expect(!exists(root))
    }

    @Test("uid 0 is refused as the delivery identity")
    func rootIdentityRefused() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let root = temporary.path + "/Maildir"
        let identity = FilesystemIdentity(uid: 0, gid: 0)
        #expect(throws: MaildirError.identity(.superuserRefused(identity))) {
            try writer.store(spool.message, headerPrefix: prefix, into: inbox(root, identity: identity))
        }
        #expect(!exists(root))
    }

    @Test("200 stores from 8 threads give 200 distinct files")
    func concurrentStores() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let root = temporary.path + "/Maildir"
        let destination = inbox(root)
        let writer = self.writer
        let message = spool.message
        let prefix = self.prefix
        let results = Mutex<[Result<String, MaildirError>]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<25 {
                let result = Result { () throws(MaildirError) -> String in
                    try writer.store(message, headerPrefix: prefix, into: destination).fileName
                }
                results.withLock { $0.append(result) }
            }
        }
        let names = try results.withLock { list in try list.map { try $0.get() } }
        #expect(names.count == 200)
        #expect(Set(names).count == 200)
        #expect(entries(root + "/new").count == 200)
        #expect(entries(root + "/tmp").isEmpty)
    }

    @Test("a 20 MB spool is copied intact without holding it in memory")
    func largeSpool() throws {
        let temporary = try TemporaryDirectory()
        let spoolPath = temporary.path + "/big-spool"
        let size = 20 * 1024 * 1024
        var expectedHash = FNV1a()
        expectedHash.add(prefix)
        var lineFeeds = 0
        do {
            let fd = open(spoolPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            #expect(fd >= 0)
            defer { close(fd) }
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            var written = 0
            while written < size {
                for index in chunk.indices {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let byte = UInt8(truncatingIfNeeded: state >> 56)
                    chunk[index] = byte
                    if byte == 0x0A { lineFeeds += 1 }
                }
                expectedHash.add(chunk)
                let count = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                #expect(count == chunk.count)
                written += count
            }
        }
        let spool = try SpoolFile(path: spoolPath, size: size, lineFeeds: lineFeeds)
        let before = maximumResidentKilobytes()
        let stored = try writer.store(spool.message, headerPrefix: prefix, into: inbox(temporary.path + "/Maildir"))
        let growth = maximumResidentKilobytes() - before
        #expect(growth < 8 * 1024, "peak memory grew by \(growth) KiB")

        #expect(stored.size == size + prefix.count)
        #expect(stored.virtualSize == size + prefix.count + lineFeeds + 1)
        #expect(try fileStatus(stored.path).st_size == off_t(size + prefix.count))
        var storedHash = FNV1a()
        let fd = open(stored.path, O_RDONLY | O_CLOEXEC)
        #expect(fd >= 0)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            storedHash.add(buffer[0..<count])
        }
        #expect(storedHash.value == expectedHash.value)
    }
}

/// 64-bit FNV-1a, enough to compare two byte streams.
struct FNV1a {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01B3
        }
    }
}

func maximumResidentKilobytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss
}
