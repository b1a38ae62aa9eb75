import Foundation
import Glibc
import HomingDelivery
import HomingFileSystem
import HomingMaildir
import Synchronization

/// The user's Sieve log (`sieve_user_log`, by default next to the active script:
/// `~/.dovecot.sieve.log`), where errors and warnings of their own script are written so that
/// they can see them, as Pigeonhole writes them: each delivery that has something to say
/// appends `sieve: info: started log at <local time>.` and its lines (`.dovecot: line 2: error:
/// ...`, `warning: ...`). Written as the user, appended, through its directory's descriptor:
/// inside the home nothing on the way may be a symbolic link (outside it, the log file itself
/// may not be one). Past 10 KiB the log starts over (the old one is kept as `<log>.0`), as in
/// Pigeonhole.
struct SieveUserLog {
    var path: String?
    var home: String?
    var identity: FilesystemIdentity?

    /// Pigeonhole's `LOGFILE_MAX_SIZE`.
    static let maximumSize = 10 * 1024

    /// Appends one delivery's `lines` (each a complete message ending with `.`; nothing when
    /// there are none). Failures are ignored (the server log has the errors too), except a
    /// symbolic link where none may be: nothing is written through it, and that refusal is
    /// returned so that the delivery is deferred.
    @discardableResult
    func write(_ lines: [String]) -> FileAccessError? {
        guard !lines.isEmpty, let path, let location = try? TreePath(path, home: home),
            let name = location.components.last
        else {
            return nil
        }
        let directory = TreePath(base: location.base, components: Array(location.components.dropLast()))
        let text = Self.entry(lines, date: Date())
        let outcome = try? FilesystemIdentity.withIdentity(identity) { () throws(FileAccessError) -> Void in
            let folder = try TreeDirectory.open(directory)
            if let info = try folder.status(of: name) {
                if (info.st_mode & S_IFMT) == S_IFLNK { throw .symlinkNotAllowed(path: folder.child(name)) }
                if Int(info.st_size) >= Self.maximumSize { try? folder.rename(name, to: folder, as: name + ".0") }
            }
            let file = try folder.openFile(name, flags: O_WRONLY | O_APPEND | O_CREAT, mode: 0o600)
            let bytes = Array(text.utf8)
            let fd = file.raw
            _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        }
        if case .failure(let error) = outcome, case .symlinkNotAllowed = error { return error }
        return nil
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
