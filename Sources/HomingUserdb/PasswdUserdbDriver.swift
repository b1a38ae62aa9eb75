import HomingConfig
import Logging
import NIOPosix

/// `driver = passwd`: system users through NSS (getpwnam_r), with uid, gid and home from the
/// entry. A name is looked up as given: `alice@example.com` is a different name from `alice`
/// (apply `auth_username_format = %Ln` to look up the local part). As a passdb it answers
/// found or not found, with no fields.
///
/// Listing users walks getpwent and, as Dovecot does, leaves out users outside
/// `first_valid_uid`..`last_valid_uid`, who could not receive mail anyway.
public struct PasswdUserdbDriver: UserdbDriver {
    /// `passwd`.
    public var driverName: String { "passwd" }

    let threadPool: NIOThreadPool
    let firstValidUID: UInt32
    let lastValidUID: UInt32
    let role: DatabaseRole

    /// Creates the driver; `args` are accepted and ignored as Dovecot ignores them
    /// (`blocking=yes` and the like).
    public init(settings: UserdbSettings, context: UserdbDriverContext) throws(ConfigError) {
        threadPool = context.threadPool
        firstValidUID = context.settings.firstValidUID
        lastValidUID = context.settings.lastValidUID
        role = context.role
    }

    /// Looks the name up with getpwnam_r on the thread pool.
    public func lookup(_ request: UserdbRequest) async -> UserdbResult {
        let name = request.user
        let answer: SystemLookup<SystemUser>
        do {
            answer = try await threadPool.runIfActive { SystemAccounts.user(named: name) }
        } catch {
            return .temporaryFailure(reason: "getpwnam(\(name)): the thread pool is not running")
        }
        switch answer {
        case .found where role == .passdb:
            return .found(UserRecord(user: request.user))
        case .found(let user):
            var fields = [UserdbField("uid", String(user.uid)), UserdbField("gid", String(user.gid))]
            if !user.home.isEmpty { fields.append(UserdbField("home", user.home)) }
            return .found(UserRecord(user: request.user, fields: fields))
        case .notFound:
            return .notFound
        case .failed(_, let message):
            return .temporaryFailure(reason: "getpwnam(\(name)) failed: \(message)")
        }
    }

    /// System user names in database order, within the valid uid range.
    public func iterateUsers() async throws(UserdbIterationError) -> [String] {
        let listing: Result<[SystemUser], SystemCallError>
        do {
            listing = try await threadPool.runIfActive { SystemAccounts.allUsers() }
        } catch {
            throw .failed(reason: "getpwent: the thread pool is not running")
        }
        switch listing {
        case .success(let users):
            return users.filter { user in
                user.uid >= firstValidUID && (lastValidUID == 0 || user.uid <= lastValidUID)
            }.map(\.name)
        case .failure(let error):
            throw .failed(reason: error.description)
        }
    }
}
