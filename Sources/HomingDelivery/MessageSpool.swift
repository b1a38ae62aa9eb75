import Glibc
import HomingConfig
import HomingMaildir
import NIOCore
import NIOPosix
import Synchronization

/// Where an incoming message waits between DATA and the end of delivery: an unlinked file in
/// `mail_temp_dir`, written in 64 KiB pieces on the thread pool as the message arrives, with
/// CRLF turned into LF. Never holds the message in memory.
public final class MessageSpool: Sendable {
    /// Bytes gathered before one write to the file.
    static let writeSize = 64 * 1024

    private struct State {
        var normalizer = LineEndingNormalizer()
        var scanner = HeaderScanner()
        var pending: [UInt8] = []
        var offset = 0
        var closed = false
    }

    private let fileDescriptor: Int32
    private let threadPool: NIOThreadPool
    private let state = Mutex(State())

    private init(fileDescriptor: Int32, threadPool: NIOThreadPool) {
        self.fileDescriptor = fileDescriptor
        self.threadPool = threadPool
    }

    /// Creates an anonymous spool file in `directory`.
    public static func create(in directory: String, threadPool: NIOThreadPool) async throws -> MessageSpool {
        let fd = try await threadPool.runIfActive { () throws -> Int32 in
            var template = Array((directory + "/homing-spool.XXXXXX").utf8CString)
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
        return MessageSpool(fileDescriptor: fd, threadPool: threadPool)
    }

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
        return (SpooledMessage(fileDescriptor: fileDescriptor, size: size, lineFeeds: lineFeeds), headers)
    }

    /// Closes the spool file; the kernel frees it. Safe to call more than once.
    public func discard() async {
        let close = state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        if close { _ = Glibc.close(fileDescriptor) }
    }

    deinit {
        let open = state.withLock { !$0.closed }
        if open { _ = Glibc.close(fileDescriptor) }
    }

    private func writeToFile(_ chunk: [UInt8], at offset: Int) async throws {
        let fd = fileDescriptor
        try await threadPool.runIfActive { () throws in
            var written = 0
            while written < chunk.count {
                let n = chunk.withUnsafeBytes { raw in
                    pwrite(fd, raw.baseAddress.map { $0 + written }, chunk.count - written, off_t(offset + written))
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SystemCallError("write the spool file")
                }
                written += n
            }
        }
    }
}
