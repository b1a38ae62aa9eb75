import Glibc
import HomingFileSystem

/// Reading and replacing Dovecot's small control files in a user's maildir (`subscriptions`,
/// `dovecot-keywords`) through the directory's ``HomingFileSystem/TreeDirectory``: never
/// through a symbolic link.
enum MaildirControlFile {
    /// The contents of `name` in `directory`, `nil` when there is no such file. A link, a file
    /// that is not regular or one larger than `limit` bytes is an error.
    static func read(_ name: String, in directory: borrowing TreeDirectory, limit: Int) throws(MaildirError) -> [UInt8]? {
        let full = directory.child(name)
        let opened: OwnedDescriptor?
        do {
            opened = try directory.openExistingFile(name, flags: O_RDONLY)
        } catch {
            throw MaildirError(error)
        }
        guard let file = opened else { return nil }
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
    static func modificationTime(_ name: String, in directory: borrowing TreeDirectory) -> Int? {
        guard let info = try? directory.status(of: name) else { return nil }
        return Int(info.st_mtim.tv_sec)
    }

    /// Makes `bytes` the contents of `file`: writes them into its dot-lock `lock` (created by
    /// ``MaildirDotLock/create(for:in:timing:writePID:)``), gives it a modification time after
    /// `newerThan` (Dovecot notices changes by the second), syncs it, and renames it over the
    /// file. On failure the lock is removed and the file is unchanged.
    static func commit(
        _ bytes: [UInt8], lock: consuming OwnedDescriptor, for file: String, in directory: borrowing TreeDirectory,
        fsync: Bool, newerThan previous: Int?
    ) throws(MaildirError) {
        let lockPath = directory.child(file + ".lock")
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
        try MaildirDotLock.commit(for: file, in: directory)
        if fsync {
            do {
                try directory.sync()
            } catch {
                throw MaildirError(error)
            }
        }
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
