import Glibc
import HomingConfig

/// A maildir's Maildir++ `maildirsize` file: read it, append usage lines, recalculate it.
///
/// Kept as the Maildir++ quota specification describes, so Dovecot and Courier agree with it:
/// the first line holds the limits, then one `<bytes> <count>` line per change, each appended
/// with one `write(2)` on an `O_APPEND` descriptor (atomic on a local file system). When the
/// file grows past 5120 bytes, does not parse, or its limits differ from the configured ones,
/// it is recalculated: the tree is scanned, a new file is written under `tmp/` and renamed over
/// the old one.
///
/// Concurrency (threads and processes): Homing takes `flock(2)` on the maildir directory —
/// shared for appends (``update(_:)``, ``append(bytes:messages:)``), exclusive for a
/// recalculation — so no Homing append is lost to a recalculation. Storing a message through
/// ``update(_:)`` (linking the file into `new/` inside the shared lock) also makes the count
/// exact: a recalculation sees either the message and its line, or neither. To enforce the limit
/// exactly under concurrent deliveries, check and store through ``updateChecked(configured:isCounted:_:)``
/// (exclusive lock): with plain ``update(_:)`` each delivery checks against usage that may miss
/// the ones in flight, so the overshoot is at most the sizes of the deliveries running at once.
/// Writers that do
/// not take the lock (another Dovecot or Courier) are handled as the specification allows:
/// lines they append to the old file while the scan runs are carried into the new file after
/// the rename. Their bound: such a line may count a message the scan already saw (an overcount
/// of at most the messages they delivered during the scan, corrected by the next
/// recalculation), and a line written in the few microseconds between that final read and
/// their own next `open` may be lost (an undercount of at most one message per such writer).
public struct MaildirSizeFile: Sendable {
    /// The maildir root.
    public let maildir: String
    /// `<maildir>/maildirsize`.
    public var path: String { maildir + "/maildirsize" }
    /// The size past which the specification asks for a recalculation.
    public static let maximumSize = 5120

    public init(maildir: String) {
        self.maildir = maildir
    }

    /// What ``append(bytes:messages:)`` did.
    public enum AppendResult: Sendable, Hashable {
        /// The line was appended.
        case appended
        /// There is no `maildirsize` file: nothing was written; recalculate to create it
        /// (the scan counts the message already stored).
        case missing
    }

    // MARK: - Reading

    /// Reads and parses the file; nil when it does not exist.
    public func read() throws(SystemCallError) -> MaildirSizeContents? {
        guard let (bytes, _) = try readBytes() else { return nil }
        return MaildirSizeContents.parse(bytes)
    }

    /// Whether a file with `contents` and `fileSize` bytes must be recalculated for `configured`
    /// limits (nil: take the file's limits as they are, the `?` default rule).
    ///
    /// `ageSeconds` (the file's age, when known) adds the specification's last rule: a file
    /// older than 15 minutes that shows the user over quota is recalculated, so mail removed by
    /// software that does not update `maildirsize` is noticed.
    public static func needsRecalculation(contents: MaildirSizeContents?, fileSize: Int,
                                          configured: QuotaLimits?, ageSeconds: Int? = nil) -> Bool {
        guard let contents, contents.isValid else { return true }
        if fileSize > maximumSize { return true }
        if contents.usage.bytes < 0 || contents.usage.messages < 0 { return true }
        if let configured, configured.bytes != contents.limits.bytes || configured.messages != contents.limits.messages {
            return true
        }
        if let ageSeconds, ageSeconds > staleOverQuotaAge {
            let limits = contents.limits
            let overBytes = limits.bytes > 0 && contents.usage.bytes >= limits.bytes
            let overCount = limits.messages > 0 && contents.usage.messages >= limits.messages
            if overBytes || overCount { return true }
        }
        return false
    }

    /// 15 minutes: an over-quota file older than this is recalculated.
    public static let staleOverQuotaAge = 15 * 60

