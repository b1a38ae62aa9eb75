import HomingConfig
import Logging
import NIOPosix

/// What every userdb driver gets when it is created: where to run blocking work, where to log,
/// and the global settings (`first_valid_uid`, `mail_uid`, ...).
public struct UserdbDriverContext: Sendable {
    /// The pool that runs blocking calls (file reads, getpwnam_r, libpq, libldap).
    /// Already started by the caller, who also shuts it down after the drivers.
    public var threadPool: NIOThreadPool
    /// The logger drivers log to (start-up warnings, file problems).
    public var logger: Logger
    /// The effective settings Homing runs with.
    public var settings: HomingSettings
    /// Whether the driver is created for a `userdb { }` or a `passdb { }` block: a passdb
    /// driver answers with passdb fields (`password_query`, `pass_attrs`, passwd-file extra
    /// fields without `userdb_`...).
    public var role: DatabaseRole

    /// Creates a context around an already started thread pool.
    public init(threadPool: NIOThreadPool, logger: Logger, settings: HomingSettings, role: DatabaseRole = .userdb) {
        self.threadPool = threadPool
        self.logger = logger
        self.settings = settings
        self.role = role
    }
}
