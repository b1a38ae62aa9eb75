import CHomingLinux
import Glibc
import HomingConfig
import HomingMaildir
import NIOCore
import NIOPosix
import Synchronization

/// Where an incoming message waits between DATA and the end of delivery, with CRLF turned into
/// LF, written in 64 KiB pieces as the message arrives (into memory on the calling task, to a
/// file on the thread pool):
///
/// - up to ``memoryLimit`` (128 KiB, Dovecot's threshold for keeping a message in memory) in
///   an anonymous file in memory (`memfd_create`): a small message costs no inode on disk, no
///   journal work and no disk space;
/// - past that, the bytes move to a file in `mail_temp_dir` that never has a name
///   (`O_TMPFILE`), and the rest of the message goes there: a large message is never held in
///   memory.
///
/// Either way a crash leaves nothing behind (the kernel frees the file with the last
/// descriptor), and readers see one descriptor (``SpooledMessage``). Only where the file system
/// has no `O_TMPFILE` (`EOPNOTSUPP`, or `EISDIR` from a kernel without it) is the file created
/// as `homing-spool.XXXXXX` and unlinked at once; a crash in between can leave one behind,
/// which ``removeStaleFiles(in:)`` removes when the server starts. Where `memfd_create` is
/// missing, every message goes to `mail_temp_dir`.
public final class MessageSpool: Sendable {
    /// Bytes gathered before one write to the file.
    static let writeSize = 64 * 1024
    /// Messages up to this size stay in memory; larger ones go to `mail_temp_dir`.
    public static let memoryLimit = 128 * 1024
    /// The name prefix of spool files created where `O_TMPFILE` is missing.
    public static let fileNamePrefix = "homing-spool."

    private struct State {
        var normalizer = LineEndingNormalizer()
        var scanner = HeaderScanner()
        var pending: [UInt8] = []
        var offset = 0
        var closed = false
        /// The spool file: in memory until the message outgrows ``memoryLimit``.
        var fileDescriptor: Int32
        var inMemory: Bool
    }

    private let directory: String
    private let threadPool: NIOThreadPool
    private let state: Mutex<State>

    private init(fileDescriptor: Int32, inMemory: Bool, directory: String, threadPool: NIOThreadPool) {
        self.state = Mutex(State(fileDescriptor: fileDescriptor, inMemory: inMemory))
        self.directory = directory
        self.threadPool = threadPool
    }

