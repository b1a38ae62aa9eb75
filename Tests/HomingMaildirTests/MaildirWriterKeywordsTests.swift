import Foundation
import Glibc
import Testing
@testable import HomingMaildir
import HomingTestSupport

/// What the writer stores besides the message: keyword letters with the folder's
/// `dovecot-keywords`, the `subscriptions` file for a folder it creates, and an edited header.
@Suite("storing keywords, subscriptions and edited headers")
struct MaildirWriterKeywordsTests {
    let body = Array("Subject: test\nX-Remove: yes\n\nHello\n".utf8)

    func folder(_ root: String, _ name: String, flags: String = "", keywords: [String] = [], create: Bool = true)
        throws -> MaildirDestination
    {
        let mailbox = try MailLocation.parse("maildir:" + root, home: nil).mailbox(named: name)
        var destination = MaildirDestination(mailbox: mailbox, createIfMissing: create, flags: flags, identity: nil)
        destination.keywords = keywords
        return destination
    }

    @Test("keywords get letters from dovecot-keywords as Dovecot assigns them: :2,Sab, then known ones are reused")
    func keywordLetters() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let root = temporary.path + "/Maildir"
        let first = try MaildirWriter().store(
            spool.message, headerPrefix: [], into: folder(root, "INBOX", flags: "S", keywords: ["$Label1", "Work"]))
        #expect(first.inCur && first.fileName.hasSuffix(",S=35,W=39:2,Sab"), "\(first.fileName)")
        #expect(first.problems.isEmpty)
        #expect(String(decoding: try contents(root + "/dovecot-keywords"), as: UTF8.self) == "0 $Label1\n1 Work\n")
        #expect(try permissions(root + "/dovecot-keywords") == 0o600)

