import Foundation
import Glibc
import HomingDelivery
import HomingMaildir

/// The user's Sieve log (`sieve_user_log`, by default next to the active script:
/// `~/.dovecot.sieve.log`), where errors in their own script are written so that they can see
/// them, as Pigeonhole does. Written as the user, appended, never following a symlink; past
/// 1 MiB the log starts over (the old one is kept as `<log>.0`).
struct SieveUserLog {
    var path: String?
    var identity: FilesystemIdentity?

    static let maximumSize = 1 << 20

    /// Appends `line` with a timestamp. Failures are ignored: the server log has the error too.
    func write(_ line: String) {
        guard let path else { return }
        _ = try? FilesystemIdentity.withIdentity(identity) { () -> Void in
            var info = stat()
            if lstat(path, &info) == 0, Int(info.st_size) > Self.maximumSize {
                _ = rename(path, path + ".0")
            }
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return }
            defer { close(fd) }
            let text = "\(Self.timestamp(Date())) \(line)\n"
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        }
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
