import CHomingLinux
import Glibc

/// How a name below a directory descriptor is opened without following symbolic links.
///
/// On Linux 5.6 and later `openat2(2)` resolves a whole relative path in the kernel with
/// `RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`: no link at any level, no
/// way out of the starting directory. Where it is missing (an older kernel, a seccomp filter
/// that refuses it) every level is opened by itself with `openat(O_NOFOLLOW)`, which gives the
/// same guarantee one component at a time.
public enum LinkFreeResolution: Sendable, Hashable, CustomStringConvertible {
    /// `openat2(2)` with `RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`.
    case openat2
    /// `openat(2)` with `O_NOFOLLOW`, one component at a time.
    case noFollowPerComponent

    /// What this system supports, found out once per process by trying `openat2` on `/`.
    public static let available: LinkFreeResolution = probe()

    public var description: String {
        switch self {
        case .openat2: return "openat2(RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH)"
        case .noFollowPerComponent: return "openat(O_NOFOLLOW) per component"
        }
    }

    static let resolveFlags = UInt64(HOMING_RESOLVE_NO_SYMLINKS | HOMING_RESOLVE_BENEATH | HOMING_RESOLVE_NO_MAGICLINKS)

    private static func probe() -> LinkFreeResolution {
        let fd = homing_openat2(AT_FDCWD, "/", UInt64(O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0, UInt64(HOMING_RESOLVE_NO_SYMLINKS))
        guard fd >= 0 else { return .noFollowPerComponent }
        _ = Glibc.close(fd)
        return .openat2
    }

    /// Opens `relativePath` (one name, or names joined by `/` for ``openat2`` only) below
    /// `directory`, never following a link. Returns the descriptor, or -1 and the errno
    /// (`ELOOP` for a link, `EXDEV` for a path that would leave the directory).
    func open(in directory: Int32, _ relativePath: String, flags: Int32, mode: mode_t) -> (fd: Int32, errno: Int32) {
        while true {
            let fd: Int32
            switch self {
            case .openat2:
                let creates = flags & O_CREAT != 0 || (homing_o_tmpfile() != 0 && flags & homing_o_tmpfile() == homing_o_tmpfile())
                fd = homing_openat2(
                    directory, relativePath, UInt64(UInt32(bitPattern: flags | O_CLOEXEC | O_NOFOLLOW)),
                    creates ? UInt64(mode) : 0, Self.resolveFlags)
            case .noFollowPerComponent:
                fd = openat(directory, relativePath, flags | O_CLOEXEC | O_NOFOLLOW, mode)
            }
            if fd >= 0 { return (fd, 0) }
            let code = Glibc.errno
            // EAGAIN: openat2 saw a concurrent rename while resolving; try again.
            if code == EINTR || (code == EAGAIN && self == .openat2) { continue }
            return (-1, code)
        }
    }
}