    /// Creates a spool for one message: in memory at first, in `directory` once it is large.
    /// - Parameter recentCheck: remembers when `directory` was last found to be a directory;
    ///   within ``SpoolDirectoryCheck/validity`` of that, a spool in memory is created at once,
    ///   without a trip to the thread pool for the `stat` (`nil`: always checked).
    /// - Throws: `SystemCallError` naming `directory` when it is not a directory Homing can use.
    public static func create(
        in directory: String, threadPool: NIOThreadPool, recentCheck: SpoolDirectoryCheck? = nil
    ) async throws -> MessageSpool {
        // The usual case: the directory was checked a moment ago and the message starts in
        // memory; memfd_create does not touch a file system, so it needs no blocking pool.
        if let recentCheck, recentCheck.isRecent {
            let memory = homing_memfd_create("homing-spool")
            if memory >= 0 {
                return MessageSpool(fileDescriptor: memory, inMemory: true, directory: directory, threadPool: threadPool)
            }
        }
        let (fd, inMemory) = try await threadPool.runIfActive { () throws -> (Int32, Bool) in
            // A wrong mail_temp_dir is reported with the first message, not the first large one.
            var info = stat()
            guard stat(directory, &info) == 0 else { throw SystemCallError("use the spool directory", path: directory) }
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw SystemCallError("use the spool directory", path: directory, errno: ENOTDIR)
            }
            recentCheck?.checked()
            let memory = homing_memfd_create("homing-spool")
            if memory >= 0 { return (memory, true) }
            let code = errno
            if code == EMFILE || code == ENFILE || code == ENOMEM {
                throw SystemCallError("create a spool file in memory", errno: code)
            }
            return (try openAnonymousFile(in: directory), false)
        }
        return MessageSpool(fileDescriptor: fd, inMemory: inMemory, directory: directory, threadPool: threadPool)
    }

    /// A readable and writable file in `directory` without a directory entry: `O_TMPFILE`, or
    /// where the file system lacks it, a `homing-spool.XXXXXX` file unlinked at once.
    static func openAnonymousFile(in directory: String, allowTmpfile: Bool = true) throws -> Int32 {
        let tmpfile = homing_o_tmpfile()
        if allowTmpfile && tmpfile != 0 {
            while true {
                let fd = Glibc.open(directory, tmpfile | O_RDWR | O_CLOEXEC, mode_t(0o600))
                if fd >= 0 { return fd }
                let code = errno
                if code == EINTR { continue }
                guard code == EOPNOTSUPP || code == EISDIR else {
                    throw SystemCallError("create a spool file", path: directory, errno: code)
                }
                break
            }
        }
        var template = Array((directory + "/" + fileNamePrefix + "XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            let fd = mkstemp(base)
            if fd >= 0 {
                _ = unlink(base)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
            return fd
        }
        if fd < 0 { throw SystemCallError("create a spool file", path: directory) }
        return fd
    }

    /// Removes the spool files an earlier Homing left in `directory` (a crash between creating
    /// and unlinking one, where `O_TMPFILE` is missing): regular files named
    /// `homing-spool.XXXXXX` and owned by this process's user. A spool file in use is only ever
    /// reached by its descriptor, so removing the name of one that another Homing has just
    /// created does no harm. Blocking.
    /// - Returns: what was removed (`name (size bytes)`) and what could not be looked at.
    public static func removeStaleFiles(in directory: String) -> (removed: [String], problems: [String]) {
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            return ([], ["cannot open mail_temp_dir \(directory): \(String(cString: strerror(errno)))"])
        }
        guard let stream = fdopendir(fd) else {
            _ = Glibc.close(fd)
            return ([], ["cannot read mail_temp_dir \(directory): \(String(cString: strerror(errno)))"])
        }
        defer { closedir(stream) }
        var removed: [String] = []
        var problems: [String] = []
        let owner = geteuid()
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name.hasPrefix(fileNamePrefix), name.utf8.count == fileNamePrefix.utf8.count + 6 else { continue }
            var info = stat()
            guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            guard (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == owner else { continue }
            if unlinkat(fd, name, 0) == 0 {
                removed.append("\(name) (\(info.st_size) bytes)")
            } else if errno != ENOENT {
                problems.append("cannot remove \(directory)/\(name): \(String(cString: strerror(errno)))")
            }
        }
        return (removed, problems)
    }

    /// Whether the message is still in memory (it is at most ``memoryLimit`` bytes so far).
    public var isInMemory: Bool { state.withLock { $0.inMemory } }

    /// Appends message bytes (line ends as the client sent them).
    public func write(_ bytes: ByteBuffer) async throws {
        let work: (chunk: [UInt8], offset: Int)? = try state.withLock { state in
            if state.closed { throw SystemCallError("write to a discarded spool", errno: EBADF) }
            let view = bytes.readableBytesView
            let start = state.pending.count
            state.normalizer.normalize(view, into: &state.pending)
            state.scanner.feed(state.pending[start...])
            guard state.pending.count >= Self.writeSize else { return nil }
            let chunk = state.pending
            state.pending = []
            state.pending.reserveCapacity(Self.writeSize + 4096)
            defer { state.offset += chunk.count }
            return (chunk, state.offset)
        }
        if let work { try await writeToFile(work.chunk, at: work.offset) }
    }

    /// Flushes what is left and describes the spooled message. Call once, after the last write.
    public func finish() async throws -> (message: SpooledMessage, headers: HeaderScanner) {
        let (chunk, offset, size, lineFeeds, headers) = state.withLock { state in
            state.normalizer.finish(into: &state.pending)
            state.scanner.finish()
            let chunk = state.pending
            state.pending = []
            let offset = state.offset
            state.offset += chunk.count
            return (chunk, offset, state.normalizer.size, state.normalizer.lineFeeds, state.scanner)
        }
        if !chunk.isEmpty { try await writeToFile(chunk, at: offset) }
        let fd = state.withLock { $0.fileDescriptor }
        return (SpooledMessage(fileDescriptor: fd, size: size, lineFeeds: lineFeeds), headers)
    }

    /// Closes the spool file; the kernel frees it. Safe to call more than once.
    public func discard() async {
        let fd = state.withLock { state -> Int32? in
            defer { state.closed = true }
            return state.closed ? nil : state.fileDescriptor
        }
        if let fd { _ = Glibc.close(fd) }
    }

    deinit {
        let fd = state.withLock { $0.closed ? nil : $0.fileDescriptor }
        if let fd { _ = Glibc.close(fd) }
    }

    /// Writes `chunk` at `offset`: into the file in memory on the calling thread (a copy into
    /// memory, like appending to an array), to `mail_temp_dir` on the thread pool. Writes come
    /// one after another (each is awaited before the next), so the file cannot change under
    /// one; the first that would take the message past ``memoryLimit`` first moves what is in
    /// memory to `mail_temp_dir`.
    private func writeToFile(_ chunk: [UInt8], at offset: Int) async throws {
        let (current, inMemory) = state.withLock { ($0.fileDescriptor, $0.inMemory) }
        let moves = inMemory && offset + chunk.count > Self.memoryLimit
        if inMemory, !moves {
            try chunk.withUnsafeBytes { try Self.writeAll($0, to: current, at: offset) }
            return
        }
        let directory = directory
        let fd = try await threadPool.runIfActive { () throws -> Int32 in
            var fd = current
            if moves {
                fd = try Self.openAnonymousFile(in: directory)
                do {
                    try Self.copy(from: current, to: fd, count: offset)
                } catch {
                    _ = Glibc.close(fd)
                    throw error
                }
            }
            try chunk.withUnsafeBytes { try Self.writeAll($0, to: fd, at: offset) }
            return fd
        }
        guard moves else { return }
        let unused = state.withLock { state -> Int32 in
            // Discarded meanwhile: discard() closed the file in memory; the new one is not needed.
            if state.closed { return fd }
            let old = state.fileDescriptor
            state.fileDescriptor = fd
            state.inMemory = false
            return old
        }
        _ = Glibc.close(unused)
    }

    private static func writeAll(_ chunk: UnsafeRawBufferPointer, to fd: Int32, at offset: Int) throws {
        var written = 0
        while written < chunk.count {
            let n = pwrite(fd, chunk.baseAddress.map { $0 + written }, chunk.count - written, off_t(offset + written))
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("write the spool file")
            }
            written += n
        }
    }

    /// Copies the first `count` bytes of `source` to the same place in `target`.
    private static func copy(from source: Int32, to target: Int32, count: Int) throws {
        var buffer = [UInt8](repeating: 0, count: writeSize)
        var copied = 0
        while copied < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                pread(source, raw.baseAddress, min(raw.count, count - copied), off_t(copied))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("read the spool in memory")
            }
            if n == 0 { throw SystemCallError("read the spool in memory", errno: EIO) }
            try buffer.withUnsafeBytes { try writeAll(UnsafeRawBufferPointer(rebasing: $0[0..<n]), to: target, at: copied) }
            copied += n
        }
    }
}

/// When a spool directory (`mail_temp_dir`) was last found to be a directory, for
/// ``MessageSpool/create(in:threadPool:recentCheck:)``: one per directory, kept by its user
/// (``LocalDelivery``). An atomic time stamp, so that spools created at once on several
/// threads read and set it without a lock.
public final class SpoolDirectoryCheck: Sendable {
    /// How long a check holds.
    public static let validity = Duration.seconds(10)
    /// `CLOCK_MONOTONIC` nanoseconds of the last check; `Int64.min`: never checked.
    private let lastChecked = Atomic<Int64>(.min)

    public init() {}

    /// Whether the directory was found to be one less than ``validity`` ago.
    var isRecent: Bool {
        let last = lastChecked.load(ordering: .acquiring)
        guard last != .min else { return false }
        return Self.now() - last < Self.validity.components.seconds * 1_000_000_000
    }

    /// The directory was just found to be one.
    func checked() {
        lastChecked.store(Self.now(), ordering: .releasing)
    }

    private static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