        let second = try MaildirWriter().store(spool.message, headerPrefix: [], into: folder(root, "INBOX", keywords: ["work", "Later"]))
        #expect(second.fileName.hasSuffix(":2,bc"), "\(second.fileName)")
        #expect(String(decoding: try contents(root + "/dovecot-keywords"), as: UTF8.self) == "0 $Label1\n1 Work\n2 Later\n")
        // Each folder has its own table; no lock is left behind.
        let lists = try MaildirWriter().store(spool.message, headerPrefix: [], into: folder(root, "Lists", keywords: ["Later"]))
        #expect(lists.fileName.hasSuffix(":2,a"))
        #expect(String(decoding: try contents(root + "/.Lists/dovecot-keywords"), as: UTF8.self) == "0 Later\n")
        #expect(entries(root).filter { $0.hasSuffix(".lock") }.isEmpty)
        #expect(entries(root + "/.Lists").filter { $0.hasSuffix(".lock") }.isEmpty)
    }

    @Test("concurrent stores with different keywords into one folder: every keyword gets its own letter, each file names its own")
    func concurrentKeywords() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let root = temporary.path + "/Maildir"
        _ = try MaildirWriter().store(spool.message, headerPrefix: [], into: folder(root, "INBOX"))
        let message = spool.message
        let destinations = try (0..<8).map { try folder(root, "INBOX", keywords: ["k\($0)"]) }
        let names = Locked<[Int: String]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            if let stored = try? MaildirWriter().store(message, headerPrefix: [], into: destinations[index]) {
                names.withValue { $0[index] = stored.fileName }
            }
        }
        let table = MaildirKeywordTable(parsing: try contents(root + "/dovecot-keywords"))
        #expect(table.names.count == 8)
        for (index, name) in names.current {
            let letterIndex = try #require(table.index(of: "k\(index)"))
            #expect(name.hasSuffix(":2,\(MaildirKeywordTable.letter(letterIndex))"), "\(name)")
        }
        #expect(names.current.count == 8)
        #expect(entries(root).filter { $0.hasSuffix(".lock") }.isEmpty)
    }

    @Test("a dovecot-uidlist.lock left by a process that is gone is overridden; one held by a live process makes the keywords wait, then the message is stored without them")
    func uidlistLock() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let root = temporary.path + "/Maildir"
        for directory in [root, root + "/cur", root + "/new", root + "/tmp"] { try makeDirectory(directory) }
        // A PID that does not run: a child that has exited and been reaped.
        let child = fork()
        if child == 0 { _exit(0) }
        var status: Int32 = 0
        waitpid(child, &status, 0)
        let lock = root + "/dovecot-uidlist.lock"
        try "\(child):\(MaildirDotLock.hostName)".write(toFile: lock, atomically: false, encoding: .utf8)
        var old = [timespec(tv_sec: time(nil) - 10, tv_nsec: 0), timespec(tv_sec: time(nil) - 10, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, lock, &old, 0)
        let stored = try MaildirWriter().store(spool.message, headerPrefix: [], into: folder(root, "INBOX", keywords: ["Work"]))
        #expect(stored.fileName.hasSuffix(":2,a") && stored.problems.isEmpty, "\(stored)")
        #expect(!exists(lock))

        // PID 1 is alive: the lock is held.
        try "1:\(MaildirDotLock.hostName)".write(toFile: lock, atomically: false, encoding: .utf8)
        var writer = MaildirWriter()
        writer.keywordLockTiming = MaildirDotLock.Timing(timeout: 0.3, staleAfter: 120)
        let waited = try writer.store(spool.message, headerPrefix: [], into: folder(root, "INBOX", flags: "S", keywords: ["Later"]))
        #expect(waited.fileName.hasSuffix(":2,S"), "\(waited.fileName)")
        #expect(waited.problems == ["keywords not stored (Later): timeout waiting for the lock \(root)/dovecot-uidlist.lock"])
        #expect(exists(lock), "someone else's lock is left alone")
        #expect(String(decoding: try contents(root + "/dovecot-keywords"), as: UTF8.self) == "0 Work\n")
    }

    @Test("a symlink named dovecot-keywords is not followed: the message is stored without keyword letters")
    func symlinkedKeywordsFile() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let root = temporary.path + "/Maildir"
        for directory in [root, root + "/cur", root + "/new", root + "/tmp"] { try makeDirectory(directory) }
        let target = temporary.path + "/elsewhere"
        try "0 Secret\n".write(toFile: target, atomically: false, encoding: .utf8)
        try makeSymlink(target, at: root + "/dovecot-keywords")
        let stored = try MaildirWriter().store(spool.message, headerPrefix: [], into: folder(root, "INBOX", keywords: ["Work"]))
        #expect(stored.fileName.hasSuffix(":2,"), "\(stored.fileName)")
        #expect(stored.problems.first?.contains("symlink not allowed: \(root)/dovecot-keywords") == true, "\(stored.problems)")
        #expect(String(decoding: try contents(target), as: UTF8.self) == "0 Secret\n")
        #expect(!exists(root + "/dovecot-uidlist.lock"))
    }

    @Test("a folder the store creates is added to the subscriptions file at the mail root; an existing folder is not")
    func subscriptions() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let root = temporary.path + "/Maildir"
        func subscribed(_ name: String) throws -> MaildirDestination {
            var destination = try folder(root, name)
            destination.subscribeIfCreated = try MailLocation.parse("maildir:" + root, home: nil).mailbox(named: name).subscription
            return destination
        }
        _ = try MaildirWriter().store(spool.message, headerPrefix: [], into: subscribed("INBOX"))
        #expect(!exists(root + "/subscriptions"))
        _ = try MaildirWriter().store(spool.message, headerPrefix: [], into: subscribed("Junk"))
        _ = try MaildirWriter().store(spool.message, headerPrefix: [], into: subscribed("Lists.Other"))
        _ = try MaildirWriter().store(spool.message, headerPrefix: [], into: subscribed("Zäh"))
        // The user unsubscribes Junk in their IMAP client; the next delivery into it does not resubscribe.
        try "V\t2\n\nLists\tOther\nZ&AOQ-h\n".write(toFile: root + "/subscriptions", atomically: false, encoding: .utf8)
        _ = try MaildirWriter().store(spool.message, headerPrefix: [], into: subscribed("Junk"))
        #expect(String(decoding: try contents(root + "/subscriptions"), as: UTF8.self) == "V\t2\n\nLists\tOther\nZ&AOQ-h\n")
        _ = try MaildirWriter().store(spool.message, headerPrefix: [], into: subscribed("Archive/2024"))
        #expect(
            String(decoding: try contents(root + "/subscriptions"), as: UTF8.self)
                == "V\t2\n\nLists\tOther\nZ&AOQ-h\nArchive\t2024\n")
        #expect(!exists(root + "/subscriptions.lock"))
    }

    @Test("LAYOUT=fs folders are subscribed by their levels as well")
    func fsLayout() throws {
        let location = try MailLocation.parse("maildir:/srv/mail/alice:LAYOUT=fs", home: nil)
        #expect(try location.mailbox(named: "Lists/Other").subscription == MailboxSubscription(levels: ["Lists", "Other"], separator: "/", root: "/srv/mail/alice"))
        #expect(try location.mailbox(named: "INBOX").subscription == nil)
    }

    @Test("an edited header replaces the spool's: prefix, new header, then the body; S= and W= count what is written")
    func headerReplacement() throws {
        let temporary = try TemporaryDirectory()
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let root = temporary.path + "/Maildir"
        let prefix = Array("Return-Path: <a@b>\n".utf8)
        let header = Array("X-Added: yes\nSubject: test\n\n".utf8)
        let replacement = HeaderReplacement(header: header, bodyOffset: 29, messageStart: Array(body[0..<29]))
        #expect(replacement.replacedLineFeeds == 3)
        let sizes = MaildirWriter.sizes(of: spool.message, headerPrefix: prefix, replacing: replacement)
        let stored = try MaildirWriter().store(spool.message, headerPrefix: prefix, replacingHeader: replacement, into: folder(root, "INBOX"))
        let written = try contents(stored.path)
        #expect(written == prefix + header + Array("Hello\n".utf8))
        #expect(stored.size == written.count && sizes.size == written.count)
        #expect(stored.virtualSize == written.count + written.filter { $0 == 0x0A }.count)
        #expect(sizes.virtualSize == stored.virtualSize)
        #expect(stored.baseName.hasSuffix(",S=\(written.count),W=\(stored.virtualSize)"))
        let outside = HeaderReplacement(header: header, bodyOffset: body.count + 1, replacedLineFeeds: 0)
        #expect(throws: MaildirError.self) {
            try MaildirWriter().store(spool.message, headerPrefix: prefix, replacingHeader: outside, into: folder(root, "INBOX"))
        }
    }
}
