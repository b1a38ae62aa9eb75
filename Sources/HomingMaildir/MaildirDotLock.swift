import Glibc
import HomingFileSystem

/// Dovecot's dot-locks (`file-dotlock.c` with `dotlock_use_excl = yes`, the default): the lock
/// for `<file>` is `<file>.lock` next to it, created with `O_EXCL`. A lock that only locks
/// (`dovecot-uidlist.lock`) holds `<pid>:<host>`; a lock that becomes the file's new contents
/// (`subscriptions.lock`, `dovecot-keywords.lock`) is written and then renamed over the file.
///
/// Everything goes through the directory's ``HomingFileSystem/TreeDirectory`` and never follows
/// a symlink: a symlink named like the lock makes `O_EXCL` fail, and is treated like a held lock
/// (it goes away only when stale, the link itself removed). Blocking: call it on a delivery
/// thread.
enum MaildirDotLock {
    /// How long to wait and when a lock counts as abandoned.
    struct Timing: Sendable, Hashable {
        /// Give up after this many seconds (0: try once).
        var timeout: Double
        /// A lock (and the file it protects) unchanged for this many seconds is overridden.
        var staleAfter: Double

        /// `dovecot-uidlist.lock`: stale after 2 minutes, waited for 2 s longer (Dovecot's
        /// `MAILDIR_UIDLIST_LOCK_STALE_TIMEOUT`).
        static let uidlist = Timing(timeout: 122, staleAfter: 120)
        /// `subscriptions.lock`: wait 2 minutes, stale after 30 s (`subscription-file.c`).
        static let subscriptions = Timing(timeout: 120, staleAfter: 30)
    }

    /// Dovecot does not read the PID of a lock younger than this (`STALE_PID_CHECK_SECS`).
    static let pidCheckAge: Double = 2

    /// Creates `<file>.lock` in `directory` (mode 0600), waiting while another process holds
    /// it; with `writePID` it holds `<pid>:<host>`. Returns the open lock file.
    static func create(
        for file: String, in directory: borrowing TreeDirectory, timing: Timing, writePID: Bool
    ) throws(MaildirError) -> OwnedDescriptor {
        let lockName = file + ".lock"
        let deadline = now() + max(0, timing.timeout)
        var pause = 0.02
        while true {
            do {
                let lock = try directory.openFile(lockName, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
                if writePID {
                    do {
                        try MaildirControlFile.writeAll(
                            Array("\(getpid()):\(hostName)".utf8), to: lock.raw, path: directory.child(lockName))
                    } catch {
                        remove(for: file, in: directory)
                        throw error
                    }
                }
                return lock
            } catch let error as FileAccessError {
                guard error.errno == EEXIST else { throw MaildirError(error) }
                if isStale(lockName, protecting: file, in: directory, timing: timing) {
                    remove(for: file, in: directory)
                    continue
                }
            } catch {
                throw error as? MaildirError ?? .invalidDestination(reason: "\(error)")
            }
            guard now() < deadline else { throw .lockTimeout(path: directory.child(lockName)) }
            usleep(useconds_t(pause * 1_000_000))
            pause = min(pause * 2, 0.5)
        }
    }

    /// Removes `<file>.lock` (a link of that name itself, never its target).
    static func remove(for file: String, in directory: borrowing TreeDirectory) {
        try? directory.removeFile(file + ".lock")
    }

    /// Renames `<file>.lock` over `<file>` (the lock's contents become the file).
    static func commit(for file: String, in directory: borrowing TreeDirectory) throws(MaildirError) {
        do {
            try directory.rename(file + ".lock", to: directory, as: file)
        } catch {
            remove(for: file, in: directory)
            throw MaildirError(error)
        }
    }

    /// Whether the existing `lockName` was left behind: its process (on this host) is gone, or
    /// neither the lock nor the file it protects changed for `staleAfter` seconds. A lock of this
    /// process is another thread's, never stale by its PID.
    private static func isStale(
        _ lockName: String, protecting file: String, in directory: borrowing TreeDirectory, timing: Timing
    ) -> Bool {
        guard let info = try? directory.status(of: lockName) else {
            return false  // gone already: the next attempt creates it
        }
        let lockChanged = Double(max(info.st_mtim.tv_sec, info.st_ctim.tv_sec))
        let age = now() - lockChanged
        if (info.st_mode & S_IFMT) == S_IFREG, age >= pidCheckAge, let pid = localPID(lockName, in: directory),
            pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
        {
            return true
        }
        var lastChange = lockChanged
        if let protected = try? directory.status(of: file) {
            lastChange = max(lastChange, Double(protected.st_mtim.tv_sec))
        }
        return now() - lastChange > timing.staleAfter
    }

    /// The PID in a `<pid>:<host>` lock written on this host.
    private static func localPID(_ lockName: String, in directory: borrowing TreeDirectory) -> pid_t? {
        guard let bytes = try? MaildirControlFile.read(lockName, in: directory, limit: 512) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":"), text[text.index(after: colon)...] == hostName,
            let pid = pid_t(text[..<colon]), pid > 0
        else { return nil }
        return pid
    }

    /// `gethostname`, as Dovecot writes it into locks.
    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
