import Glibc
import HomingConfig
import HomingFileSystem

/// A maildir's Maildir++ `maildirsize` file: read it, append usage lines, recalculate it.
///
/// Kept as the Maildir++ quota specification describes, so Dovecot and Courier agree with it:
/// the first line holds the limits, then one `<bytes> <count>` line per change, each appended
/// with one `write(2)` on an `O_APPEND` descriptor (atomic on a local file system). When the
/// file grows past 5120 bytes, does not parse, or its limits differ from the configured ones,
/// it is recalculated: the tree is scanned, a new file is written under `tmp/` and renamed over
/// the old one.
///
/// Every file is reached through the maildir's directory descriptor (`HomingFileSystem`'s
/// ``HomingFileSystem/TreeDirectory``): the maildir, `maildirsize`, `tmp/` and the temporary
/// file are never reached through a symbolic link below the trusted base (the user's home),
/// and a link there fails the operation.
///
/// Concurrency (threads and processes): Homing takes `flock(2)` on the maildir directory —
/// shared for appends (``update(_:)``, ``append(bytes:messages:)``), exclusive for a
/// recalculation — so no Homing append is lost to a recalculation. Storing a message through
/// ``update(_:)`` (linking the file into `new/` inside the shared lock) also makes the count
/// exact: a recalculation sees either the message and its line, or neither. To enforce the limit
/// exactly under concurrent deliveries, check and store through
/// ``reserveAndStore(configured:isCounted:decide:store:)`` (a reservation under a short lock,
/// the write under the shared lock) or ``updateChecked(configured:isCounted:_:)`` (everything
/// under the exclusive lock): with plain ``update(_:)`` each delivery checks against usage that
/// may miss the ones in flight, so the overshoot is at most the sizes of the deliveries running
/// at once.
/// Writers that do
/// not take the lock (another Dovecot or Courier) are handled as the specification allows:
/// lines they append to the old file while the scan runs are carried into the new file after
/// the rename. Their bound: such a line may count a message the scan already saw (an overcount
/// of at most the messages they delivered during the scan, corrected by the next
/// recalculation), and a line written in the few microseconds between that final read and
/// their own next `open` may be lost (an undercount of at most one message per such writer).
public struct MaildirSizeFile: Sendable {
    /// The maildir root, split where the symlink rule starts.
    public let location: TreePath
    /// The maildir root.
    public var maildir: String { location.path }
    /// `<maildir>/maildirsize`.
    public var path: String { maildir + "/maildirsize" }
    /// The size past which the specification asks for a recalculation.
    public static let maximumSize = 5120
    static let fileName = "maildirsize"
    /// How long a lock held by another process is waited for, in seconds (nil: without a
    /// bound); then the operation throws ``HomingFileSystem/FileAccessError/lockTimeout(path:seconds:)``.
    public let lockTimeout: Double?

    /// The maildir at `location` (the user's home as its base, when it is inside it).
    public init(maildir location: TreePath, lockTimeout: Double? = nil) {
        self.location = location
        self.lockTimeout = lockTimeout
    }

