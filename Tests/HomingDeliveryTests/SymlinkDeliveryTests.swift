import Foundation
import Glibc
import HomingConfig
import HomingTestSupport
import HomingUserdb
import Testing

@testable import HomingDelivery

/// Every file below `path` with its content (directories end with `/`), to show that nothing
/// was written there.
func treeSnapshot(_ path: String) -> [String: String] {
    var result: [String: String] = [:]
    guard let walker = FileManager.default.enumerator(atPath: path) else { return result }
    while let relative = walker.nextObject() as? String {
        let full = path + "/" + relative
        var info = stat()
        guard lstat(full, &info) == 0 else { continue }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            result[relative + "/"] = ""
        } else {
            result[relative] = (try? String(contentsOfFile: full, encoding: .utf8)) ?? "<\(info.st_size) bytes>"
        }
    }
    return result
}

@Suite("Delivery never writes through a symlink below the home")
struct SymlinkDeliveryTests {
    let message = "Message-ID: <link@example.org>\r\nSubject: link\r\n\r\nbody\r\n"

    /// A harness whose alice has a complete Maildir with a `.lists` folder, and a victim
    /// maildir elsewhere (another user's, say) that links will point to.
    func setUp() throws -> (DeliveryHarness, LocalDelivery, home: String, victim: String) {
        let harness = try DeliveryHarness { $0.lmtpSaveToDetailMailbox = true }
        let home = harness.scratch.path + "/alice@example.com"
        let victim = harness.scratch.path + "/victim/Maildir"
        for directory in [home + "/Maildir", home + "/Maildir/.lists", victim] {
            for sub in ["cur", "new", "tmp"] {
                try FileManager.default.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
            }
        }
        try "victim's\n".write(toFile: victim + "/maildirsize", atomically: false, encoding: .utf8)
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")])
        return (harness, delivery, home, victim)
    }

    func replaceWithLink(_ path: String, to target: String) throws {
        try FileManager.default.removeItem(atPath: path)
        #expect(symlink(target, path) == 0)
    }

    @Test(
        "a link at Maildir, new, tmp, cur or a folder: deferred (4xx), nothing written through it",
        arguments: [
            ("Maildir", ""), ("Maildir/new", "/new"), ("Maildir/tmp", "/tmp"), ("Maildir/cur", "/cur"),
            ("Maildir/.lists", ""),
        ])
    func linkBelowTheHome(level: String, targetSub: String) async throws {
        let (harness, delivery, home, victim) = try setUp()
        defer { harness.scratch.remove() }
        try replaceWithLink(home + "/" + level, to: victim + targetSub)
        let before = treeSnapshot(victim)
        let address = level.hasSuffix(".lists") ? "alice+lists@example.com" : "alice@example.com"
        let (verdicts, outcomes) = try await harness.run(delivery, message: message, to: [address])
        guard case .accepted = verdicts.first else { Issue.record("not accepted: \(verdicts)"); return }
        #expect(outcomes == [.failed(.deferred(.internalError))])
        #expect(treeSnapshot(victim) == before)
        #expect(harness.logs.lines.contains { $0.message.contains("symlink not allowed: \(home)/\(level)") }, "\(harness.logs.lines)")
    }

    @Test("the home itself, and the way to it, may be links: delivered")
    func linkedHome() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let real = harness.scratch.path + "/real-home"
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: true)
        #expect(symlink(real, harness.scratch.path + "/alice@example.com") == 0)
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")])
        let (_, outcomes) = try await harness.run(delivery, message: message, to: ["alice@example.com"])
        #expect(outcomes == [.stored(mailboxes: ["INBOX"])])
        #expect(try FileManager.default.contentsOfDirectory(atPath: real + "/Maildir/new").count == 1)
    }
}

@Suite("Delivery cleans tmp/ as Dovecot does")
struct TmpCleanupDeliveryTests {
    @Test("a delivery to a maildir whose tmp/ was last scanned longer ago than mail_temp_scan_interval scans it")
    func deliveryScansTmp() async throws {
        let harness = try DeliveryHarness { $0.mailTempScanInterval = 8 * 3600 }
        defer { harness.scratch.remove() }
        let maildir = harness.scratch.path + "/alice@example.com/Maildir"
        for sub in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(atPath: maildir + "/" + sub, withIntermediateDirectories: true)
        }
        try "recent".write(toFile: maildir + "/tmp/recent", atomically: false, encoding: .utf8)
        // Last scanned nine hours ago.
        let started = time(nil)
        var times = [timespec(tv_sec: started - 9 * 3600, tv_nsec: 0), timespec(tv_sec: started, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, maildir + "/tmp", &times, 0) == 0)
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")])
        let (_, outcomes) = try await harness.run(delivery, message: "Subject: x\r\n\r\nx\r\n", to: ["alice@example.com"])
        #expect(outcomes == [.stored(mailboxes: ["INBOX"])])
        var info = stat()
        #expect(stat(maildir + "/tmp", &info) == 0)
        #expect(info.st_atim.tv_sec >= started, "tmp/ was not scanned")
        #expect(FileManager.default.fileExists(atPath: maildir + "/tmp/recent"))
        #expect(harness.logs.lines.contains {
            $0.message == "maildir: tmp cleanup: \(maildir)/tmp: nothing older than 36 hours to remove"
        }, "\(harness.logs.lines)")
    }
}
