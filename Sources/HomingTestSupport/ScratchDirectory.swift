import Foundation
import Glibc

/// A fresh directory under /tmp for one test, removed by `remove()`.
/// Mode 0755 so that users a test delivers as can reach what is below it.
public struct ScratchDirectory: Sendable {
    public let path: String

    /// Creates `/tmp/<label>.XXXXXX`; characters other than letters, digits, `-` and `_` in
    /// `label` are dropped (so `#function` can be passed).
    public init(_ label: String = "homing-test") throws {
        let safe = String(label.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }.prefix(60))
        var template = Array("/tmp/\(safe.isEmpty ? "homing-test" : safe).XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        guard let made else {
            throw ScratchDirectoryError(message: "mkdtemp: \(String(cString: strerror(errno)))")
        }
        path = made
        chmod(path, 0o755)
    }

    /// `path/relative`.
    public func file(_ relative: String) -> String { path + "/" + relative }

    /// Writes `text` to `path/relative`, creating parent directories. `atomically` writes a new
    /// file and renames it over the old one (a new inode), as editors and `install` do.
    @discardableResult
    public func write(_ relative: String, _ text: String, atomically: Bool = false) throws -> String {
        let full = file(relative)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // Written through a close-on-exec descriptor: a process another test forks meanwhile
        // must not inherit it, or executing this file (a script) fails with ETXTBSY.
        let target = atomically ? full + ".tmp-\(getpid())" : full
        let descriptor = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw TestClientError(message: "open(\(target)): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                close(descriptor)
                throw TestClientError(message: "write(\(target)): \(String(cString: strerror(errno)))")
            }
            written += count
        }
        close(descriptor)
        if atomically, rename(target, full) != 0 {
            throw TestClientError(message: "rename(\(target), \(full)): \(String(cString: strerror(errno)))")
        }
        return full
    }

    /// Creates `path/relative` (and its parents) with `mode`.
    @discardableResult
    public func makeDirectory(_ relative: String, mode: mode_t = 0o700) throws -> String {
        let full = file(relative)
        try FileManager.default.createDirectory(
            atPath: full, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(mode)])
        return full
    }

    /// Removes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A ``ScratchDirectory`` removed when the last reference to it goes away.
public final class TemporaryDirectory: Sendable {
    /// The directory.
    public let scratch: ScratchDirectory

    /// Creates one (see ``ScratchDirectory/init(_:)`` for `label`).
    public init(_ label: String = #function) throws {
        scratch = try ScratchDirectory("homing-" + label)
    }

    /// Its path.
    public var path: String { scratch.path }

    deinit { scratch.remove() }
}

public struct ScratchDirectoryError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