    /// The maildir at `maildir`, its parent directory as the trusted base (the maildir itself
    /// and everything below it may not be links).
    public init(maildir: String, lockTimeout: Double? = nil) {
        self.location = (try? TreePath(maildir, home: nil)) ?? TreePath(base: maildir)
        self.lockTimeout = lockTimeout
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

    /// Reads and parses the file; nil when it (or the maildir) does not exist.
    public func read() throws(FileAccessError) -> MaildirSizeContents? {
        guard let directory = try openMaildirIfPresent() else { return nil }
        return try readFile(in: directory, configured: nil)?.contents
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
                                isCounted: (String) -> Bool = { _ in true }) throws(FileAccessError) -> MaildirSizeContents {
        let directory = try openMaildir()
        if let file = try readFile(in: directory, configured: configured), !file.needsRecalculation {
            return file.contents
        }
        return try recalculate(limits: configured, force: false, isCounted: isCounted)
    }

    /// The limits and usage without changing anything (`homing quota get`): the file when it is
    /// usable, else a scan of the maildir, with the limits the file would get. Nothing is
    /// written, locked exclusively or created.
    public func peekContents(configured: QuotaLimits?,
                             isCounted: (String) -> Bool = { _ in true }) throws(FileAccessError) -> MaildirSizeContents {
        let directory = try openMaildir()
        let file = try readFile(in: directory, configured: configured)
        if let file, !file.needsRecalculation { return file.contents }
        let old = file?.contents
        let usage = try MaildirUsageScanner(maildir: location).scan(in: directory, isCounted: isCounted)
        let limits = configured ?? (old?.isValid == true ? old?.limits : nil) ?? .unlimited
        return MaildirSizeContents(limits: limits, usage: usage, usageLineCount: 1, isValid: true)
    }

    /// Checks and stores in one step, under the exclusive lock: `store` receives the current
    /// contents (recalculated first when needed), decides, stores the message and returns the
    /// change (nil: nothing stored); the change is appended before the lock is released.
    /// Deliveries to one user then cannot together overshoot the limit: each sees the usage
    /// including every earlier one. Returns the contents after the change.
    public func updateChecked(configured: QuotaLimits?, isCounted: (String) -> Bool = { _ in true },
                              _ store: (MaildirSizeContents) throws -> QuotaUsage?) throws -> MaildirSizeContents {
        let directory = try openMaildir()
        try directory.lock(exclusive: true, timeout: lockTimeout)
        var contents: MaildirSizeContents
        if let file = try readFile(in: directory, configured: configured), !file.needsRecalculation {
            contents = file.contents
        } else {
            contents = try recalculateLocked(
                in: directory, limits: configured, force: true, isCounted: isCounted, afterScan: {})
        }
        guard let change = try store(contents) else { return contents }
        _ = try appendLine(MaildirSizeContents.usageLine(bytes: change.bytes, messages: change.messages), in: directory)
        contents.usage.bytes += change.bytes
        contents.usage.messages += change.messages
        contents.usageLineCount += 1
        return contents
    }

    /// What the `decide` step of ``reserveAndStore(configured:isCounted:decide:store:)`` chose.
    public enum ReservationDecision: Sendable, Hashable {
        /// Store nothing, count nothing.
        case refuse
        /// Reserve `usage` (``QuotaUsage/zero``: count nothing), then store.
        case store(reserving: QuotaUsage)
    }

    /// Checks and reserves under a short lock, then stores with only a shared lock held, so
    /// that deliveries to one user write and fsync their messages in parallel while the limit
    /// stays exact:
    ///
    /// 1. The shared lock on the maildir is taken and kept to the end. A recalculation takes
    ///    that lock exclusively, so it waits for every delivery in flight: its scan never misses
    ///    a reserved message whose line it would drop.
    /// 2. The exclusive lock on `maildirsize` itself is held only while `decide` sees the usage
    ///    (every earlier reservation included) and the reservation is appended as one line.
    ///    Deliveries to one user therefore cannot together overshoot the limit.
    /// 3. `store` runs and returns what it counted (``QuotaUsage/zero``: nothing stored).
    /// 4. The reservation is settled: a line with the difference when the stored size differs
    ///    from the reserved one, its negative when nothing was stored or `store` threw. Nothing
    ///    is written when they match, so a delivery appends one line, as Dovecot's does.
    ///
    /// A file that must be recalculated first (missing, invalid, too long, other limits, stale
    /// over quota) is recalculated under the exclusive lock on the maildir, and the steps start
    /// again; should that keep happening, the whole operation runs under the exclusive lock as
    /// ``updateChecked(configured:isCounted:_:)`` does. `decide` and `store` run at most once.
    ///
    /// Settling is best effort: when `store` succeeded but the correcting line cannot be
    /// written, the message stays stored (an answer other than success would make the client
    /// send it again) and the usage is off by the difference until the next recalculation.
    public func reserveAndStore(
        configured: QuotaLimits?, isCounted: (String) -> Bool = { _ in true },
        decide: (MaildirSizeContents) throws -> ReservationDecision,
        store: () throws -> QuotaUsage
    ) throws {
        for _ in 0..<3 {
            let directory = try openMaildir()
            try directory.lock(exclusive: false, timeout: lockTimeout)
            guard let reservation = try reserve(in: directory, configured: configured, decide: decide) else {
                // Drop the shared lock before waiting for the exclusive one.
                _ = consume directory
                try recalculateIfNeeded(configured: configured, isCounted: isCounted)
                continue
            }
            guard case .store(let reserved) = reservation else { return }
            let stored: QuotaUsage
            do {
                stored = try store()
            } catch {
                if reserved != .zero { try? settle(reserved: reserved, stored: .zero, in: directory) }
                throw error
            }
            try? settle(reserved: reserved, stored: stored, in: directory)
            return
        }
        _ = try updateChecked(configured: configured, isCounted: isCounted) { contents in
            guard case .store = try decide(contents) else { return nil }
            let stored = try store()
            return stored == .zero ? nil : stored
        }
    }

    /// Step 2 of ``reserveAndStore(configured:isCounted:decide:store:)``; the caller holds the
    /// shared lock on `directory`. Nil: the file must be recalculated first.
    private func reserve(
        in directory: borrowing TreeDirectory, configured: QuotaLimits?,
        decide: (MaildirSizeContents) throws -> ReservationDecision
    ) throws -> ReservationDecision? {
        guard let file = try directory.openExistingFile(Self.fileName, flags: O_RDWR | O_APPEND) else { return nil }
        // Held for a read and one write: short pauses while another delivery holds it.
        try file.lock(exclusive: true, timeout: lockTimeout, path: path, longestPause: 2_000)
        let read = try readFile(file, configured: configured)
        if read.needsRecalculation { return nil }
        let decision = try decide(read.contents)
        if case .store(let usage) = decision, usage != .zero {
            try writeAll(fd: file.raw, bytes: Array(MaildirSizeContents.usageLine(bytes: usage.bytes, messages: usage.messages).utf8), path: path)
        }
        return decision
    }

    /// Step 4: the line that turns the reservation into what was stored, if they differ.
    private func settle(reserved: QuotaUsage, stored: QuotaUsage, in directory: borrowing TreeDirectory) throws(FileAccessError) {
        let change = QuotaUsage(bytes: stored.bytes - reserved.bytes, messages: stored.messages - reserved.messages)
        if change == .zero { return }
        _ = try appendLine(MaildirSizeContents.usageLine(bytes: change.bytes, messages: change.messages), in: directory)
    }

    /// Recalculates under the exclusive lock unless the file, read again under it, no longer
    /// needs it (another delivery recalculated while this one waited).
    private func recalculateIfNeeded(configured: QuotaLimits?, isCounted: (String) -> Bool) throws(FileAccessError) {
        let directory = try openMaildir()
        try directory.lock(exclusive: true, timeout: lockTimeout)
        if let file = try readFile(in: directory, configured: configured), !file.needsRecalculation { return }
        _ = try recalculateLocked(in: directory, limits: configured, force: true, isCounted: isCounted, afterScan: {})
    }

    // MARK: - Appending

    /// Appends `<bytes> <messages>` (negative for removals) with one write, under the shared lock.
    public func append(bytes: Int64, messages: Int64) throws(FileAccessError) -> AppendResult {
        let directory = try openMaildir()
        try directory.lock(exclusive: false, timeout: lockTimeout)
        return try appendLine(MaildirSizeContents.usageLine(bytes: bytes, messages: messages), in: directory)
    }

    /// Runs `store` under the shared lock and appends the change it returns (nil: nothing stored).
    /// Store the message (the link into `new/`) inside `store` for an exact count. Do not call
    /// ``recalculate(limits:force:isCounted:)`` from inside `store`: it would wait for itself.
    public func update(_ store: () throws -> QuotaUsage?) throws -> AppendResult? {
        let directory = try openMaildir()
        try directory.lock(exclusive: false, timeout: lockTimeout)
        guard let change = try store() else { return nil }
        return try appendLine(MaildirSizeContents.usageLine(bytes: change.bytes, messages: change.messages), in: directory)
    }

    private func appendLine(_ line: String, in directory: borrowing TreeDirectory) throws(FileAccessError) -> AppendResult {
        guard let file = try directory.openExistingFile(Self.fileName, flags: O_WRONLY | O_APPEND) else { return .missing }
        try writeAll(fd: file.raw, bytes: Array(line.utf8), path: path)
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
                            isCounted: (String) -> Bool = { _ in true }) throws(FileAccessError) -> MaildirSizeContents {
        try recalculate(limits: limits, force: force, isCounted: isCounted, afterScan: {})
    }

    /// As above; `afterScan` runs between the scan and the rename (tests use it to play another writer).
    func recalculate(limits: QuotaLimits?, force: Bool, isCounted: (String) -> Bool,
                     afterScan: () -> Void) throws(FileAccessError) -> MaildirSizeContents {
        let directory = try openMaildir()
        try directory.lock(exclusive: true, timeout: lockTimeout)
        return try recalculateLocked(in: directory, limits: limits, force: force, isCounted: isCounted, afterScan: afterScan)
    }

    /// The recalculation proper; the caller holds the exclusive lock on `directory`.
    private func recalculateLocked(in directory: borrowing TreeDirectory, limits: QuotaLimits?, force: Bool,
                                   isCounted: (String) -> Bool,
                                   afterScan: () -> Void) throws(FileAccessError) -> MaildirSizeContents {
        // Keep the old file open: lines appended to it during the scan are read back from `start`.
        let oldFile = try directory.openExistingFile(Self.fileName, flags: O_RDONLY)
        let oldFD: Int32
        switch oldFile {  // borrows: the descriptor stays open to the end of this function
        case .some(let file): oldFD = file.raw
        case .none: oldFD = -1
        }
        var oldBytes: [UInt8] = []
        if oldFD >= 0 { oldBytes = try readAll(fd: oldFD) }
        let old = oldFD >= 0 ? MaildirSizeContents.parse(oldBytes) : nil
        if !force, !Self.needsRecalculation(contents: old, fileSize: oldBytes.count, configured: limits), let old {
            return old
        }
        let start = oldBytes.count

        let usage = try MaildirUsageScanner(maildir: location).scan(in: directory, isCounted: isCounted)
        afterScan()
        let newLimits = limits ?? (old?.isValid == true ? old?.limits : nil) ?? .unlimited
        let text = MaildirSizeContents.limitsLine(newLimits) + "\n"
            + MaildirSizeContents.usageLine(bytes: usage.bytes, messages: usage.messages)
        try writeReplacement(Array(text.utf8), maildir: directory)

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
            let file = try directory.openFile(Self.fileName, flags: O_WRONLY | O_APPEND)
            try writeAll(fd: file.raw, bytes: carried, path: path)
        }
        return MaildirSizeContents.parse(Array(text.utf8) + carried)
    }