    /// The current usage and limits: the file as it is, or recalculated first when needed.
    /// `configured` nil keeps the file's limits (and creates a file with no limits if missing).
    public func currentContents(configured: QuotaLimits?,
                                isCounted: (String) -> Bool = { _ in true }) throws(SystemCallError) -> MaildirSizeContents {
        if let (bytes, age) = try readBytes() {
            let contents = MaildirSizeContents.parse(bytes)
            if !Self.needsRecalculation(contents: contents, fileSize: bytes.count, configured: configured, ageSeconds: age) {
                return contents
            }
        }
        return try recalculate(limits: configured, force: false, isCounted: isCounted)
    }

    /// Checks and stores in one step, under the exclusive lock: `store` receives the current
    /// contents (recalculated first when needed), decides, stores the message and returns the
    /// change (nil: nothing stored); the change is appended before the lock is released.
    /// Deliveries to one user then cannot together overshoot the limit: each sees the usage
    /// including every earlier one. Returns the contents after the change.
    public func updateChecked(configured: QuotaLimits?, isCounted: (String) -> Bool = { _ in true },
                              _ store: (MaildirSizeContents) throws -> QuotaUsage?) throws -> MaildirSizeContents {
        let lock = try DirectoryLock(path: maildir, exclusive: true)
        defer { lock.release() }
        var contents: MaildirSizeContents
        if let (bytes, age) = try readBytes(),
           case let parsed = MaildirSizeContents.parse(bytes),
           !Self.needsRecalculation(contents: parsed, fileSize: bytes.count, configured: configured, ageSeconds: age) {
            contents = parsed
        } else {
            contents = try recalculateLocked(limits: configured, force: true, isCounted: isCounted, afterScan: {})
        }
        guard let change = try store(contents) else { return contents }
        _ = try appendLine(MaildirSizeContents.usageLine(bytes: change.bytes, messages: change.messages))
        contents.usage.bytes += change.bytes
        contents.usage.messages += change.messages
        contents.usageLineCount += 1
        return contents
    }

    // MARK: - Appending

    /// Appends `<bytes> <messages>` (negative for removals) with one write, under the shared lock.
    public func append(bytes: Int64, messages: Int64) throws(SystemCallError) -> AppendResult {
        let lock = try DirectoryLock(path: maildir, exclusive: false)
        defer { lock.release() }
        return try appendLine(MaildirSizeContents.usageLine(bytes: bytes, messages: messages))
    }

    /// Runs `store` under the shared lock and appends the change it returns (nil: nothing stored).
    /// Store the message (the link into `new/`) inside `store` for an exact count. Do not call
    /// ``recalculate(limits:force:isCounted:)`` from inside `store`: it would wait for itself.
    public func update(_ store: () throws -> QuotaUsage?) throws -> AppendResult? {
        let lock = try DirectoryLock(path: maildir, exclusive: false)
        defer { lock.release() }
        guard let change = try store() else { return nil }
        return try appendLine(MaildirSizeContents.usageLine(bytes: change.bytes, messages: change.messages))
    }

