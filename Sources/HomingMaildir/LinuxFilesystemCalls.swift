import Glibc

/// Linux calls that Swift's Glibc module does not import (`<sys/fsuid.h>` is not in its module
/// map, and `renameat2` needs `_GNU_SOURCE`). They are looked up once in the C library.
enum LinuxFilesystemCalls {
    typealias SetFilesystemID = @convention(c) (UInt32) -> Int32
    typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// `RENAME_NOREPLACE` from `<linux/fs.h>`.
    static let renameNoReplace: UInt32 = 1

    private static func lookUp(_ symbol: String) -> UnsafeMutableRawPointer? {
        guard let handle = dlopen(nil, RTLD_NOW) else { return nil }
        return dlsym(handle, symbol)
    }

    /// `setfsuid(2)`: per-thread filesystem uid; returns the previous value.
    static let setfsuid: SetFilesystemID? = lookUp("setfsuid").map { unsafeBitCast($0, to: SetFilesystemID.self) }
    /// `setfsgid(2)`: per-thread filesystem gid; returns the previous value.
    static let setfsgid: SetFilesystemID? = lookUp("setfsgid").map { unsafeBitCast($0, to: SetFilesystemID.self) }
    /// `renameat2(2)` (glibc 2.28+).
    static let renameat2: RenameAt2? = lookUp("renameat2").map { unsafeBitCast($0, to: RenameAt2.self) }
}