    /// Writes `bytes` to a new file in `tmp/` (in the maildir itself when there is no `tmp/`)
    /// and renames it over `maildirsize`. A link at `tmp/` fails, it is not passed over.
    private func writeReplacement(_ bytes: [UInt8], maildir directory: borrowing TreeDirectory) throws(FileAccessError) {
        let tmp: TreeDirectory
        do {
            tmp = try directory.openDirectory("tmp")
        } catch {
            if case .notADirectory = error {} else if !error.isNotFound { throw error }
            try writeReplacement(bytes, through: directory, maildir: directory)
            return
        }
        try writeReplacement(bytes, through: tmp, maildir: directory)
    }

    private func writeReplacement(
        _ bytes: [UInt8], through holder: borrowing TreeDirectory, maildir directory: borrowing TreeDirectory
    ) throws(FileAccessError) {
        let name = ".maildirsize.\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        let file = try holder.openFile(name, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        do throws(FileAccessError) {
            try writeAll(fd: file.raw, bytes: bytes, path: holder.child(name))
            if let code = file.close() { throw .failed(operation: "close", path: holder.child(name), errno: code) }
            try holder.rename(name, to: directory, as: Self.fileName)
        } catch {
            try? holder.removeFile(name)
            throw error
        }
    }

    // MARK: - Low-level I/O

    /// The maildir directory, through the walk.
    private func openMaildir() throws(FileAccessError) -> TreeDirectory {
        try TreeDirectory.open(location)
    }

    /// The maildir directory, or nil when it does not exist.
    private func openMaildirIfPresent() throws(FileAccessError) -> TreeDirectory? {
        do {
            return try TreeDirectory.open(location)
        } catch {
            if error.isNotFound { return nil }
            throw error
        }
    }

    /// The file as read: its parsed contents, and whether they must be recalculated before use
    /// (``needsRecalculation(contents:fileSize:configured:ageSeconds:)`` with the file's age).
    private struct ReadFile {
        var contents: MaildirSizeContents
        var needsRecalculation: Bool
    }

    /// Reads the open file from its start; nil when it does not exist.
    private func readFile(in directory: borrowing TreeDirectory, configured: QuotaLimits?) throws(FileAccessError) -> ReadFile? {
        guard let file = try directory.openExistingFile(Self.fileName, flags: O_RDONLY) else { return nil }
        return try readFile(file, configured: configured)
    }

    /// Reads `file` (open on `maildirsize`) from its start.
    private func readFile(_ file: borrowing OwnedDescriptor, configured: QuotaLimits?) throws(FileAccessError) -> ReadFile {
        var info = stat()
        guard fstat(file.raw, &info) == 0 else { throw .failed(operation: "fstat", path: path, errno: errno) }
        let bytes = try readAll(fd: file.raw)
        let contents = MaildirSizeContents.parse(bytes)
        let age = max(0, time(nil) - info.st_mtim.tv_sec)
        return ReadFile(
            contents: contents,
            needsRecalculation: Self.needsRecalculation(
                contents: contents, fileSize: bytes.count, configured: configured, ageSeconds: age))
    }

    private func readAll(fd: Int32) throws(FileAccessError) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .failed(operation: "read", path: path, errno: errno)
            }
            if count == 0 { return result }
            result.append(contentsOf: buffer[0..<count])
            offset += off_t(count)
        }
    }

    private func writeAll(fd: Int32, bytes: [UInt8], path: String) throws(FileAccessError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return write(fd, base + written, raw.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .failed(operation: "write", path: path, errno: errno)
            }
            written += count
        }
    }
}
