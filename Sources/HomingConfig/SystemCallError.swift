#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call that failed: what was being done, on which path, and the `errno`, read as
/// `open(/var/vmail/x/maildirsize) failed: Permission denied`.
public struct SystemCallError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The call or the operation (`open`, `flock`, `write the spool file`).
    public var operation: String
    /// The path it was done on, when there is one.
    public var path: String?
    /// The error number.
    public var errno: Int32

    /// Describes a failed `operation`; `errno` defaults to the thread's current value.
    public init(_ operation: String, path: String? = nil, errno code: Int32 = currentErrno()) {
        self.operation = operation
        self.path = path
        self.errno = code
    }

    public var description: String {
        let target = path.map { "(\($0))" } ?? ""
        return "\(operation)\(target) failed: \(String(cString: strerror(errno)))"
    }

    /// The disk or the file system quota is full.
    public var isOutOfSpace: Bool { errno == ENOSPC || errno == EDQUOT }
}

/// The calling thread's `errno`.
public func currentErrno() -> Int32 { errno }
