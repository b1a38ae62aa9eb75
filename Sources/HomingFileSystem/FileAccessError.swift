import Glibc

/// Why a file or directory below a trusted base could not be reached or changed.
public enum FileAccessError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A symbolic link was found where the walk allows none (below the trusted base).
    case symlinkNotAllowed(path: String)
    /// Something other than a directory sits where a directory must be.
    case notADirectory(path: String)
    /// Something other than a regular file (a FIFO, a device, a directory) sits where a file must be.
    case notARegularFile(path: String)
    /// The path cannot be walked: not absolute, a `..` level, a name with `/` or NUL in it.
    case invalidPath(path: String, reason: String)
    /// A system call failed: `operation` (`open`, `mkdir`, `rename`, ...), the path, errno.
    case system(operation: String, path: String, errno: Int32)
    /// A system call was refused with `EACCES`: as ``system(operation:path:errno:)``, with
    /// Dovecot's explanation of which permission is missing where (``PermissionExplanation``).
    case permissionDenied(operation: String, path: String, explanation: String)
    /// Another process (or thread) held the lock on `path` for longer than the bounded wait
    /// (`seconds`, from `mail_max_lock_timeout`). Trying again later may succeed.
    case lockTimeout(path: String, seconds: Double)

    /// The error for a failed system call: with `EACCES`, the permission that is missing,
    /// worked out now, as the identity that failed.
    public static func failed(operation: String, path: String, errno code: Int32) -> FileAccessError {
        guard code == EACCES else { return .system(operation: operation, path: path, errno: code) }
        let creating = ["mkdir", "mkdirat", "create", "link", "linkat", "rename", "renameat", "mkstemp", "open(O_CREAT)"]
            .contains(operation)
        return .permissionDenied(
            operation: operation, path: path,
            explanation: PermissionExplanation.explain(path: path, creating: creating))
    }

    /// The errno of a failed system call, if that is what happened.
    public var errno: Int32? {
        if case .system(_, _, let code) = self { return code }
        if case .permissionDenied = self { return EACCES }
        return nil
    }

    /// The file or directory does not exist (`ENOENT`).
    public var isNotFound: Bool { errno == ENOENT }

    /// The file system is full or the user's file system quota is exhausted.
    public var isOutOfSpace: Bool { errno == ENOSPC || errno == EDQUOT }

    /// The path the error is about.
    public var path: String {
        switch self {
        case .symlinkNotAllowed(let path), .notADirectory(let path), .notARegularFile(let path),
            .invalidPath(let path, _), .system(_, let path, _), .permissionDenied(_, let path, _),
            .lockTimeout(let path, _):
            return path
        }
    }

    public var description: String {
        switch self {
        case .symlinkNotAllowed(let path):
            return "symlink not allowed: \(path) (nothing below the home directory or the mail root may be a symbolic link)"
        case .notADirectory(let path):
            return "not a directory: \(path)"
        case .notARegularFile(let path):
            return "not a regular file: \(path)"
        case .invalidPath(let path, let reason):
            return "invalid path \(String(reflecting: path)): \(reason)"
        case .system(let operation, let path, let code):
            return "\(operation)(\(path)) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .permissionDenied(let operation, let path, let explanation):
            return "\(operation)(\(path)) failed: Permission denied (\(explanation))"
        case .lockTimeout(let path, let seconds):
            return "flock(\(path)) timed out after \(Self.format(seconds)) s: another process holds the lock "
                + "(raise mail_max_lock_timeout, or find the process holding it)"
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
