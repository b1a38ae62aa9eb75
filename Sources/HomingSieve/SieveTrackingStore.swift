import Foundation
import HomingFileSystem

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
/// The file, its lock and its temporary file are reached through their directory's descriptor
/// (`HomingFileSystem.TreeDirectory`): below the trusted base (the home) nothing is a symbolic
/// link, and a link found there is an error (``SieveTrackingError/isSymlinkRefusal``) with
/// nothing read or written through it.
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
    /// The tracking file split where links stop being allowed (the home for the default file).
    public let location: TreePath
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
        self.init(
            location: (try? TreePath(path, home: nil)) ?? TreePath(base: path), maxEntries: maxEntries,
            lockTimeout: lockTimeout, maxFileSize: maxFileSize, report: report)
    }

    /// Creates a store for the file at `location` (its directory must exist): nothing below
    /// `location.base` may be a link.
    public init(
        location: TreePath, maxEntries: Int = 10_000, lockTimeout: Duration = .seconds(10),
        maxFileSize: Int = 8 << 20, report: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.location = location
        self.path = location.path
        self.maxEntries = maxEntries
        self.lockTimeout = lockTimeout
        self.maxFileSize = maxFileSize
        self.report = report
    }

    /// Creates the store for a user's home directory (`<home>/.homing.sieve-tracking`).
    /// The home may be reached through links; the file in it may not be one.
    public init(home: String, report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.init(location: TreePath(base: home, components: [Self.defaultFileName]), report: report)
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
        let directory = try openDirectory()
        let lock = try acquireLock(in: directory)
        defer {
            _ = flock(lock.raw, LOCK_UN)
        }
        var table = try load(in: directory)
        table.prune(now: nowSeconds)
        for (key, period) in entries {
            let (expiry, overflow) = nowSeconds.addingReportingOverflow(Int64(max(period, 0)))
            table.insert(digest: Self.digest(key), expiry: overflow ? Int64.max : expiry)
        }
        table.limit(to: maxEntries)
        try replaceFile(with: table.serialized(), in: directory)
    }

    /// Checks, without changing anything, that neither the file nor its lock file is a
    /// symbolic link (nor the way to them below the base). The Sieve plugin calls it before a
    /// script runs, so that a planted link defers the delivery before anything is sent.
    public func checkForLinks() throws(SieveTrackingError) {
        let directory: TreeDirectory
        do {
            directory = try TreeDirectory.open(directoryLocation)
        } catch {
            if error.isNotFound { return }
            throw SieveTrackingError(error, path: directoryLocation.path, doing: "cannot open the directory")
        }
        for name in [fileName, fileName + ".lock"] {
            let info: stat?
            do {
                info = try directory.status(of: name)
            } catch {
                throw SieveTrackingError(error, path: directory.child(name))
            }
            if let info, (info.st_mode & S_IFMT) == S_IFLNK {
                throw SieveTrackingError(.symlinkNotAllowed(path: directory.child(name)), path: directory.child(name))
            }
        }
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

    /// The file's name in its directory.
    private var fileName: String { location.components.last ?? Self.defaultFileName }

    /// Where the file's directory is.
    private var directoryLocation: TreePath {
        TreePath(base: location.base, components: Array(location.components.dropLast()))
    }

    /// The directory holding the file, reached without following a link below the base, for
    /// writing (a missing one is reported as the lock file that cannot be created).
    private func openDirectory() throws(SieveTrackingError) -> TreeDirectory {
        do {
            return try TreeDirectory.open(directoryLocation)
        } catch {
            if error.isNotFound { throw SieveTrackingError(error, path: path + ".lock", doing: "cannot open lock file") }
            throw SieveTrackingError(error, path: directoryLocation.path, doing: "cannot open the directory")
        }
    }

    private func load() throws(SieveTrackingError) -> SieveTrackingStoreFile {
        let directory: TreeDirectory
        do {
            directory = try TreeDirectory.open(directoryLocation)
        } catch {
            // No directory: nothing recorded (a home that does not exist yet).
            if error.isNotFound { return SieveTrackingStoreFile() }
            throw SieveTrackingError(error, path: directoryLocation.path, doing: "cannot open the directory")
        }
        return try load(in: directory)
    }

    private func load(in directory: borrowing TreeDirectory) throws(SieveTrackingError) -> SieveTrackingStoreFile {
        let opened: OwnedDescriptor?
        do {
            opened = try directory.openExistingFile(fileName, flags: O_RDONLY)
        } catch {
            throw SieveTrackingError(error, path: path, doing: "cannot open")
        }
        guard let descriptor = opened else { return SieveTrackingStoreFile() }
        var status = stat()
        guard fstat(descriptor.raw, &status) == 0 else {
            throw SieveTrackingError(path: path, "cannot stat: \(Self.describe(errno))")
        }
        if Int(status.st_size) > maxFileSize {
            report("\(path): larger than \(maxFileSize) octets; treating it as empty")
            return SieveTrackingStoreFile()
        }
        let fd = descriptor.raw
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
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

    private func acquireLock(in directory: borrowing TreeDirectory) throws(SieveTrackingError) -> OwnedDescriptor {
        let lockName = fileName + ".lock"
        let lockPath = path + ".lock"
        let descriptor: OwnedDescriptor
        do {
            descriptor = try directory.openFile(lockName, flags: O_RDWR | O_CREAT, mode: 0o600)
        } catch {
            throw SieveTrackingError(error, path: lockPath, doing: "cannot open lock file")
        }
        let seconds = Double(lockTimeout.components.seconds) + Double(lockTimeout.components.attoseconds) / 1e18
        do {
            try descriptor.lock(exclusive: true, timeout: seconds, path: lockPath, longestPause: 5_000)
        } catch {
            switch error {
            case .lockTimeout:
                throw SieveTrackingError(
                    path: lockPath, "still locked by another delivery after \(lockTimeout); try again later")
            case .system(_, _, let code):
                throw SieveTrackingError(path: lockPath, "cannot lock: \(Self.describe(code))")
            default:
                throw SieveTrackingError(error, path: lockPath, doing: "cannot lock")
            }
        }
        return descriptor
    }

    private func replaceFile(with bytes: [UInt8], in directory: borrowing TreeDirectory) throws(SieveTrackingError) {
        let temporaryName = "\(fileName).tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let temporary = directory.child(temporaryName)
        let descriptor: OwnedDescriptor
        do {
            descriptor = try directory.openFile(temporaryName, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        } catch {
            throw SieveTrackingError(error, path: temporary, doing: "cannot create")
        }
        let fd = descriptor.raw
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes {
                write(fd, $0.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                try? directory.removeFile(temporaryName)
                throw SieveTrackingError(path: temporary, "cannot write: \(Self.describe(code))")
            }
            written += count
        }
        if fsync(fd) != 0 {
            let code = errno
            try? directory.removeFile(temporaryName)
            throw SieveTrackingError(path: temporary, "cannot fsync: \(Self.describe(code))")
        }
        _ = descriptor.close()
        do {
            try directory.rename(temporaryName, to: directory, as: fileName)
        } catch {
            try? directory.removeFile(temporaryName)
            throw SieveTrackingError(error, path: path, doing: "cannot rename \(temporary) into place")
        }
        try? directory.sync()
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

    /// True when a symbolic link was found where none may be (below the home): nothing was
    /// read or written through it. The delivery is then deferred rather than going on without
    /// the record.
    public var isSymlinkRefusal: Bool = false

    /// Creates an error.
    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    /// The error for a failed file access; `doing` prefixes the system call's reason.
    init(_ error: FileAccessError, path: String, doing: String? = nil) {
        switch error {
        case .symlinkNotAllowed(let linkPath):
            self.init(path: path, "refusing to follow the symbolic link \(linkPath) (nothing below the home may be one)")
            isSymlinkRefusal = true
        case .notARegularFile:
            self.init(path: path, "not a regular file")
        case .system(_, _, let code):
            self.init(path: path, (doing.map { $0 + ": " } ?? "") + String(cString: strerror(code)))
        default:
            self.init(path: path, (doing.map { $0 + ": " } ?? "") + "\(error)")
        }
    }

    /// `<path>: <message>`.
    public var description: String { "\(path): \(message)" }
}
