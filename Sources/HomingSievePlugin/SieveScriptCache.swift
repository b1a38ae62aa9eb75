import Glibc
import HomingDelivery
import HomingSieve
import Synchronization

/// Compiled Sieve scripts by path and compile options (extensions and scope), recompiled when
/// the file changes (device, inode, size or modification time differ). Shared by every
/// delivery; reading runs on the caller's thread (a delivery thread, as the user).
public final class SieveScriptCache: Sendable {
    /// A script from the cache.
    public struct Loaded: Sendable, Hashable {
        /// The compiled script (named after its file, `compiled.name`).
        public var script: SieveCompiledScript
        /// Whether it was compiled by this call (not found in the cache): its warnings are new.
        public var isNew: Bool
    }

    /// Why a script could not be used.
    public enum LoadError: Error, Sendable, CustomStringConvertible {
        /// The file exists but cannot be read (permissions, I/O error).
        case unreadable(path: String, reason: String)
        /// Larger than `sieve_max_script_size`.
        case tooLarge(path: String, size: Int, limit: Int)
        /// The script does not compile.
        case compile(path: String, failure: SieveCompileFailure)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): return "\(path): cannot read the script: \(reason)"
            case .tooLarge(let path, let size, let limit):
                return "\(path): the script is \(size) bytes, larger than sieve_max_script_size (\(limit))"
            case .compile(let path, let failure): return "\(path): \(failure)"
            }
        }
    }

    private struct Stamp: Hashable {
        var device: UInt64
        var inode: UInt64
        var size: Int
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
    }

    private struct Entry {
        var stamp: Stamp
        var script: SieveCompiledScript
    }

    private struct Key: Hashable {
        var path: String
        var options: SieveCompileOptions
    }

    private let entries = Mutex<[Key: Entry]>([:])
    private let capacity: Int

    /// Creates a cache holding up to `capacity` scripts (all are dropped when it is full).
    public init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The compiled script at `path` (at most `options.maxScriptSize` bytes), `nil` when there
    /// is no such file.
    public func load(_ path: String, options: SieveCompileOptions) throws(LoadError) -> Loaded? {
        let maxSize = options.maxScriptSize > 0 ? options.maxScriptSize : Int.max - 1
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw .unreadable(path: path, reason: String(cString: strerror(code)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path: path, reason: "not a regular file") }
        let stamp = Stamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int(info.st_size),
            modifiedSeconds: Int(info.st_mtim.tv_sec), modifiedNanoseconds: Int(info.st_mtim.tv_nsec))
        let key = Key(path: path, options: options)
        if let cached = entries.withLock({ $0[key] }), cached.stamp == stamp { return Loaded(script: cached.script, isNew: false) }
        guard stamp.size <= maxSize else { throw .tooLarge(path: path, size: stamp.size, limit: maxSize) }
        var bytes = [UInt8](repeating: 0, count: stamp.size + 1)
        var total = 0
        while total < bytes.count {
            let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + total, $0.count - total, off_t(total)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            total += count
        }
        guard total <= maxSize else { throw .tooLarge(path: path, size: total, limit: maxSize) }
        let script = try Self.compile(Array(bytes[0..<total]), path: path, options: options)
        entries.withLock { cache in
            if cache.count >= capacity { cache.removeAll() }
            cache[key] = Entry(stamp: stamp, script: script)
        }
        return Loaded(script: script, isNew: true)
    }

    /// Compiles script bytes; invalid UTF-8 is a compile error at the line where it occurs. The
    /// script is named after its file (`compiled.name`).
    static func compile(_ bytes: [UInt8], path: String, options: SieveCompileOptions) throws(LoadError) -> SieveCompiledScript {
        let source: String
        do {
            source = try SieveCompiledScript.decodeSource(bytes)
        } catch {
            throw .compile(path: path, failure: SieveCompileFailure(errors: [error], parseFailed: true))
        }
        switch SieveCompileFailure.compile(source, options: options) {
        case .success(var script):
            script.name = SieveScriptReport.scriptName(path)
            return script
        case .failure(let failure):
            throw .compile(path: path, failure: failure)
        }
    }
}
