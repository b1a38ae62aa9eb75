import Glibc

/// A failed file operation on a maildir's quota data: which path, what was done, and the system error.
public struct MaildirSizeError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: Int32

    public init(path: String, operation: String, errno: Int32) {
        self.path = path
        self.operation = operation
        self.errno = errno
    }

    public var description: String {
        "\(operation)(\(path)) failed: \(String(cString: strerror(errno)))"
    }
}
