import Foundation
import Glibc

/// A fresh directory under /tmp for one test, removed by `remove()`.
/// Mode 0755 so that users a test delivers as can reach what is below it.
public struct ScratchDirectory: Sendable {
    public let path: String

    public init(_ label: String = "homing-test") throws {
        var template = Array("/tmp/\(label).XXXXXX".utf8CString)
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

    /// Writes `text` to `path/relative`, creating parent directories.
    @discardableResult
    public func write(_ relative: String, _ text: String) throws -> String {
        let full = file(relative)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
        return full
    }

    /// Removes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

public struct ScratchDirectoryError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
