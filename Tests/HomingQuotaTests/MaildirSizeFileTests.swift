import Foundation
import HomingTestSupport
import Synchronization
import Testing
@testable import HomingQuota

/// Runs `body` on `count` threads at once (the thread's number as argument) and returns the
/// errors they threw, as text; a thread stops at its first error.
private func errorsOnThreads(_ count: Int, _ body: @Sendable (Int) throws -> Void) -> [String] {
    let failures = Locked<[String]>([])
    DispatchQueue.concurrentPerform(iterations: count) { thread in
        do {
            try body(thread)
        } catch {
            failures.append("\(error)")
        }
    }
    return failures.current
}

@Suite("maildirsize file")
struct MaildirSizeFileTests {
    @Test("read returns nil for a missing file and the sums for an existing one")
    func read() throws {
        let maildir = try TemporaryMaildir()
        let file = MaildirSizeFile(maildir: maildir.path)
        #expect(try file.read() == nil)
        try maildir.write("1048576S\n0 0\n444 1\n", to: "maildirsize")
        #expect(try file.read()?.usage == QuotaUsage(bytes: 444, messages: 1))
    }

    @Test("append adds one line, and reports a missing file without creating it")
    func append() throws {
        let maildir = try TemporaryMaildir()
        let file = MaildirSizeFile(maildir: maildir.path)
        #expect(try file.append(bytes: 10, messages: 1) == .missing)
        #expect(try file.read() == nil)
        try maildir.write("1048576S\n0 0\n", to: "maildirsize")
        #expect(try file.append(bytes: 444, messages: 1) == .appended)
        #expect(try file.append(bytes: -444, messages: -1) == .appended)
        #expect(try maildir.read("maildirsize") == "1048576S\n0 0\n444 1\n-444 -1\n")
    }

    @Test("recalculation scans cur/ and new/ of INBOX and every folder, S= first, else the file size")
    func recalculate() throws {
        let maildir = try TemporaryMaildir()
        try maildir.makeFolder("Trash")
        try maildir.makeFolder("Lists.Work")
        try maildir.addMessage(name: "1.M1P1.h,S=100:2,", size: 7)
        try maildir.addMessage(sub: "cur", name: "2.M1P1.h:2,S", size: 250)
        try maildir.addMessage(folder: "Trash", sub: "cur", name: "3.M1P1.h,S=1000:2,S", size: 1)
        try maildir.addMessage(folder: "Lists.Work", name: "4.M1P1.h,S=5", size: 5)
        try maildir.addMessage(sub: "tmp", name: "5.M1P1.h,S=99999", size: 1)
        let file = MaildirSizeFile(maildir: maildir.path)
        let contents = try file.recalculate(limits: QuotaLimits(bytes: 1_048_576, messages: 0))
        #expect(contents.usage == QuotaUsage(bytes: 1355, messages: 4))
        #expect(try maildir.read("maildirsize") == "1048576S\n1355 4\n")
        let withoutTrash = try file.recalculate(limits: QuotaLimits(bytes: 1_048_576, messages: 0)) { $0 != "Trash" }
        #expect(withoutTrash.usage == QuotaUsage(bytes: 355, messages: 3))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: maildir.path + "/tmp")
        #expect(leftovers == ["5.M1P1.h,S=99999"])
    }

