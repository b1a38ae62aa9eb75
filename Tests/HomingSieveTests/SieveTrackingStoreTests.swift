import Foundation
import HomingTestSupport
import Testing

@testable import HomingSieve

#if canImport(Glibc)
    import Glibc
#endif

/// A unique temporary directory for one test, removed afterwards.
private func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
    let directory = try ScratchDirectory("sieve-tracking")
    defer { directory.remove() }
    try body(directory.path)
}

/// Collects the problems a store reports.
private final class Reports: Sendable {
    // Mutex-protected list; the store calls `append` from the test's own thread.
    private let storage = Locked<[String]>([])
    func append(_ line: String) { storage.append(line) }
    var lines: [String] { storage.current }
}

@Suite("Sieve tracking store")
struct SieveTrackingStoreTests {
    @Test("SHA-256 gives the FIPS 180-4 test vectors")
    func sha256Vectors() {
        #expect(
            SieveTrackingStoreDigest.sha256Hex("")
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SieveTrackingStoreDigest.sha256Hex("abc")
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SieveTrackingStoreDigest.sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SieveTrackingStoreDigest.sha256Hex(String(repeating: "a", count: 1000))
                == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test("a key is contained from recording until its period ends, then no longer")
    func recordAndExpire() throws {
        try withTemporaryDirectory { (directory: String) throws in
            let store = SieveTrackingStore(home: directory)
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            #expect(try store.contains(key: "k", now: now) == false)
            try store.record(key: "k", period: 60, now: now)
            #expect(try store.contains(key: "k", now: now) == true)
            #expect(try store.contains(key: "k", now: now.addingTimeInterval(59)) == true)
            #expect(try store.contains(key: "k", now: now.addingTimeInterval(60)) == false)
            #expect(try store.contains(key: "other", now: now) == false)
        }
    }

    @Test("the file holds the magic line and hashed keys with their expiry, never the key")
    func fileFormat() throws {
        try withTemporaryDirectory { (directory: String) throws in
            let store = SieveTrackingStore(home: directory)
            try store.record(key: "abc", period: 100, now: Date(timeIntervalSince1970: 1_000))
            let text = try String(contentsOfFile: directory + "/.homing.sieve-tracking", encoding: .utf8)
            #expect(
                text
                    == "homing-sieve-tracking 1\n"
                    + "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 1100\n")
            var status = stat()
            #expect(stat(directory + "/.homing.sieve-tracking", &status) == 0)
            #expect(status.st_mode & 0o777 == 0o600)
        }
    }

    @Test("expired entries are pruned when another key is recorded")
    func pruning() throws {
        try withTemporaryDirectory { (directory: String) throws in
            let store = SieveTrackingStore(home: directory)
            try store.record(key: "old", period: 10, now: Date(timeIntervalSince1970: 1_000))
            try store.record(key: "new", period: 10, now: Date(timeIntervalSince1970: 2_000))
            let text = try String(contentsOfFile: store.path, encoding: .utf8)
            #expect(text == "homing-sieve-tracking 1\n\(SieveTrackingStore.digest("new")) 2010\n")
        }
    }

    @Test("recording again keeps the later expiry")
    func laterExpiryWins() throws {
        try withTemporaryDirectory { (directory: String) throws in
            let store = SieveTrackingStore(home: directory)
            let now = Date(timeIntervalSince1970: 1_000)
            try store.record(key: "k", period: 500, now: now)
            try store.record(key: "k", period: 100, now: now)
            #expect(try store.contains(key: "k", now: Date(timeIntervalSince1970: 1_400)))
        }
    }

    @Test("duplicate marks are all recorded in one write")
    func duplicateMarks() throws {
        try withTemporaryDirectory { (directory: String) throws in
            let store = SieveTrackingStore(home: directory)
            let now = Date(timeIntervalSince1970: 5_000)
            try store.record([SieveDuplicateMark(key: "a", period: 10), SieveDuplicateMark(key: "b", period: 20)], now: now)
            #expect(try store.contains(key: "a", now: now.addingTimeInterval(9)))
            #expect(try store.contains(key: "a", now: now.addingTimeInterval(10)) == false)
            #expect(try store.contains(key: "b", now: now.addingTimeInterval(19)))
        }
    }

