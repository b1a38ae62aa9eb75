import Glibc

/// Numeric ids for `mail_uid` / `mail_gid` style settings that accept names or numbers.
/// Blocking (getpwnam_r/getgrnam_r): call at start-up or on a thread pool.
public enum SystemAccounts {
    /// The uid for a user name or a number, or `nil` when neither.
    public static func uid(_ nameOrNumber: String) -> UInt32? {
        if let number = UInt32(nameOrNumber) { return number }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let rc = getpwnam_r(nameOrNumber, &entry, &buffer, buffer.count, &result)
        guard rc == 0, result != nil else { return nil }
        return entry.pw_uid
    }

    /// The gid for a group name or a number, or `nil` when neither.
    public static func gid(_ nameOrNumber: String) -> UInt32? {
        if let number = UInt32(nameOrNumber) { return number }
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let rc = getgrnam_r(nameOrNumber, &entry, &buffer, buffer.count, &result)
        guard rc == 0, result != nil else { return nil }
        return entry.gr_gid
    }
}
