import HomingFileSystem

/// Homes and mail directories Homing never delivers into: the system's own directories.
///
/// A userdb entry whose home (or mail root, or `INBOX=` path) is one of these is an
/// administrator's mistake (a copied `/etc/passwd` line, a template that expanded to `/`):
/// delivering there would either fail at the end of the data (the user cannot write there) or,
/// worse, succeed. Such a recipient is refused at RCPT with the reply a uid outside
/// `first_valid_uid`..`last_valid_uid` gets (`451 4.3.0 ... Temporary internal error`), and the
/// reason is logged. The rule is pure (paths only, no file system access):
///
/// - `/` and the top-level directories of the file system hierarchy themselves (`/home`,
///   `/var`, `/srv`, `/tmp`, ...), and the shared directories under `/var` (`/var/mail`,
///   `/var/lib`, `/var/spool`, ...) themselves: a home is a directory of its own below them;
/// - anything at or below the directories of the system itself: `/bin`, `/boot`, `/dev`,
///   `/etc`, `/lib*`, `/proc`, `/root`, `/run`, `/sbin`, `/sys`, `/usr`, `/var/log`,
///   `/var/cache`, `/var/backups`, `/var/run`, `/var/lock`;
/// - a path that is not absolute or has a `..` level.
public enum SystemDirectoryCheck {
    /// Refused themselves; directories below them are fine.
    static let sharedParents: Set<String> = [
        "/", "/home", "/media", "/mnt", "/opt", "/srv", "/tmp", "/var", "/var/lib", "/var/local", "/var/mail",
        "/var/opt", "/var/spool", "/var/spool/mail", "/var/tmp",
    ]
    /// Refused with everything below them.
    static let systemTrees: [String] = [
        "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root", "/run", "/sbin",
        "/sys", "/usr", "/var/backups", "/var/cache", "/var/lock", "/var/log", "/var/run",
    ]

    /// Why Homing does not deliver into `path`, or nil when it may.
    public static func problem(with path: String) -> String? {
        guard let parts = TreePath.components(ofAbsolute: path) else {
            return "is not an absolute path without .. levels"
        }
        let normalized = "/" + parts.joined(separator: "/")
        if sharedParents.contains(normalized) {
            return "is a system directory shared by everyone (\(normalized)), not a user's own"
        }
        for tree in systemTrees where normalized == tree || normalized.hasPrefix(tree + "/") {
            return normalized == tree ? "is a system directory (\(tree))" : "is inside the system directory \(tree)"
        }
        return nil
    }
}
