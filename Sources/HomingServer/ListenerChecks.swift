import Glibc

/// Small file system checks on listener paths, shared by `serve` and `config --check`.
public enum ListenerChecks {
    /// Whether `path` is an existing directory.
    public static func directoryExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path.isEmpty ? "/" : path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
