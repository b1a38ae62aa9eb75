import Dispatch
import Foundation
import Glibc
import HomingFileSystem
import HomingTestSupport
import Synchronization
import Testing

/// Group commit of directory fsyncs: a caller returns only after an fsync that started after
/// its call succeeded, never on one that was already running or that failed.
@Suite("DirectorySyncGroup: shared directory fsyncs")
struct DirectorySyncGroupTests {
    /// What the counting fsync saw: how many changes had been made when each successful fsync
    /// started (the highest such number is what is durable).
    final class Ledger: Sendable {
        let changes = Atomic<Int>(0)
        let durableUpTo = Atomic<Int>(0)
        let calls = Atomic<Int>(0)
        let uncovered = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
    }

    /// An fsync that takes `pause` and fails with `failing` on the calls `failOn` names (1-based).
    static func countingFsync(_ ledger: Ledger, pause: useconds_t, failOn: Set<Int> = [], failing: Int32 = EIO)
        -> @Sendable (Int32) -> Int32
    {
        { descriptor in
            let call = ledger.calls.add(1, ordering: .sequentiallyConsistent).newValue
            let startedAt = ledger.changes.load(ordering: .sequentiallyConsistent)
            usleep(pause)
            if failOn.contains(call) { return failing }
            guard Glibc.fsync(descriptor) == 0 else { return errno }
            ledger.durableUpTo.max(startedAt, ordering: .sequentiallyConsistent)
            return 0
        }
    }

    /// Runs `body(thread, round)` on `threads` threads, `rounds` times each, all at once.
    static func onThreads(_ threads: Int, rounds: Int, _ body: @escaping @Sendable (Int, Int) -> Void) {
        let group = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                for round in 0..<rounds { body(thread, round) }
                group.leave()
            }
        }
        group.wait()
    }

    /// Makes a change (counted), then asks for the directory to be synced, and checks that the
    /// change was made before an fsync that succeeded started.
    static func changeAndSync(_ group: DirectorySyncGroup, _ ledger: Ledger, directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY)
        precondition(fd >= 0)
        let descriptor = OwnedDescriptor(fd)
        let mine = ledger.changes.add(1, ordering: .sequentiallyConsistent).newValue
        do {
            try group.sync(descriptor, path: directory)
            if ledger.durableUpTo.load(ordering: .sequentiallyConsistent) < mine {
                ledger.uncovered.add(1, ordering: .sequentiallyConsistent)
            }
        } catch {
            ledger.failures.add(1, ordering: .sequentiallyConsistent)
        }
    }

    @Test("16 threads syncing one directory: every caller's change is covered by an fsync that started after it, with fewer fsyncs than callers")
    func covered() throws {
        let temporary = try TemporaryDirectory()
        let ledger = Ledger()
        let group = DirectorySyncGroup(fsyncCall: Self.countingFsync(ledger, pause: 2_000))
        Self.onThreads(16, rounds: 10) { _, _ in Self.changeAndSync(group, ledger, directory: temporary.path) }
        #expect(ledger.uncovered.load(ordering: .sequentiallyConsistent) == 0)
        #expect(ledger.failures.load(ordering: .sequentiallyConsistent) == 0)
        let counts = group.counts
        #expect(counts.requests == 160)
        #expect(counts.syncs == ledger.calls.load(ordering: .sequentiallyConsistent))
        #expect(counts.syncs < counts.requests, "no fsync was shared: \(counts)")
    }

    @Test("threads on different directories do not wait for each other's fsyncs")
    func separateDirectories() throws {
        let temporary = try TemporaryDirectory()
        for index in 0..<4 { try FileManager.default.createDirectory(atPath: temporary.path + "/d\(index)", withIntermediateDirectories: false) }
        let ledger = Ledger()
        let group = DirectorySyncGroup(fsyncCall: Self.countingFsync(ledger, pause: 1_000))
        Self.onThreads(4, rounds: 20) { thread, _ in
            Self.changeAndSync(group, ledger, directory: temporary.path + "/d\(thread)")
        }
        // One thread per directory: nobody shares, so every request makes its own fsync.
        #expect(group.counts.syncs == 80)
        #expect(ledger.failures.load(ordering: .sequentiallyConsistent) == 0)
    }

    @Test("a failed fsync is reported to the thread that made it; those waiting for it sync again and are covered")
    func failure() throws {
        let temporary = try TemporaryDirectory()
        let ledger = Ledger()
        // The first fsync takes long enough for the others to queue behind it, then fails.
        let group = DirectorySyncGroup(fsyncCall: Self.countingFsync(ledger, pause: 20_000, failOn: [1]))
        Self.onThreads(8, rounds: 1) { _, _ in Self.changeAndSync(group, ledger, directory: temporary.path) }
        #expect(ledger.failures.load(ordering: .sequentiallyConsistent) == 1)
        #expect(ledger.uncovered.load(ordering: .sequentiallyConsistent) == 0)
        #expect(group.counts.syncs >= 2)
    }

    @Test("the error names the directory and the errno")
    func errorText() throws {
        let temporary = try TemporaryDirectory()
        let group = DirectorySyncGroup(fsyncCall: { _ in ENOSPC })
        let descriptor = OwnedDescriptor(open(temporary.path, O_RDONLY | O_DIRECTORY))
        #expect(throws: FileAccessError.self) { try group.sync(descriptor, path: temporary.path) }
        do {
            try group.sync(descriptor, path: temporary.path)
        } catch {
            #expect("\(error)".contains(temporary.path))
            #expect(error.errno == ENOSPC)
        }
    }

    @Test("the real fsync: one directory from 8 threads")
    func realFsync() throws {
        let temporary = try TemporaryDirectory()
        let group = DirectorySyncGroup()
        let failures = Atomic<Int>(0)
        Self.onThreads(8, rounds: 25) { thread, round in
            let name = temporary.path + "/f\(thread)-\(round)"
            let file = open(name, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            precondition(file >= 0)
            close(file)
            let descriptor = OwnedDescriptor(open(temporary.path, O_RDONLY | O_DIRECTORY))
            do { try group.sync(descriptor, path: temporary.path) } catch { failures.add(1, ordering: .relaxed) }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(group.counts.requests == 200)
    }
}
