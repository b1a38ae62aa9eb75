import Glibc

/// Reading and replacing Dovecot's small control files in a user's maildir (`subscriptions`,
/// `dovecot-keywords`), relative to an open directory descriptor and never through a symlink.
enum MaildirControlFile {
    /// The contents of `name` in `directory`, `nil` when there is no such file. A symlink, a
    /// file that is not regular or one larger than `limit` bytes is an error.
    /// - Parameter path: the directory's path, for messages.
    static func read(_ name: String, in directory: Int32, path: String, limit: Int) throws(MaildirError) -> [UInt8]? {
        let full = path + "/" + name
        var fd: Int32
        repeat {
            fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        } while fd < 0 && errno == EINTR
        if fd < 0 {
            switch errno {
            case ENOENT: return nil
            case ELOOP: throw .symlinkNotAllowed(path: full)
            case let code: throw .system(operation: "open", path: full, errno: code)
            }
        }
        let file = OwnedDescriptor(fd)
        var info = stat()
        guard fstat(file.raw, &info) == 0 else { throw .system(operation: "fstat", path: full, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .invalidDestination(reason: "\(full) is not a regular file") }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(file.raw, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "read", path: full, errno: errno)
            }
            if count == 0 { return bytes }
            bytes += buffer[0..<count]
            if bytes.count > limit {
                throw .invalidDestination(reason: "\(full) is larger than \(limit) bytes")
            }
        }
    }

    /// The modification time (seconds) of `name` in `directory`, `nil` when it does not exist.
    static func modificationTime(_ name: String, in directory: Int32) -> Int? {
        var info = stat()
        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return Int(info.st_mtim.tv_sec)
    }

    /// Makes `bytes` the contents of `file`: writes them into its dot-lock `lock` (created by
    /// ``MaildirDotLock/create(for:in:path:timing:writePID:)``), gives it a modification time
    /// after `newerThan` (Dovecot notices changes by the second), syncs it, and renames it over
    /// the file. On failure the lock is removed and the file is unchanged.
    static func commit(
        _ bytes: [UInt8], lock: consuming OwnedDescriptor, for file: String, in directory: Int32, path: String,
        fsync: Bool, newerThan previous: Int?
    ) throws(MaildirError) {
        let lockPath = path + "/" + file + ".lock"
        do throws(MaildirError) {
            try writeAll(bytes, to: lock.raw, path: lockPath)
            if let previous {
                var info = stat()
                if fstat(lock.raw, &info) == 0, Int(info.st_mtim.tv_sec) <= previous {
                    var times = [
                        timespec(tv_sec: info.st_atim.tv_sec, tv_nsec: info.st_atim.tv_nsec),
                        timespec(tv_sec: previous + 1, tv_nsec: 0),
                    ]
                    if futimens(lock.raw, &times) != 0 { throw .system(operation: "futimens", path: lockPath, errno: errno) }
                }
            }
            if fsync, Glibc.fsync(lock.raw) != 0 { throw .system(operation: "fsync", path: lockPath, errno: errno) }
            if let code = lock.close() { throw .system(operation: "close", path: lockPath, errno: code) }
        } catch {
            MaildirDotLock.remove(for: file, in: directory)
            throw error
        }
        try MaildirDotLock.commit(for: file, in: directory, path: path)
        if fsync, Glibc.fsync(directory) != 0 { throw .system(operation: "fsync", path: path, errno: errno) }
    }

    /// Writes all of `bytes` to `fd`.
    static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws(MaildirError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "write", path: path, errno: errno)
            }
            if written == 0 { throw .system(operation: "write", path: path, errno: EIO) }
            offset += written
        }
    }
}
