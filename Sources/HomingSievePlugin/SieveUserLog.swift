import Foundation
import Glibc
import HomingDelivery
import HomingMaildir
import Synchronization

/// The user's Sieve log (`sieve_user_log`, by default next to the active script:
/// `~/.dovecot.sieve.log`), where errors and warnings of their own script are written so that
/// they can see them, as Pigeonhole writes them: each delivery that has something to say
/// appends `sieve: info: started log at <local time>.` and its lines (`.dovecot: line 2: error:
/// ...`, `warning: ...`). Written as the user, appended, never following a symlink; past 10 KiB
/// the log starts over (the old one is kept as `<log>.0`), as in Pigeonhole.
struct SieveUserLog {
    var path: String?
    var identity: FilesystemIdentity?

    /// Pigeonhole's `LOGFILE_MAX_SIZE`.
    static let maximumSize = 10 * 1024

    /// Appends one delivery's `lines` (each a complete message ending with `.`). Failures are
    /// ignored: the server log has the errors too.
    func write(_ lines: [String]) {
        guard let path, !lines.isEmpty else { return }
        let text = Self.entry(lines, date: Date())
        _ = try? FilesystemIdentity.withIdentity(identity) { () -> Void in
            var info = stat()
            if lstat(path, &info) == 0, Int(info.st_size) >= Self.maximumSize {
                _ = rename(path, path + ".0")
            }
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return }
            defer { close(fd) }
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        }
    }

    /// What one delivery appends: Pigeonhole's opening line, then `lines`, one per line.
    static func entry(_ lines: [String], date: Date) -> String {
        (["sieve: info: started log at \(timestamp(date))."] + lines).map { $0 + "\n" }.joined()
    }

    /// `2026-11-25 12:00:00 +0100`: local time with its offset (`%Y-%m-%d %H:%M:%S %z`).
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S %z", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The lines one delivery has for the user's log, collected while the scripts run (an
/// included script's warnings arrive from the include loader) and written at the end.
final class SieveLogLines: Sendable {
    private let collected = Mutex<[String]>([])

    /// Adds lines.
    func append(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        collected.withLock { $0 += lines }
    }

    /// Everything added so far.
    var lines: [String] { collected.withLock { $0 } }
}
