import Glibc
import HomingConfig

/// An `flock(2)` on a directory, shared or exclusive. Locks taken through separate `open`s
/// exclude each other across processes and across threads of one process alike.
struct DirectoryLock {
    private let fd: Int32

    init(path: String, exclusive: Bool) throws(SystemCallError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError("open", path: path, errno: errno) }
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            throw SystemCallError("flock", path: path, errno: code)
        }
        self.fd = fd
    }

    /// Releases the lock (closing the descriptor drops it).
    func release() {
        close(fd)
    }
}
