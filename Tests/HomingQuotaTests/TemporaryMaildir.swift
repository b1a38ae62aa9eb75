import Foundation
import Glibc
import HomingTestSupport

/// A unique temporary maildir (`cur/ new/ tmp/`), removed when dropped.
final class TemporaryMaildir: Sendable {
    private let directory: TemporaryDirectory

    init(_ label: String = #function) throws {
        directory = try TemporaryDirectory("quota-" + label)
        for sub in ["cur", "new", "tmp"] { try makeDirectory(path + "/" + sub) }
    }

    var path: String { directory.path }

    /// Creates `folder` (a Maildir++ `.name`, or "" for INBOX) with cur/ new/ tmp/.
    func makeFolder(_ name: String) throws {
        let folder = path + "/." + name
        try makeDirectory(folder)
        for sub in ["cur", "new", "tmp"] { try makeDirectory(folder + "/" + sub) }
    }

    /// Writes a message file of `size` bytes named `name` into `folder`/`sub` ("" folder = INBOX).
    func addMessage(folder: String = "", sub: String = "new", name: String, size: Int) throws {
        let directory = (folder.isEmpty ? path : path + "/." + folder) + "/" + sub
        let bytes = Data(repeating: 0x61, count: size)
        guard FileManager.default.createFile(atPath: directory + "/" + name, contents: bytes) else {
            throw QuotaTestFailure("cannot write \(directory)/\(name)")
        }
    }

    func write(_ text: String, to name: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + name))
    }

    func read(_ name: String) throws -> String {
        try String(contentsOfFile: path + "/" + name, encoding: .utf8)
    }

    private func makeDirectory(_ path: String) throws {
        guard mkdir(path, 0o700) == 0 else { throw QuotaTestFailure("mkdir \(path): errno \(errno)") }
    }
}

struct QuotaTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
