import Glibc
import HomingFileSystem

/// Removing what crashed deliveries left in a maildir's `tmp/`, as Dovecot does when it opens a
/// mailbox (`maildir_check_tmp` and `unlink_old_files` in Dovecot 2.3):
///
/// - `mail_temp_scan_interval` (default one week, 0 disables) after the last scan, judged by
///   the access time of `tmp/`, which a scan sets to now;
/// - no scan while `tmp/`'s access time is more than 36 hours past its change time: nothing was
///   created there since the last scan, so it is empty;
/// - a scan removes every entry that is not a directory and whose change time is more than 36
///   hours old (`MAILDIR_TMP_DELETE_SECS`). Only `tmp/` is touched, through its descriptor:
///   a link found there is removed itself, never followed.
public struct MaildirTmpCleanup: Sendable, Hashable {
    /// Dovecot's `MAILDIR_TMP_DELETE_SECS`: 36 hours.
    public static let maximumAge = 36 * 60 * 60

    /// `mail_temp_scan_interval` in seconds; 0 disables the cleanup.
    public var scanInterval: Int
    /// The time to judge by, seconds since 1970; nil for the current time (tests set it).
    public var now: Int?

    public init(scanInterval: Int, now: Int? = nil) {
        self.scanInterval = scanInterval
        self.now = now
    }

    /// Whether `tmp/` is to be scanned (pure: Dovecot's rule on its access and change times).
    public static func isDue(accessTime: Int, changeTime: Int, now: Int, scanInterval: Int) -> Bool {
        if scanInterval <= 0 { return false }
        // Nothing was created in tmp/ since the last scan: it should be empty.
        if accessTime > changeTime + maximumAge { return false }
        return accessTime < now - scanInterval
    }

    /// Scans `tmp` when due and removes the old files. Failures do not stop the delivery: they
    /// are reported with what was removed.
    func run(in tmp: borrowing TreeDirectory) -> MaildirTmpCleanupReport? {
        let now = self.now ?? Int(time(nil))
        guard let info = try? tmp.status(),
            Self.isDue(
                accessTime: Int(info.st_atim.tv_sec), changeTime: Int(info.st_ctim.tv_sec), now: now,
                scanInterval: scanInterval)
        else { return nil }
        var report = MaildirTmpCleanupReport(directory: tmp.path)
        // First, so that concurrent deliveries do not all scan (as Dovecot does).
        do { try tmp.touch() } catch { report.problems.append("\(error)") }
        let names: [String]
        do {
            names = try tmp.entries()
        } catch {
            report.problems.append("\(error)")
            return report
        }
        let oldest = now - Self.maximumAge
        for name in names {
            do {
                guard let entry = try tmp.status(of: name) else { continue }
                if (entry.st_mode & S_IFMT) == S_IFDIR { continue }
                guard Int(entry.st_ctim.tv_sec) < oldest else { continue }
                try tmp.removeFile(name)
                report.removed.append(name)
            } catch {
                if !error.isNotFound { report.problems.append("\(error)") }
            }
        }
        return report
    }
}

/// What one `tmp/` scan did.
public struct MaildirTmpCleanupReport: Sendable, Hashable, CustomStringConvertible {
    /// The `tmp/` directory.
    public var directory: String
    /// The names removed.
    public var removed: [String] = []
    /// What went wrong (a file that could not be removed...), one sentence each.
    public var problems: [String] = []

    public init(directory: String, removed: [String] = [], problems: [String] = []) {
        self.directory = directory
        self.removed = removed
        self.problems = problems
    }

    /// `<dir>: removed 2 files older than 36 hours: a, b`, plus the problems.
    public var description: String {
        var text = "\(directory): "
        if removed.isEmpty {
            text += "nothing older than 36 hours to remove"
        } else {
            text += "removed \(removed.count) file\(removed.count == 1 ? "" : "s") older than 36 hours: "
                + removed.sorted().joined(separator: ", ")
        }
        if !problems.isEmpty { text += "; " + problems.joined(separator: "; ") }
        return text
    }
}
