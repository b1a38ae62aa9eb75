import Glibc

/// The user and group a delivery acts as on the filesystem (the userdb's uid/gid).
///
/// When Homing runs as root, ``withIdentity(_:_:)`` switches the **calling thread's** filesystem
/// uid/gid (Linux `setfsuid`/`setfsgid`) so files are created, owned and permission-checked as the
/// user, and switches back afterwards. These ids are per thread: everything that must happen as
/// the user has to run synchronously inside the closure, on that one thread (no `await`, no
/// hand-off to another queue). The process's supplementary groups stay as they are.
public struct FilesystemIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The uid files are created and checked as.
    public var uid: UInt32
    /// The gid files are created as.
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    public var description: String { "uid \(uid), gid \(gid)" }
}

/// Why a delivery cannot act as the requested identity.
public enum FilesystemIdentityError: Error, Sendable, Hashable, CustomStringConvertible {
    /// uid 0 or gid 0 was asked for; mail is never delivered as root.
    case superuserRefused(FilesystemIdentity)
    /// Homing is not root and the identity's uid is not its own.
    case notRootForUID(requested: UInt32, processUID: UInt32)
    /// Homing is not root and the identity's gid is not its own.
    case notRootForGID(requested: UInt32, processGID: UInt32)
    /// `setfsuid`/`setfsgid` is missing from the C library.
    case unavailable(call: String)
    /// The switch did not take effect: `which` is `uid` or `gid`, `actual` what the thread has.
    case switchFailed(which: String, requested: UInt32, actual: UInt32)
    /// Switching back to Homing's own ids failed; the thread keeps acting as the user.
    case restoreFailed(which: String, requested: UInt32, actual: UInt32)

    public var description: String {
        switch self {
        case .superuserRefused(let identity):
            return "refusing to deliver mail as \(identity): uid and gid 0 (root) are not allowed for mail"
        case .notRootForUID(let requested, let processUID):
            return "cannot deliver as uid \(requested): Homing runs as uid \(processUID) and is not root"
        case .notRootForGID(let requested, let processGID):
            return "cannot deliver as gid \(requested): Homing runs as gid \(processGID) and is not root"
        case .unavailable(let call):
            return "cannot switch the filesystem identity: \(call) is not available in the C library"
        case .switchFailed(let which, let requested, let actual):
            return "switching the filesystem \(which) to \(requested) failed (still \(actual))"
        case .restoreFailed(let which, let requested, let actual):
            return "switching the filesystem \(which) back to \(requested) failed (still \(actual))"
        }
    }
}

extension FilesystemIdentity {
    /// What ``withIdentity(_:_:)`` does for an identity, decided from the process's ids (pure).
    public enum SwitchPlan: Sendable, Hashable {
        /// Act as the process (no identity asked, or it is the process's own as non-root).
        case actAsProcess
        /// Switch the thread's filesystem ids (the process is root).
        case switchTo(FilesystemIdentity)
    }

    /// Decides how to act as `identity` when the process has effective ids `processUID`/`processGID`.
    public static func plan(
        for identity: FilesystemIdentity?, processUID: UInt32, processGID: UInt32
    ) throws(FilesystemIdentityError) -> SwitchPlan {
        guard let identity else { return .actAsProcess }
        if identity.uid == 0 || identity.gid == 0 { throw .superuserRefused(identity) }
        if processUID == 0 { return .switchTo(identity) }
        if identity.uid != processUID { throw .notRootForUID(requested: identity.uid, processUID: processUID) }
        if identity.gid != processGID { throw .notRootForGID(requested: identity.gid, processGID: processGID) }
        return .actAsProcess
    }

    /// The calling thread's current filesystem uid and gid (as `setfsuid(-1)` reports them).
    public static func currentThreadIdentity() throws(FilesystemIdentityError) -> FilesystemIdentity {
        let (setUID, setGID) = try calls()
        return FilesystemIdentity(uid: UInt32(bitPattern: setUID(UInt32.max)), gid: UInt32(bitPattern: setGID(UInt32.max)))
    }

