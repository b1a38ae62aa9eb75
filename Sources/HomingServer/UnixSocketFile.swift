import Glibc

/// The file of a unix socket listener: what may be done with one that is already there.
enum UnixSocketFile {
    /// Which file a path names (device and inode), to tell our socket from a newer one.
    struct Identity: Sendable, Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// The identity of the file at `path`, if there is one.
    static func identity(of path: String) -> Identity? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Makes `path` free for binding: nothing there is fine; a socket nobody answers on (left
    /// by a process that died) is removed; a socket a live process answers on, or anything that
    /// is not a socket, is left alone and binding fails with a message saying so.
    static func prepare(_ path: String, for listener: LMTPListener) throws(ListenerError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw ListenerError(listener: listener, message: "\(path) exists and is not a socket: remove it or change the unix_listener path")
        }
        switch probe(path) {
        case .answers:
            throw ListenerError(
                listener: listener,
                message: "another process answers on \(path) (a running Homing or Dovecot?): stop it first, or use another path")
        case .stale:
            if unlink(path) != 0 && errno != ENOENT {
                throw ListenerError(listener: listener, message: "cannot remove the stale socket \(path): \(String(cString: strerror(errno)))")
            }
        case .unknown(let reason):
            throw ListenerError(listener: listener, message: "cannot tell whether \(path) is in use (\(reason)): not replacing it")
        }
    }

    private enum Probe {
        case answers
        case stale
        case unknown(String)
    }

    /// Connects to the socket to see whether a process listens on it.
    private static func probe(_ path: String) -> Probe {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .unknown(String(cString: strerror(errno))) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return .unknown("path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result == 0 { return .answers }
        switch errno {
        case ECONNREFUSED, ENOENT: return .stale
        case EAGAIN: return .answers  // its backlog is full: someone listens
        default: return .unknown(String(cString: strerror(errno)))
        }
    }
}
