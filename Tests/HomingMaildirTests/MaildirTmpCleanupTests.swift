import Foundation
import Glibc
import HomingTestSupport
import Synchronization
import Testing

@testable import HomingMaildir

@Suite("tmp/ cleanup as Dovecot's maildir_check_tmp")
struct MaildirTmpCleanupTests {
    let hours = 3600
    let body = Array("Subject: t\n\nbody\n".utf8)

    @Test("the rule: scan when tmp/ was last scanned longer ago than the interval, not when it sat untouched for 36 hours")
    func rule() {
        let now = 1_000_000_000
        let week = 7 * 24 * hours
        // Last scanned (atime) 8 days ago, files created since (ctime 1 hour ago): due.
        #expect(MaildirTmpCleanup.isDue(accessTime: now - 8 * 24 * hours, changeTime: now - hours, now: now, scanInterval: week))
        // Scanned 2 days ago: not due with a week's interval, due with 8 hours.
        #expect(!MaildirTmpCleanup.isDue(accessTime: now - 48 * hours, changeTime: now - 50 * hours, now: now, scanInterval: week))
        #expect(MaildirTmpCleanup.isDue(accessTime: now - 48 * hours, changeTime: now - 50 * hours, now: now, scanInterval: 8 * hours))
        // Nothing changed for more than 36 hours after the last scan: empty, left alone.
        #expect(!MaildirTmpCleanup.isDue(accessTime: now - 9 * 24 * hours, changeTime: now - 11 * 24 * hours, now: now, scanInterval: week))
        // mail_temp_scan_interval = 0 disables it.
        #expect(!MaildirTmpCleanup.isDue(accessTime: 0, changeTime: 0, now: now, scanInterval: 0))
    }

    /// Creates a file and returns its change time (seconds).
    @discardableResult
    func makeFile(_ path: String, _ text: String = "x") throws -> Int {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return try Int(fileStatus(path).st_ctim.tv_sec)
    }

    /// Waits until the clock shows a second after `seconds` (the resolution the rule uses).
    func waitForTheNextSecond(after seconds: Int) async throws {
        while Int(time(nil)) <= seconds { try await Task.sleep(for: .milliseconds(50)) }
    }

