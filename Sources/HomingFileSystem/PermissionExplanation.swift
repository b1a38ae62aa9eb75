import Glibc

/// Why a file operation got `EACCES`, in Dovecot's words: as whom it ran, which directory lacks
/// which permission, and that directory's owner and mode:
/// `euid=5000(vmail) egid=5000(vmail) missing +w perm: /var/vmail, dir owned by 0:0 mode=0755`.
///
/// It is worked out at once, on the thread that failed, because the identity that matters is
/// that thread's file system uid and gid (`setfsuid`), not the process's.
public enum PermissionExplanation {
    /// The explanation for a failed access to `path`; `creating` when the operation was to
    /// create it (it then needs write access to its directory), `writing` when it was opened
    /// for writing.
    public static func explain(path: String, creating: Bool, writing: Bool = false) -> String {
        let identity = currentIdentity()
        var info = stat()
        // Opening a file that is not there yet creates it.
        let creating = creating || stat(path, &info) != 0
        var text = "euid=\(identity.uid)(\(userName(identity.uid))) egid=\(identity.gid)(\(groupName(identity.gid)))"
        let components = path.split(separator: "/").map(String.init)
        var directory = ""
        // Every directory on the way needs +x (search).
        for component in components.dropLast() {
            let parent = directory.isEmpty ? "/" : directory
            directory += "/" + component
            if let problem = missing(S_IXUSR, S_IXGRP, S_IXOTH, "x", in: parent, identity) {
                return text + " " + problem
            }
        }
        let parent = directory.isEmpty ? "/" : directory
        if creating {
            if let problem = missing(S_IWUSR, S_IWGRP, S_IWOTH, "w", in: parent, identity) { return text + " " + problem }
            if let problem = missing(S_IXUSR, S_IXGRP, S_IXOTH, "x", in: parent, identity) { return text + " " + problem }
        } else {
            if let problem = missing(S_IXUSR, S_IXGRP, S_IXOTH, "x", in: parent, identity) { return text + " " + problem }
            let (user, group, other, letter) = writing ? (S_IWUSR, S_IWGRP, S_IWOTH, "w") : (S_IRUSR, S_IRGRP, S_IROTH, "r")
            if let problem = missing(user, group, other, letter, in: path, identity, isFile: true) { return text + " " + problem }
        }
        text += " (the permissions look right: an ACL, a read-only file system or a security module refused it)"
        return text
    }

    private struct Identity {
        var uid: UInt32
        var gid: UInt32
        var groups: Set<UInt32>
    }

    private typealias SetFilesystemID = @convention(c) (UInt32) -> Int32

    /// The thread's file system uid and gid (`setfsuid(-1)` reports them without changing
    /// anything) and the process's supplementary groups.
    private static func currentIdentity() -> Identity {
        var uid = UInt32(geteuid())
        var gid = UInt32(getegid())
        if let handle = dlopen(nil, RTLD_NOW) {
            if let symbol = dlsym(handle, "setfsuid") {
                uid = UInt32(bitPattern: unsafeBitCast(symbol, to: SetFilesystemID.self)(UInt32.max))
            }
            if let symbol = dlsym(handle, "setfsgid") {
                gid = UInt32(bitPattern: unsafeBitCast(symbol, to: SetFilesystemID.self)(UInt32.max))
            }
        }
        var groups = Set<UInt32>([gid])
        let count = getgroups(0, nil)
        if count > 0 {
            var list = [gid_t](repeating: 0, count: Int(count))
            let got = getgroups(count, &list)
            if got > 0 { groups.formUnion(list.prefix(Int(got)).map { UInt32($0) }) }
        }
        return Identity(uid: uid, gid: gid, groups: groups)
    }

    /// `missing +<letter> perm: <path>, dir owned by U:G mode=0755` when `identity` lacks the
    /// bit on `path`, nil when it has it (or `path` cannot be looked at).
    private static func missing(
        _ userBit: mode_t, _ groupBit: mode_t, _ otherBit: mode_t, _ letter: String, in path: String, _ identity: Identity,
        isFile: Bool = false
    ) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        if identity.uid == 0 { return nil }
        let bit: mode_t
        if info.st_uid == identity.uid {
            bit = userBit
        } else if identity.groups.contains(info.st_gid) {
            bit = groupBit
        } else {
            bit = otherBit
        }
        guard info.st_mode & bit == 0 else { return nil }
        let mode = String(info.st_mode & 0o7777, radix: 8)
        let padded = String(repeating: "0", count: max(0, 4 - mode.count)) + mode
        return "missing +\(letter) perm: \(path), \(isFile ? "file" : "dir") owned by \(info.st_uid):\(info.st_gid) mode=\(padded)"
    }

    private static func userName(_ uid: UInt32) -> String {
        var entry = passwd()
        var buffer = [CChar](repeating: 0, count: 4096)
        var result: UnsafeMutablePointer<passwd>?
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return "unknown" }
        return String(cString: entry.pw_name)
    }

    private static func groupName(_ gid: UInt32) -> String {
        var entry = group()
        var buffer = [CChar](repeating: 0, count: 4096)
        var result: UnsafeMutablePointer<group>?
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return "unknown" }
        return String(cString: entry.gr_name)
    }
}