    @Test("a file of another format is treated as empty, reported, and replaced on the next write")
    func foreignFile() throws {
        try withTemporaryDirectory { (directory: String) throws in
            let path = directory + "/.homing.sieve-tracking"
            try Data([0, 1, 2, 0xff, 10]).write(to: URL(fileURLWithPath: path))
            let reports = Reports()
            let store = SieveTrackingStore(path: path, report: { reports.append($0) })
            let now = Date(timeIntervalSince1970: 1_000)
            #expect(try store.contains(key: "k", now: now) == false)
            #expect(
                reports.lines == [
                    "\(path): not a Homing Sieve tracking file (first line is not 'homing-sieve-tracking 1'); treating it as empty"
                ])
            try store.record(key: "k", period: 10, now: now)
            #expect(try store.contains(key: "k", now: now))
            #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("homing-sieve-tracking 1\n"))
        }
    }

    @Test("malformed lines are skipped and counted, good lines kept")
    func damagedLines() {
        let good = String(repeating: "a", count: 64)
        let text = "homing-sieve-tracking 1\n\(good) 2000\ngarbage\n\(good.dropLast()) 5\n\(String(repeating: "b", count: 64)) x\n"
        let parsed = SieveTrackingStoreFile.parse(Array(text.utf8))
        #expect(parsed.file.entries == [good: 2000])
        #expect(parsed.problem == "ignored 3 malformed lines (the file is damaged)")
    }

    @Test("an empty file and a file without a final line end parse cleanly")
    func edgeFiles() {
        #expect(SieveTrackingStoreFile.parse([]) == .init(file: SieveTrackingStoreFile(), problem: nil))
        let good = String(repeating: "c", count: 64)
        let parsed = SieveTrackingStoreFile.parse(Array("homing-sieve-tracking 1\n\(good) 7".utf8))
        #expect(parsed == .init(file: SieveTrackingStoreFile(entries: [good: 7]), problem: nil))
    }

    @Test("at most maxEntries entries are kept, dropping those expiring first")
    func entryLimit() throws {
        try withTemporaryDirectory { (directory: String) throws in
            let store = SieveTrackingStore(path: directory + "/t", maxEntries: 2)
            let now = Date(timeIntervalSince1970: 0)
            try store.record([("a", 30), ("b", 10), ("c", 20)], now: now)
            #expect(try store.contains(key: "a", now: now))
            #expect(try store.contains(key: "b", now: now) == false)
            #expect(try store.contains(key: "c", now: now))
        }
    }

    @Test("concurrent writers lose no entry")
    func concurrentWriters() async throws {
        let directory = NSTemporaryDirectory() + "sieve-tracking-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/t"
        let now = Date(timeIntervalSince1970: 1_000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    try SieveTrackingStore(path: path).record(key: "key\(index)", period: 100, now: now)
                }
            }
            try await group.waitForAll()
        }
        let store = SieveTrackingStore(path: path)
        for index in 0..<40 {
            #expect(try store.contains(key: "key\(index)", now: now))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(leftovers == ["t", "t.lock"])
    }

    @Test("a tracking path that cannot be written gives an error naming the file")
    func unwritable() throws {
        try withTemporaryDirectory { (directory: String) throws in
            let store = SieveTrackingStore(path: directory + "/missing/t")
            #expect(try store.contains(key: "k", now: Date()) == false)
            #expect(throws: SieveTrackingError(path: directory + "/missing/t.lock", "cannot open lock file: No such file or directory")) {
                try store.record(key: "k", period: 1, now: Date())
            }
        }
    }

    @Test("a lock held by another process past the lock timeout is an error that says to try again")
    func lockedTooLong() throws {
        try withTemporaryDirectory { (directory: String) throws in
            let held = open(directory + "/t.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            #expect(held >= 0)
            defer { close(held) }
            // A second open file description: flock(2) conflicts between the two.
            #expect(flock(held, LOCK_EX) == 0)
            let store = SieveTrackingStore(path: directory + "/t", lockTimeout: .milliseconds(300))
            let error = SieveTrackingError(
                path: directory + "/t.lock", "still locked by another delivery after 0.3 seconds; try again later")
            #expect(throws: error) { try store.record(key: "k", period: 1, now: Date()) }
            flock(held, LOCK_UN)
            try store.record(key: "k", period: 100, now: Date())
            #expect(try store.contains(key: "k", now: Date()))
        }
    }

    @Test("a directory in place of the file is an error, not a crash")
    func directoryInstead() throws {
        try withTemporaryDirectory { (directory: String) throws in
            try FileManager.default.createDirectory(atPath: directory + "/t", withIntermediateDirectories: false)
            let store = SieveTrackingStore(path: directory + "/t")
            #expect(throws: SieveTrackingError(path: directory + "/t", "not a regular file")) {
                try store.contains(key: "k", now: Date())
            }
        }
    }
}
