import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A per-user on-disk memory of keys with an expiry: vacation's "one reply per sender per
/// period" (RFC 5230), redirect duplicates, and the `duplicate` test (RFC 7352).
///
/// The file (default `~/.homing.sieve-tracking`, see `SieveTrackingStoreFile` for the format)
/// holds SHA-256 digests of the keys, never the keys themselves. Reading needs no lock (the file
/// is only ever replaced whole, by `rename`); writing takes an exclusive `flock` on
/// `<path>.lock`, reads, merges, prunes expired entries, writes a temporary file, `fsync`s it and
/// renames it into place, so two deliveries to the same user at once lose no entry.
///
/// A damaged file is never fatal: what can be read is used, the rest is dropped, and the
/// `report` closure given to `init` is told what was wrong (log it). Only real I/O failures
/// (permissions, a full disk) throw.
public struct SieveTrackingStore: Sendable {
    /// The file name Homing uses in the user's home directory. (Dovecot's `.dovecot.lda-dupes`
    /// has a different, binary format; Homing does not read or write it.)
    public static let defaultFileName = ".homing.sieve-tracking"

    /// The tracking file.
    public let path: String
    /// At most this many entries are kept; when more are recorded, those expiring first go.
    public let maxEntries: Int
    /// How long `record` waits for another delivery's lock before giving up.
    public let lockTimeout: Duration
    /// The file is larger than this: it is treated as damaged (and replaced on the next write).
    public let maxFileSize: Int
    private let report: @Sendable (String) -> Void

    /// Creates a store for the file at `path` (it need not exist yet; its directory must).
    /// `report` receives one sentence per problem found in the file (damage, unknown format).
    public init(
        path: String, maxEntries: Int = 10_000, lockTimeout: Duration = .seconds(10),
        maxFileSize: Int = 8 << 20, report: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.path = path
        self.maxEntries = maxEntries
        self.lockTimeout = lockTimeout
        self.maxFileSize = maxFileSize
        self.report = report
    }

    /// Creates the store for a user's home directory (`<home>/.homing.sieve-tracking`).
    public init(home: String, report: @escaping @Sendable (String) -> Void = { _ in }) {
        let separator = home.hasSuffix("/") ? "" : "/"
        self.init(path: home + separator + Self.defaultFileName, report: report)
    }

    /// Whether `key` was recorded and its period has not ended at `now`. A missing file
    /// contains nothing.
    public func contains(key: String, now: Date) throws(SieveTrackingError) -> Bool {
        let table = try load()
        return table.contains(digest: Self.digest(key), now: Self.seconds(now))
    }

    /// Remembers `key` for `period` seconds from `now` (a longer period already recorded is kept).
    public func record(key: String, period: Int, now: Date) throws(SieveTrackingError) {
        try record([(key, period)], now: now)
    }

    /// Remembers the `duplicate` test's marks (RFC 7352), all in one write.
    public func record(_ marks: [SieveDuplicateMark], now: Date) throws(SieveTrackingError) {
        try record(marks.map { ($0.key, $0.period) }, now: now)
    }

    /// Remembers several keys with their periods in one locked update.
    public func record(_ entries: [(key: String, period: Int)], now: Date) throws(SieveTrackingError) {
        if entries.isEmpty { return }
        let nowSeconds = Self.seconds(now)
        let lock = try acquireLock()
        defer {
            _ = flock(lock, LOCK_UN)
            _ = close(lock)
        }
        var table = try load()
        table.prune(now: nowSeconds)
        for (key, period) in entries {
            let (expiry, overflow) = nowSeconds.addingReportingOverflow(Int64(max(period, 0)))
            table.insert(digest: Self.digest(key), expiry: overflow ? Int64.max : expiry)
        }
        table.limit(to: maxEntries)
        try replaceFile(with: table.serialized())
    }

    // MARK: - Keys and time

    static func digest(_ key: String) -> String {
        SieveTrackingStoreDigest.sha256Hex(key)
    }

    static func seconds(_ date: Date) -> Int64 {
        let interval = date.timeIntervalSince1970
        guard interval.isFinite else { return 0 }
        if interval >= 9.2e18 { return Int64.max }
        if interval <= -9.2e18 { return Int64.min }
        return Int64(interval.rounded(.down))
    }

    // MARK: - File access

    private func load() throws(SieveTrackingError) -> SieveTrackingStoreFile {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if descriptor < 0 {
            let code = errno
            if code == ENOENT { return SieveTrackingStoreFile() }
            throw SieveTrackingError(path: path, "cannot open: \(Self.describe(code))")
        }
        defer { _ = close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw SieveTrackingError(path: path, "cannot stat: \(Self.describe(errno))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw SieveTrackingError(path: path, "not a regular file")
        }
        if Int(status.st_size) > maxFileSize {
            report("\(path): larger than \(maxFileSize) octets; treating it as empty")
            return SieveTrackingStoreFile()
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SieveTrackingError(path: path, "cannot read: \(Self.describe(errno))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
            if bytes.count > maxFileSize {
                report("\(path): larger than \(maxFileSize) octets; treating it as empty")
                return SieveTrackingStoreFile()
            }
        }
        let parsed = SieveTrackingStoreFile.parse(bytes)
        if let problem = parsed.problem { report("\(path): \(problem)") }
        return parsed.file
    }

    private func acquireLock() throws(SieveTrackingError) -> Int32 {
        let lockPath = path + ".lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if descriptor < 0 {
            throw SieveTrackingError(path: lockPath, "cannot open lock file: \(Self.describe(errno))")
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: lockTimeout)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                _ = close(descriptor)
                throw SieveTrackingError(path: lockPath, "cannot lock: \(Self.describe(code))")
            }
            if clock.now >= deadline {
                _ = close(descriptor)
                throw SieveTrackingError(
                    path: lockPath, "still locked by another delivery after \(lockTimeout); try again later")
            }
            usleep(5_000)
        }
        return descriptor
    }

    private func replaceFile(with bytes: [UInt8]) throws(SieveTrackingError) {
        let temporary = "\(path).tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if descriptor < 0 {
            throw SieveTrackingError(path: temporary, "cannot create: \(Self.describe(errno))")
        }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes {
                write(descriptor, $0.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                _ = close(descriptor)
                _ = unlink(temporary)
                throw SieveTrackingError(path: temporary, "cannot write: \(Self.describe(code))")
            }
            written += count
        }
        if fsync(descriptor) != 0 {
            let code = errno
            _ = close(descriptor)
            _ = unlink(temporary)
            throw SieveTrackingError(path: temporary, "cannot fsync: \(Self.describe(code))")
        }
        _ = close(descriptor)
        if rename(temporary, path) != 0 {
            let code = errno
            _ = unlink(temporary)
            throw SieveTrackingError(path: path, "cannot rename \(temporary) into place: \(Self.describe(code))")
        }
        let directory = Self.directory(of: path)
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            _ = close(directoryDescriptor)
        }
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    private static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// The tracking file could not be read or written (not damage inside it: that is reported and
/// survived). Vacation then does not reply (better than replying in a loop); the caller logs it.
public struct SieveTrackingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file concerned.
    public var path: String
    /// What went wrong.
    public var message: String

    /// Creates an error.
    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    /// `<path>: <message>`.
    public var description: String { "\(path): \(message)" }
}
