import Foundation
import Glibc
@testable import HomingMaildir
import HomingTestSupport

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A spool file holding `bytes`, open for reading; the descriptor closes when dropped.
final class SpoolFile {
    let message: SpooledMessage
    let path: String

    init(in directory: String, bytes: [UInt8], claimedSize: Int? = nil) throws {
        path = directory + "/spool-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw TestFailure("cannot create spool \(path)")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TestFailure("cannot open spool \(path)") }
        let lineFeeds = bytes.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
        message = SpooledMessage(fileDescriptor: fd, size: claimedSize ?? bytes.count, lineFeeds: lineFeeds)
    }

    init(path: String, size: Int, lineFeeds: Int) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TestFailure("cannot open spool \(path)") }
        message = SpooledMessage(fileDescriptor: fd, size: size, lineFeeds: lineFeeds)
    }

    deinit {
        close(message.fileDescriptor)
    }
}

/// stat(2) without following symlinks.
func fileStatus(_ path: String) throws -> stat {
    var info = stat()
    guard lstat(path, &info) == 0 else { throw TestFailure("lstat(\(path)) failed: errno \(errno)") }
    return info
}

func permissions(_ path: String) throws -> mode_t {
    try fileStatus(path).st_mode & 0o7777
}

func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}

func entries(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

func contents(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw TestFailure("cannot read \(path)") }
    return Array(data)
}

func makeDirectory(_ path: String, mode: mode_t = 0o700) throws {
    guard mkdir(path, mode) == 0 else { throw TestFailure("mkdir(\(path)) failed: errno \(errno)") }
}

func makeSymlink(_ target: String, at path: String) throws {
    guard symlink(target, path) == 0 else { throw TestFailure("symlink(\(path)) failed: errno \(errno)") }
}

let isRoot = geteuid() == 0
