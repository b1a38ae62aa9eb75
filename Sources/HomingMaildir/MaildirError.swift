import Glibc
import HomingFileSystem

/// Why a message could not be stored in a maildir. Nothing is left behind in `tmp/`, `new/` or
/// `cur/` when one of these is thrown.
public enum MaildirError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The folder does not exist and the destination does not allow creating it.
    case mailboxDoesNotExist(path: String)
    /// A symlink was found below the trusted base (inside the home, or the maildir itself).
    case symlinkNotAllowed(path: String)
    /// Something other than a directory sits where a directory must be.
    case notADirectory(path: String)
    /// Something other than a regular file (a FIFO, a device) sits where a file must be.
    case notARegularFile(path: String)
    /// A system call failed: `operation` (`open`, `mkdir`, `write`, `fsync`, ...), the path, errno.
    case system(operation: String, path: String, errno: Int32)
    /// A system call was refused with `EACCES`, with the missing permission explained as Dovecot
    /// does (`euid=5000(vmail) egid=5000(vmail) missing +w perm: /var/vmail, dir owned by 0:0 mode=0755`).
    case permissionDenied(operation: String, path: String, explanation: String)
    /// The spool did not hold `expected` bytes (it held `actual`, or more when `actual > expected`).
    case spoolSizeMismatch(expected: Int, actual: Int)
    /// The destination itself is unusable (relative path, folder outside the tree root, ...).
    case invalidDestination(reason: String)
    /// The maildir flags are not letters.
    case invalidFlags(String)
    /// No unused file name was found after many attempts.
    case uniqueNameExhausted(directory: String)
    /// The delivery could not act as the user.
    case identity(FilesystemIdentityError)
    /// A dot-lock (`dovecot-uidlist.lock`, `subscriptions.lock`) stayed held by someone else.
    case lockTimeout(path: String)

    /// True when trying again later may succeed (disk full, I/O error, permissions the administrator
    /// can fix): the delivery layer answers 4xx. False for a missing folder or a bad request.
    public var isTemporary: Bool {
        switch self {
        case .mailboxDoesNotExist, .invalidDestination, .invalidFlags:
            return false
        case .symlinkNotAllowed, .notADirectory, .notARegularFile, .system, .permissionDenied, .spoolSizeMismatch,
            .uniqueNameExhausted, .identity, .lockTimeout:
            return true
        }
    }

    /// True when the file system is full or the user's file system quota is exhausted
    /// (`ENOSPC`, `EDQUOT`); Dovecot reports these as "Not enough disk space".
    public var isOutOfSpace: Bool {
        if case .system(_, _, let code) = self { return code == ENOSPC || code == EDQUOT }
        return false
    }

    /// The errno of a failed system call, if that is what happened.
    public var errno: Int32? {
        if case .system(_, _, let code) = self { return code }
        if case .permissionDenied = self { return EACCES }
        return nil
    }

    /// The error for a failed system call: with `EACCES`, the missing permission, worked out
    /// now, as the identity that failed.
    static func failed(operation: String, path: String, errno code: Int32) -> MaildirError {
        MaildirError(FileAccessError.failed(operation: operation, path: path, errno: code))
    }

    public var description: String {
        // The cases shared with FileAccessError say what it says (the texts live there).
        switch self {
        case .symlinkNotAllowed(let path):
            return FileAccessError.symlinkNotAllowed(path: path).description
        case .notADirectory(let path):
            return FileAccessError.notADirectory(path: path).description
        case .notARegularFile(let path):
            return FileAccessError.notARegularFile(path: path).description
        case .system(let operation, let path, let code):
            return FileAccessError.system(operation: operation, path: path, errno: code).description
        case .permissionDenied(let operation, let path, let explanation):
            return FileAccessError.permissionDenied(operation: operation, path: path, explanation: explanation).description
        case .mailboxDoesNotExist(let path):
            return "mailbox does not exist: \(path)"
        case .spoolSizeMismatch(let expected, let actual):
            if actual > expected {
                return "spool file is longer than the \(expected) bytes expected"
            }
            return "spool file ended after \(actual) of \(expected) bytes"
        case .invalidDestination(let reason):
            return "invalid maildir destination: \(reason)"
        case .invalidFlags(let flags):
            return "invalid maildir flags \(String(reflecting: flags)): only letters are allowed"
        case .uniqueNameExhausted(let directory):
            return "could not find an unused file name in \(directory)"
        case .identity(let error):
            return error.description
        case .lockTimeout(let path):
            return "timeout waiting for the lock \(path)"
        }
    }
}