    @Test("a file past 5120 bytes, with other limits, invalid or missing is recalculated")
    func recalculationTriggers() throws {
        let maildir = try TemporaryMaildir()
        try maildir.addMessage(name: "1.M1P1.h,S=300", size: 300)
        let file = MaildirSizeFile(maildir: maildir.path)
        let limits = QuotaLimits(bytes: 1_048_576, messages: 0)

        #expect(try file.currentContents(configured: limits).usage == QuotaUsage(bytes: 300, messages: 1))
        #expect(try maildir.read("maildirsize") == "1048576S\n300 1\n")

        // Up to date and small: used as it is, even though it disagrees with the disk.
        try maildir.write("1048576S\n7 1\n", to: "maildirsize")
        #expect(try file.currentContents(configured: limits).usage == QuotaUsage(bytes: 7, messages: 1))

        // Other limits: recalculated with the configured ones.
        #expect(try file.currentContents(configured: QuotaLimits(bytes: 2048, messages: 5)).usage == QuotaUsage(bytes: 300, messages: 1))
        #expect(try maildir.read("maildirsize") == "2048S,5C\n300 1\n")

        // Too large: 1300 lines of "0 0\n" make 5209 bytes, past 5120.
        var big = "2048S,5C\n"
        for _ in 0..<1300 { big += "0 0\n" }
        #expect(big.utf8.count == 5209)
        try maildir.write(big, to: "maildirsize")
        #expect(MaildirSizeFile.needsRecalculation(contents: try file.read(), fileSize: big.utf8.count,
                                                   configured: QuotaLimits(bytes: 2048, messages: 5)))
        #expect(try file.currentContents(configured: QuotaLimits(bytes: 2048, messages: 5)).usageLineCount == 1)

        // Invalid content.
        try maildir.write("2048S,5C\nnonsense\n", to: "maildirsize")
        #expect(try file.currentContents(configured: QuotaLimits(bytes: 2048, messages: 5)).usage == QuotaUsage(bytes: 300, messages: 1))

        // `?` rule: the file's own limits are kept.
        try maildir.write("4096S\n300 1\n", to: "maildirsize")
        #expect(try file.currentContents(configured: nil).limits == QuotaLimits(bytes: 4096, messages: 0))
    }

    @Test("a line another writer appends to the old file during the scan is carried over")
    func concurrentForeignWriter() throws {
        let maildir = try TemporaryMaildir()
        try maildir.addMessage(name: "1.M1P1.h,S=300", size: 300)
        try maildir.write("1048576S\n300 1\n", to: "maildirsize")
        let file = MaildirSizeFile(maildir: maildir.path)
        let path = maildir.path + "/maildirsize"
        let contents = try file.recalculate(limits: QuotaLimits(bytes: 1_048_576, messages: 0), force: true,
                                            isCounted: { _ in true }) {
            // Another process (not taking Homing's lock) delivers a message and appends its line.
            guard let handle = FileHandle(forWritingAtPath: path) else { return }
            handle.seekToEndOfFile()
            handle.write(Data("500 1\n".utf8))
            handle.closeFile()
        }
        #expect(contents.usage == QuotaUsage(bytes: 800, messages: 2))
        #expect(try maildir.read("maildirsize") == "1048576S\n300 1\n500 1\n")
    }

    @Test("20 threads appending at once give the exact total")
    func concurrentAppenders() async throws {
        let maildir = try TemporaryMaildir()
        try maildir.write("0S\n0 0\n", to: "maildirsize")
        let file = MaildirSizeFile(maildir: maildir.path)
        let perThread = 50
        let failures = errorsOnThreads(20) { thread in
            for index in 0..<perThread {
                _ = try file.append(bytes: Int64(thread * 1000 + index), messages: 1)
            }
        }
        #expect(failures.isEmpty)
        let expectedBytes = (0..<20).reduce(Int64(0)) { sum, thread in
            sum + (0..<perThread).reduce(Int64(0)) { $0 + Int64(thread * 1000 + $1) }
        }
        let contents = try #require(try file.read())
        #expect(contents.isValid)
        #expect(contents.usage == QuotaUsage(bytes: expectedBytes, messages: 1000))
        #expect(contents.usageLineCount == 1001)
    }

    @Test("deliveries and recalculations running together end with the count on disk")
    func deliveriesWithRecalculations() throws {
        let maildir = try TemporaryMaildir()
        let file = MaildirSizeFile(maildir: maildir.path)
        let limits = QuotaLimits(bytes: 1 << 30, messages: 0)
        try file.recalculate(limits: limits)
        let failures = errorsOnThreads(20) { thread in
            for index in 0..<10 {
                let size = 100 + thread * 10 + index
                let result = try file.update {
                    try maildir.addMessage(name: "\(thread).\(index).h,S=\(size)", size: size)
                    return QuotaUsage(bytes: Int64(size), messages: 1)
                }
                if result == .missing { try file.recalculate(limits: limits) }
                if index == 5 { try file.recalculate(limits: limits) }
            }
        }
        #expect(failures.isEmpty)
        let onDisk = try MaildirUsageScanner(maildir: maildir.path).scan()
        #expect(onDisk.messages == 200)
        #expect(try file.read()?.usage == onDisk)
    }

    @Test("checked updates from 20 threads stop exactly at the limit")
    func checkedUpdatesStopAtLimit() throws {
        let maildir = try TemporaryMaildir()
        let file = MaildirSizeFile(maildir: maildir.path)
        let config = try QuotaConfiguration(plugin: ["quota_rule": "*:bytes=1000", "quota_grace": "0"])
        let limits = config.rules.userLimits
        let failures = errorsOnThreads(20) { thread in
            _ = try file.updateChecked(configured: limits) { contents in
                guard config.decide(messageSize: 100, usage: contents.usage).isAllowed else { return nil }
                try maildir.addMessage(name: "\(thread).h,S=100", size: 100)
                return QuotaUsage(bytes: 100, messages: 1)
            }
        }
        #expect(failures.isEmpty)
        #expect(try MaildirUsageScanner(maildir: maildir.path).scan() == QuotaUsage(bytes: 1000, messages: 10))
        #expect(try file.read()?.usage == QuotaUsage(bytes: 1000, messages: 10))
    }

    @Test("reserved deliveries from 20 threads stop exactly at the limit, and maildirsize equals the files")
    func reservedDeliveriesStopAtLimit() throws {
        let maildir = try TemporaryMaildir()
        let file = MaildirSizeFile(maildir: maildir.path, lockTimeout: 30)
        let config = try QuotaConfiguration(plugin: ["quota_rule": "*:bytes=1000", "quota_grace": "0"])
        let limits = config.rules.userLimits
        // An atomic: ThreadSanitizer does not see Synchronization.Mutex (Locked) on Linux.
        let refused = Atomic<Int>(0)
        let failures = errorsOnThreads(20) { thread in
            try file.reserveAndStore(
                configured: limits,
                decide: { contents in
                    guard config.decide(messageSize: 100, usage: contents.usage).isAllowed else {
                        refused.add(1, ordering: .relaxed)
                        return .refuse
                    }
                    return .store(reserving: QuotaUsage(bytes: 100, messages: 1))
                },
                store: {
                    try maildir.addMessage(name: "\(thread).h,S=100", size: 100)
                    return QuotaUsage(bytes: 100, messages: 1)
                })
        }
        #expect(failures.isEmpty)
        #expect(refused.load(ordering: .relaxed) == 10)
        #expect(try MaildirUsageScanner(maildir: maildir.path).scan() == QuotaUsage(bytes: 1000, messages: 10))
        #expect(try file.read()?.usage == QuotaUsage(bytes: 1000, messages: 10))
    }

    @Test("a reserved delivery stores while another one is storing: the lock is not held over the write")
    func reservedDeliveriesOverlap() throws {
        let maildir = try TemporaryMaildir()
        let file = MaildirSizeFile(maildir: maildir.path, lockTimeout: 30)
        try file.recalculate(limits: QuotaLimits(bytes: 1 << 20, messages: 0))
        let firstIsStoring = DispatchSemaphore(value: 0)
        let secondIsStoring = DispatchSemaphore(value: 0)
        let outcomes = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            do {
                if thread == 1 {
                    // Only once the first is inside its store.
                    guard firstIsStoring.wait(timeout: .now() + 30) == .success else {
                        outcomes.append("the first delivery never started storing")
                        return
                    }
                }
                try file.reserveAndStore(
                    configured: nil,
                    decide: { _ in .store(reserving: QuotaUsage(bytes: 10, messages: 1)) },
                    store: {
                        if thread == 0 {
                            firstIsStoring.signal()
                            // The second delivery must get through its check while this one stores.
                            if secondIsStoring.wait(timeout: .now() + 30) == .success {
                                outcomes.append("overlapped")
                            } else {
                                outcomes.append("the second delivery waited for the first one's store")
                            }
                        } else {
                            secondIsStoring.signal()
                        }
                        try maildir.addMessage(name: "\(thread).h,S=10", size: 10)
                        return QuotaUsage(bytes: 10, messages: 1)
                    })
            } catch {
                outcomes.append("\(error)")
            }
        }
        #expect(outcomes.current == ["overlapped"])
        #expect(try file.read()?.usage == QuotaUsage(bytes: 20, messages: 2))
    }

    @Test("a failed store gives its reservation back, and a stored size other than the reserved one is corrected")
    func reservationsSettled() throws {
        let maildir = try TemporaryMaildir()
        let file = MaildirSizeFile(maildir: maildir.path, lockTimeout: 30)
        try file.recalculate(limits: QuotaLimits(bytes: 1 << 20, messages: 0))
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 20) { thread in
            do {
                try file.reserveAndStore(
                    configured: nil,
                    decide: { _ in .store(reserving: QuotaUsage(bytes: 100, messages: 1)) },
                    store: {
                        switch thread % 4 {
                        case 0: throw QuotaTestFailure("disk full")
                        case 1: return .zero  // nothing stored (a refusal further down the chain)
                        case 2:
                            try maildir.addMessage(name: "\(thread).h,S=130", size: 130)
                            return QuotaUsage(bytes: 130, messages: 1)
                        default:
                            try maildir.addMessage(name: "\(thread).h,S=100", size: 100)
                            return QuotaUsage(bytes: 100, messages: 1)
                        }
                    })
                if thread % 4 == 0 { failures.append("thread \(thread): the store's error was not passed on") }
            } catch {
                if thread % 4 != 0 { failures.append("thread \(thread): \(error)") }
            }
        }
        #expect(failures.current.isEmpty)
        let onDisk = try MaildirUsageScanner(maildir: maildir.path).scan()
        #expect(onDisk == QuotaUsage(bytes: 5 * 130 + 5 * 100, messages: 10))
        #expect(try file.read()?.usage == onDisk)
        // One line per stored copy of the reserved size, two for the others: 1 + 5 + 2 * 15.
        #expect(try file.read()?.usageLineCount == 1 + 5 + 2 * 15)
    }

    @Test("reserved deliveries past the file's size limit and explicit recalculations end with maildirsize equal to the files")
    func reservedDeliveriesWithRecalculations() throws {
        let maildir = try TemporaryMaildir()
        let file = MaildirSizeFile(maildir: maildir.path, lockTimeout: 60)
        let limits = QuotaLimits(bytes: 1 << 30, messages: 0)
        // 600 lines of about 10 bytes pass the 5,120-byte size that asks for a recalculation.
        let failures = errorsOnThreads(20) { thread in
            for index in 0..<30 {
                let size = 100 + thread * 10 + index
                try file.reserveAndStore(
                    configured: limits,
                    decide: { _ in .store(reserving: QuotaUsage(bytes: Int64(size), messages: 1)) },
                    store: {
                        try maildir.addMessage(name: "\(thread).\(index).h,S=\(size)", size: size)
                        return QuotaUsage(bytes: Int64(size), messages: 1)
                    })
                if thread == 0, index == 15 { try file.recalculate(limits: limits) }
            }
        }
        #expect(failures.isEmpty)
        let onDisk = try MaildirUsageScanner(maildir: maildir.path).scan()
        #expect(onDisk.messages == 600)
        #expect(try file.read()?.usage == onDisk)
        #expect(try maildir.read("maildirsize").utf8.count <= MaildirSizeFile.maximumSize + 1000)
    }

    @Test("an over-quota file older than 15 minutes is recalculated, a younger one is not")
    func staleOverQuota() {
        let over = MaildirSizeContents.parse(Array("1000S\n1000 3\n".utf8))
        let under = MaildirSizeContents.parse(Array("1000S\n999 3\n".utf8))
        let limits = QuotaLimits(bytes: 1000, messages: 0)
        #expect(MaildirSizeFile.needsRecalculation(contents: over, fileSize: 13, configured: limits, ageSeconds: 901))
        #expect(!MaildirSizeFile.needsRecalculation(contents: over, fileSize: 13, configured: limits, ageSeconds: 900))
        #expect(!MaildirSizeFile.needsRecalculation(contents: under, fileSize: 12, configured: limits, ageSeconds: 5000))
        #expect(MaildirSizeFile.needsRecalculation(contents: nil, fileSize: 0, configured: limits))
    }
}
