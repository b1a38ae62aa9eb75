import Foundation
import HomingConfig

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The C `struct group`, named apart from ``SystemAccounts/group(named:)``.
private typealias CGroupEntry = group

/// An entry of the system user database (`/etc/passwd` through NSS).
struct SystemUser: Sendable, Hashable {
    var name: String
    var uid: UInt32
    var gid: UInt32
    var home: String
}

/// An entry of the system group database.
struct SystemGroup: Sendable, Hashable {
    var name: String
    var gid: UInt32
}

/// The answer of a system account lookup.
enum SystemLookup<Value: Sendable & Hashable>: Sendable, Hashable {
    case found(Value)
    case notFound
    /// The lookup itself failed (NSS back end down, file unreadable): the errno and its text.
    case failed(errno: Int32, message: String)
}

/// Blocking wrappers around getpwnam_r, getgrnam_r and getpwent. Call them on a thread pool.
public enum SystemAccounts {
    /// getpwent keeps global state: one iteration at a time in this process.
    private static let iterationLock = NSLock()

    /// Buffers grow up to this size on ERANGE before the lookup gives up.
    private static let maximumBufferSize = 1 << 20

    /// Looks a user up by name with getpwnam_r.
    static func user(named name: String) -> SystemLookup<SystemUser> {
        guard isPlausibleName(name) else { return .notFound }
        var entry = passwd()
        return withGrowingBuffer { buffer, size -> (Int32, SystemUser?) in
            var result: UnsafeMutablePointer<passwd>? = nil
            let status = getpwnam_r(name, &entry, buffer, size, &result)
            guard status == 0, let found = result?.pointee else { return (status, nil) }
            return (0, SystemUser(found))
        }
    }

    /// Looks a group up by name with getgrnam_r.
    static func group(named name: String) -> SystemLookup<SystemGroup> {
        guard isPlausibleName(name) else { return .notFound }
        var entry = CGroupEntry()
        return withGrowingBuffer { buffer, size -> (Int32, SystemGroup?) in
            var result: UnsafeMutablePointer<CGroupEntry>? = nil
            let status = getgrnam_r(name, &entry, buffer, size, &result)
            guard status == 0, let found = result?.pointee else { return (status, nil) }
            return (0, SystemGroup(name: String(cString: found.gr_name), gid: UInt32(found.gr_gid)))
        }
    }

    /// Lists every user with getpwent, in the database's order.
    static func allUsers() -> Result<[SystemUser], SystemCallError> {
        iterationLock.lock()
        defer { iterationLock.unlock() }
        setpwent()
        defer { endpwent() }
        var users: [SystemUser] = []
        while true {
            errno = 0
            guard let entry = getpwent() else {
                let code = errno
                // glibc leaves ENOENT (or nothing) at the end of the database.
                if code != 0 && code != ENOENT {
                    return .failure(
                        SystemCallError("getpwent", errno: code))
                }
                return .success(users)
            }
            users.append(SystemUser(entry.pointee))
        }
    }

    /// The text of an errno value.
    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// A name NSS could look up: non-empty, without NUL (which would cut the C string short).
    private static func isPlausibleName(_ name: String) -> Bool {
        !name.isEmpty && !name.utf8.contains(0)
    }

    /// Runs a `*_r` call with a buffer that doubles on ERANGE.
    private static func withGrowingBuffer<Value: Sendable & Hashable>(
        _ body: (UnsafeMutablePointer<CChar>, Int) -> (Int32, Value?)
    ) -> SystemLookup<Value> {
        var size = max(Int(sysconf(Int32(_SC_GETPW_R_SIZE_MAX))), 1024)
        while true {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            let (status, value) = body(buffer, size)
            buffer.deallocate()
            if let value { return .found(value) }
            switch status {
            case 0, ENOENT, ESRCH, EBADF, EPERM:
                // The documented "name not found" answers.
                return .notFound
            case ERANGE where size < maximumBufferSize:
                size *= 2
            default:
                return .failed(errno: status, message: describe(status))
            }
        }
    }
}


extension SystemUser {
    /// Copies a `struct passwd` (whose strings live in a buffer about to be freed).
    init(_ entry: passwd) {
        self.init(
            name: String(cString: entry.pw_name),
            uid: UInt32(entry.pw_uid),
            gid: UInt32(entry.pw_gid),
            home: entry.pw_dir.map { String(cString: $0) } ?? ""
        )
    }
}

extension SystemAccounts {
    /// The uid for a user name or a number (`mail_uid`, `unix_listener { user }`), or `nil`
    /// when it is neither. Blocking: call at start-up or on a thread pool.
    public static func uid(_ nameOrNumber: String) -> UInt32? {
        if let number = UInt32(nameOrNumber) { return number }
        if case .found(let user) = user(named: nameOrNumber) { return user.uid }
        return nil
    }

    /// The gid for a group name or a number, or `nil` when it is neither. Blocking.
    public static func gid(_ nameOrNumber: String) -> UInt32? {
        if let number = UInt32(nameOrNumber) { return number }
        if case .found(let group) = group(named: nameOrNumber) { return group.gid }
        return nil
    }
}
