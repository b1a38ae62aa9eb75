import Foundation
import Glibc
import HomingDelivery
import HomingFileSystem
import HomingMaildir

/// The user's Sieve log (`sieve_user_log`, by default next to the active script:
/// `~/.dovecot.sieve.log`), where errors in their own script are written so that they can see
/// them, as Pigeonhole does. Written as the user, appended, through its directory's descriptor:
/// inside the home nothing on the way may be a symbolic link (outside it, the log file itself
/// may not be one). Past 1 MiB the log starts over (the old one is kept as `<log>.0`).
struct SieveUserLog {
    var path: String?
    var home: String?
    var identity: FilesystemIdentity?

    static let maximumSize = 1 << 20

    /// Appends `line` with a timestamp. Failures are ignored (the server log has the error
    /// too), except a symbolic link where none may be: nothing is written through it, and that
    /// refusal is returned so that the delivery is deferred.
    @discardableResult
    func write(_ line: String) -> FileAccessError? {
        guard let path, let location = try? TreePath(path, home: home), let name = location.components.last else {
            return nil
        }
        let directory = TreePath(base: location.base, components: Array(location.components.dropLast()))
        let text = "\(Self.timestamp(Date())) \(line)\n"
        let outcome = try? FilesystemIdentity.withIdentity(identity) { () throws(FileAccessError) -> Void in
            let folder = try TreeDirectory.open(directory)
            if let info = try folder.status(of: name) {
                if (info.st_mode & S_IFMT) == S_IFLNK { throw .symlinkNotAllowed(path: folder.child(name)) }
                if Int(info.st_size) > Self.maximumSize { try? folder.rename(name, to: folder, as: name + ".0") }
            }
            let file = try folder.openFile(name, flags: O_WRONLY | O_APPEND | O_CREAT, mode: 0o600)
            let bytes = Array(text.utf8)
            let fd = file.raw
            _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        }
        if case .failure(let error) = outcome, case .symlinkNotAllowed = error { return error }
        return nil
    }

    /// `2026-11-25 12:00:00` in UTC.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}