    private func appendLine(_ line: String) throws(SystemCallError) -> AppendResult {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return .missing }
            throw SystemCallError("open", path: path, errno: code)
        }
        defer { close(fd) }
        try writeAll(fd: fd, bytes: Array(line.utf8), path: path)
        return .appended
    }

    // MARK: - Recalculating

    /// Recalculates under the exclusive lock: scans the tree, writes `limits` (nil: the old
    /// file's limits, or none) and the total into a new file, renames it into place, then carries
    /// over lines other writers appended to the old file meanwhile. Unless `force`, a file that
    /// another process recalculated while this one waited for the lock is kept as it is.
    /// Returns the new contents.
    @discardableResult
    public func recalculate(limits: QuotaLimits?, force: Bool = true,
                            isCounted: (String) -> Bool = { _ in true }) throws(SystemCallError) -> MaildirSizeContents {
        try recalculate(limits: limits, force: force, isCounted: isCounted, afterScan: {})
    }

    /// As above; `afterScan` runs between the scan and the rename (tests use it to play another writer).
    func recalculate(limits: QuotaLimits?, force: Bool, isCounted: (String) -> Bool,
                     afterScan: () -> Void) throws(SystemCallError) -> MaildirSizeContents {
        let lock = try DirectoryLock(path: maildir, exclusive: true)
        defer { lock.release() }
        return try recalculateLocked(limits: limits, force: force, isCounted: isCounted, afterScan: afterScan)
    }

    /// The recalculation proper; the caller holds the exclusive lock.
    private func recalculateLocked(limits: QuotaLimits?, force: Bool, isCounted: (String) -> Bool,
                                   afterScan: () -> Void) throws(SystemCallError) -> MaildirSizeContents {
        // Keep the old file open: lines appended to it during the scan are read back from `start`.
        let oldFD = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        defer { if oldFD >= 0 { close(oldFD) } }
        if oldFD < 0, errno != ENOENT { throw SystemCallError("open", path: path, errno: errno) }
        var oldBytes: [UInt8] = []
        if oldFD >= 0 { oldBytes = try readAll(fd: oldFD) }
        let old = oldFD >= 0 ? MaildirSizeContents.parse(oldBytes) : nil
        if !force, !Self.needsRecalculation(contents: old, fileSize: oldBytes.count, configured: limits), let old {
            return old
        }
        let start = oldBytes.count

        let usage = try MaildirUsageScanner(maildir: maildir).scan(isCounted: isCounted)
        afterScan()
        let newLimits = limits ?? (old?.isValid == true ? old?.limits : nil) ?? .unlimited
        let text = MaildirSizeContents.limitsLine(newLimits) + "\n"
            + MaildirSizeContents.usageLine(bytes: usage.bytes, messages: usage.messages)
        try writeReplacement(Array(text.utf8))

        // Lines appended by writers that do not lock, between our read and the rename.
        var carried: [UInt8] = []
        if oldFD >= 0 {
            let all = try readAll(fd: oldFD)
            if all.count > start {
                let tail = all[start...]
                // Only complete lines; a partial one is still being written and is left to them.
                if let lastNewline = tail.lastIndex(of: UInt8(ascii: "\n")) {
                    carried = Array(tail[tail.startIndex...lastNewline])
                }
            }
        }
        if !carried.isEmpty {
            let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { throw SystemCallError("open", path: path, errno: errno) }
            defer { close(fd) }
            try writeAll(fd: fd, bytes: carried, path: path)
        }
        return MaildirSizeContents.parse(Array(text.utf8) + carried)
    }

    private func writeReplacement(_ bytes: [UInt8]) throws(SystemCallError) {
        var tmpDirectory = maildir + "/tmp"
        var info = stat()
        if stat(tmpDirectory, &info) != 0 || (info.st_mode & S_IFMT) != S_IFDIR { tmpDirectory = maildir }
        let tmpPath = tmpDirectory + "/.maildirsize.\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(tmpPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SystemCallError("open", path: tmpPath, errno: errno) }
        do {
            try writeAll(fd: fd, bytes: bytes, path: tmpPath)
        } catch {
            close(fd)
            unlink(tmpPath)
            throw error
        }
        close(fd)
        if rename(tmpPath, path) != 0 {
            let code = errno
            unlink(tmpPath)
            throw SystemCallError("rename", path: path, errno: code)
        }
    }

    // MARK: - Low-level I/O

    /// The file's bytes and its age in seconds; nil when it does not exist.
    private func readBytes() throws(SystemCallError) -> ([UInt8], Int)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw SystemCallError("open", path: path, errno: code)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemCallError("fstat", path: path, errno: errno) }
        let bytes = try readAll(fd: fd)
        return (bytes, max(0, time(nil) - info.st_mtim.tv_sec))
    }

    private func readAll(fd: Int32) throws(SystemCallError) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("read", path: path, errno: errno)
            }
            if count == 0 { return result }
            result.append(contentsOf: buffer[0..<count])
            offset += off_t(count)
        }
    }

    private func writeAll(fd: Int32, bytes: [UInt8], path: String) throws(SystemCallError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return write(fd, base + written, raw.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("write", path: path, errno: errno)
            }
            written += count
        }
    }
}