    @Test("a delivery removes files in tmp/ older than 36 hours, keeps recent ones, and touches nothing outside tmp/")
    func removesOldFiles() async throws {
        let temporary = try TemporaryDirectory()
        let root = temporary.path + "/Maildir"
        for directory in [root, root + "/.lists"] {
            for sub in ["cur", "new", "tmp"] {
                try FileManager.default.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
            }
        }
        try makeFile(root + "/new/1000.M2P1.host,S=5,W=5", "mail")
        try makeFile(root + "/cur/1000.M3P1.host,S=5,W=5:2,S", "mail")
        try makeFile(root + "/maildirsize", "0S\n")
        try makeFile(root + "/.lists/tmp/1000.M4P1.crashed", "other folder")
        try makeFile(temporary.path + "/outside", "outside")
        try FileManager.default.createDirectory(atPath: root + "/tmp/a-directory", withIntermediateDirectories: false)
        let crashed = try makeFile(root + "/tmp/1000.M1P1.crashed", "half a message")
        #expect(symlink(temporary.path + "/outside", root + "/tmp/old-link") == 0)
        let oldChange = max(crashed, try Int(fileStatus(root + "/tmp/old-link").st_ctim.tv_sec))
        try await waitForTheNextSecond(after: oldChange)
        try makeFile(root + "/tmp/1001.M1P1.in-progress", "still being written")

        // 36 hours and a second after the old file was made: it and the link are old, the other is not.
        let now = oldChange + MaildirTmpCleanup.maximumAge + 1
        let reports = Mutex<[MaildirTmpCleanupReport]>([])
        let writer = MaildirWriter(reportTmpCleanup: { report in reports.withLock { $0.append(report) } })
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let destination = MaildirDestination(
            directory: root, trustedBase: temporary.path, createIfMissing: false, isInbox: true, identity: nil,
            tmpCleanup: MaildirTmpCleanup(scanInterval: 8 * hours, now: now))
        let stored = try writer.store(spool.message, headerPrefix: [], into: destination)

        let tmp = try FileManager.default.contentsOfDirectory(atPath: root + "/tmp").sorted()
        #expect(tmp == ["1001.M1P1.in-progress", "a-directory"])
        #expect(try String(contentsOfFile: temporary.path + "/outside", encoding: .utf8) == "outside")
        #expect(FileManager.default.fileExists(atPath: root + "/new/1000.M2P1.host,S=5,W=5"))
        #expect(FileManager.default.fileExists(atPath: root + "/cur/1000.M3P1.host,S=5,W=5:2,S"))
        #expect(FileManager.default.fileExists(atPath: root + "/maildirsize"))
        #expect(FileManager.default.fileExists(atPath: root + "/.lists/tmp/1000.M4P1.crashed"))
        #expect(FileManager.default.fileExists(atPath: root + "/new/" + stored.fileName))
        let report = reports.withLock { $0 }
        #expect(report.count == 1)
        #expect(report.first?.removed.sorted() == ["1000.M1P1.crashed", "old-link"])
        #expect(report.first?.problems == [])
        #expect(report.first?.description == "\(root)/tmp: removed 2 files older than 36 hours: 1000.M1P1.crashed, old-link")
        // The scan set tmp/'s access time to now, so a delivery within the interval does not scan again.
        #expect(try Int(fileStatus(root + "/tmp").st_atim.tv_sec) >= oldChange)
        var soon = destination
        soon.tmpCleanup = MaildirTmpCleanup(scanInterval: 8 * hours, now: Int(time(nil)) + hours)
        let again = try writer.store(spool.message, headerPrefix: [], into: soon)
        #expect(reports.withLock { $0.count } == 1)
        #expect(FileManager.default.fileExists(atPath: root + "/new/" + again.fileName))
    }

    @Test("not due, or untouched for 36 hours since the last scan: old files stay")
    func notDue() throws {
        let temporary = try TemporaryDirectory()
        let root = temporary.path + "/Maildir"
        for sub in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
        }
        let made = try makeFile(root + "/tmp/old")
        let spool = try SpoolFile(in: temporary.path, bytes: body)
        let reports = Mutex(0)
        let writer = MaildirWriter(reportTmpCleanup: { _ in reports.withLock { $0 += 1 } })
        let far = made + 100 * hours

        // Scanned "now" (atime fresh) with an interval longer than 100 hours: not due.
        let longInterval = MaildirDestination(
            directory: root, trustedBase: temporary.path, createIfMissing: false, isInbox: true, identity: nil,
            tmpCleanup: MaildirTmpCleanup(scanInterval: 200 * hours, now: far))
        _ = try writer.store(spool.message, headerPrefix: [], into: longInterval)
        // Disabled.
        let disabled = MaildirDestination(
            directory: root, trustedBase: temporary.path, createIfMissing: false, isInbox: true, identity: nil,
            tmpCleanup: MaildirTmpCleanup(scanInterval: 0, now: far))
        _ = try writer.store(spool.message, headerPrefix: [], into: disabled)
        // atime more than 36 hours past ctime: nothing was created since the last scan.
        var times = [timespec(tv_sec: time(nil) + 37 * 3600, tv_nsec: 0), timespec(tv_sec: time(nil), tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, root + "/tmp", &times, 0) == 0)
        let untouched = MaildirDestination(
            directory: root, trustedBase: temporary.path, createIfMissing: false, isInbox: true, identity: nil,
            tmpCleanup: MaildirTmpCleanup(scanInterval: 8 * hours, now: far))
        // Storing creates a file in tmp/ (changing its ctime) only after the check.
        _ = try writer.store(spool.message, headerPrefix: [], into: untouched)

        #expect(FileManager.default.fileExists(atPath: root + "/tmp/old"))
        #expect(reports.withLock { $0 } == 0)
    }
}
