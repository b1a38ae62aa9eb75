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

    /// The errno of a failed system call, if that is what happened.
    public var errno: Int32? {
        if case .system(_, _, let code) = self { return code }
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
            .invalidPath(let path, _), .system(_, let path, _):
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
        }
    }
}