    /// Runs `body` with the calling thread's filesystem ids switched to `identity` (nil: as the
    /// process), and switches back afterwards, also when `body` throws.
    ///
    /// - Returns: `body`'s outcome as a `Result`; the identity switch itself throws.
    /// - Throws: ``FilesystemIdentityError`` when the identity is refused or the switch fails;
    ///   `body` is not run then (except for `restoreFailed`, which is reported after it ran).
    public static func withIdentity<T, E: Error>(
        _ identity: FilesystemIdentity?, _ body: () throws(E) -> T
    ) throws(FilesystemIdentityError) -> Result<T, E> {
        let process = ProcessIdentity.effective
        let plan = try plan(for: identity, processUID: process.uid, processGID: process.gid)
        guard case .switchTo(let target) = plan else {
            return Result(catching: body)
        }
        // Already acting as the user (a scope inside another one for the same identity, as a
        // maildir write inside the quota plugin's): nothing to switch or restore.
        if ThreadIdentity.current == target {
            return Result(catching: body)
        }
        let (setUID, setGID) = try calls()
        let previousGID = UInt32(bitPattern: setGID(target.gid))
        let actualGID = UInt32(bitPattern: setGID(UInt32.max))
        guard actualGID == target.gid else {
            _ = setGID(previousGID)
            throw .switchFailed(which: "gid", requested: target.gid, actual: actualGID)
        }
        let previousUID = UInt32(bitPattern: setUID(target.uid))
        let actualUID = UInt32(bitPattern: setUID(UInt32.max))
        guard actualUID == target.uid else {
            _ = setUID(previousUID)
            _ = setGID(previousGID)
            throw .switchFailed(which: "uid", requested: target.uid, actual: actualUID)
        }
        let outer = ThreadIdentity.current
        ThreadIdentity.current = target
        let outcome = Result(catching: body)
        ThreadIdentity.current = outer
        _ = setUID(previousUID)
        _ = setGID(previousGID)
        // Back to the process's own effective ids, the switch cannot fail (the kernel always
        // lets a thread set its filesystem ids to its effective ones): only a restore to other
        // ids is checked.
        if previousUID == process.uid && previousGID == process.gid { return outcome }
        let restoredUID = UInt32(bitPattern: setUID(UInt32.max))
        if restoredUID != previousUID {
            throw .restoreFailed(which: "uid", requested: previousUID, actual: restoredUID)
        }
        let restoredGID = UInt32(bitPattern: setGID(UInt32.max))
        if restoredGID != previousGID {
            throw .restoreFailed(which: "gid", requested: previousGID, actual: restoredGID)
        }
        return outcome
    }

    private static func calls() throws(FilesystemIdentityError) -> (
        LinuxFilesystemCalls.SetFilesystemID, LinuxFilesystemCalls.SetFilesystemID
    ) {
        guard let setUID = LinuxFilesystemCalls.setfsuid else { throw .unavailable(call: "setfsuid") }
        guard let setGID = LinuxFilesystemCalls.setfsgid else { throw .unavailable(call: "setfsgid") }
        return (setUID, setGID)
    }
}

/// The process's effective uid and gid, read once: Homing never changes them while it runs
/// (delivering as a user switches only a thread's filesystem ids), so the two system calls
/// need not be made for every identity switch.
enum ProcessIdentity {
    static let effective = FilesystemIdentity(uid: UInt32(geteuid()), gid: UInt32(getegid()))
}

/// The identity ``FilesystemIdentity/withIdentity(_:_:)`` switched the calling thread to, while
/// its body runs (a thread-specific value: the switch itself is per thread).
enum ThreadIdentity {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// The switched-to identity of this thread, `nil` outside any switch.
    static var current: FilesystemIdentity? {
        get {
            guard let raw = pthread_getspecific(key) else { return nil }
            let packed = UInt64(UInt(bitPattern: raw))
            return FilesystemIdentity(uid: UInt32(truncatingIfNeeded: packed >> 32), gid: UInt32(truncatingIfNeeded: packed))
        }
        set {
            guard let identity = newValue else {
                pthread_setspecific(key, nil)
                return
            }
            // uid 0 with gid 0 is never switched to, so the packed value is never 0 (nil).
            let packed = UInt64(identity.uid) << 32 | UInt64(identity.gid)
            pthread_setspecific(key, UnsafeRawPointer(bitPattern: UInt(packed)))
        }
    }
}
