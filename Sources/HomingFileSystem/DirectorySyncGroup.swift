import Glibc

/// Group commit for directory fsyncs: threads that need one directory's entries durable at
/// nearly the same moment share one `fsync(2)` instead of each making its own.
///
/// A caller has already made its change (a rename into the directory) when it asks; it needs an
/// fsync that *starts* after that moment. So it takes the number of the next fsync to start as
/// its ticket, and returns once an fsync with that number or a later one has succeeded: when no
/// fsync of the directory is running it starts one itself, otherwise it waits for the running
/// one to end and then either finds its ticket covered by a later one or starts the next. An
/// fsync that fails is reported to the thread that made it; the threads waiting for it find
/// their ticket not covered and try again themselves, so none returns on a failed sync.
///
/// Directories are told apart by device and inode, so different descriptors (and paths) of one
/// directory share their fsyncs. Everything here blocks: call it from a thread pool.
public final class DirectorySyncGroup: @unchecked Sendable {
    /// The group every maildir write in this process uses.
    public static let shared = DirectorySyncGroup()

    private struct Key: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private struct Entry {
        /// Numbers given to fsyncs started so far.
        var started: UInt64 = 0
        /// The highest number of an fsync that succeeded.
        var completed: UInt64 = 0
        var syncing = false
        var users = 0
    }

    /// Guarded by `mutex`; `@unchecked Sendable` rests on that.
    private var entries: [Key: Entry] = [:]
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// How many fsyncs were made, and how many callers were served (for tests).
    private var syncCount = 0
    private var requestCount = 0
    /// Makes one fsync: 0 or the errno it failed with.
    private let fsyncCall: @Sendable (Int32) -> Int32

    /// - Parameter fsyncCall: makes one fsync of a descriptor, answering 0 or the errno it failed
    ///   with; `fsync(2)` unless a test needs to see or fail the calls.
    public init(fsyncCall: @escaping @Sendable (Int32) -> Int32 = { Glibc.fsync($0) == 0 ? 0 : errno }) {
        self.fsyncCall = fsyncCall
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Returns once the directory open at `descriptor` has been fsynced, by this thread or
    /// another, after the moment of the call.
    /// - Throws: ``FileAccessError/failed(operation:path:errno:)`` naming `path` when this
    ///   thread's fsync fails (or `fstat` of the descriptor does).
    public func sync(_ descriptor: borrowing OwnedDescriptor, path: String) throws(FileAccessError) {
        var status = stat()
        guard fstat(descriptor.raw, &status) == 0 else {
            throw .failed(operation: "fstat", path: path, errno: errno)
        }
        let key = Key(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        requestCount += 1
        var entry = entries[key, default: Entry()]
        let ticket = entry.started + 1
        entry.users += 1
        entries[key] = entry
        defer {
            entries[key]!.users -= 1
            if entries[key]!.users == 0 { entries[key] = nil }
        }
        while entries[key]!.completed < ticket {
            if entries[key]!.syncing {
                pthread_cond_wait(condition, mutex)
                continue
            }
            entries[key]!.syncing = true
            entries[key]!.started += 1
            let number = entries[key]!.started
            syncCount += 1
            pthread_mutex_unlock(mutex)
            let code = fsyncCall(descriptor.raw)
            pthread_mutex_lock(mutex)
            entries[key]!.syncing = false
            pthread_cond_broadcast(condition)
            guard code == 0 else { throw .failed(operation: "fsync", path: path, errno: code) }
            entries[key]!.completed = max(entries[key]!.completed, number)
        }
    }

    /// How many fsyncs this group made and how many ``sync(_:path:)`` calls it served.
    public var counts: (syncs: Int, requests: Int) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return (syncCount, requestCount)
    }
}
