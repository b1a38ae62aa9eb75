import HomingConfig
import HomingUserdb
import Logging
import NIOPosix
import Synchronization

/// The `ldap` userdb: looks users up in an LDAP directory as configured by a
/// dovecot-ldap.conf.ext (see ``LDAPSettings``).
///
/// Lookups run libldap's synchronous calls on the context's thread pool, over connections kept
/// open and shared through the same pool the `sql` driver uses: opened on first use, at most
/// ``maxConnections``, reopened with back-off after a failed connect (1 s, doubling up to 30 s;
/// during it lookups fail at once instead of each waiting for the connect timeout). A reused
/// connection the server dropped is replaced once within the same lookup. Metrics:
/// `homing_ldap_pool_connections`, `homing_ldap_pool_waiters`, `homing_ldap_pool_wait_seconds`.
/// Zero entries is "not found"; anything the directory
/// cannot answer (server down, refused bind, timeout, several entries for one user) is a
/// temporary failure, never "not found".
///
/// As a passdb (`passdb { driver = ldap }`), `pass_filter` and `pass_attrs` are used the same
/// way instead (`=proxy=y,mailHost=host` maps the proxy fields).
public final class LDAPUserdbDriver: UserdbDriver {
    /// Always `ldap`.
    public let driverName = "ldap"
    /// The checked contents of the configuration file.
    public let settings: LDAPSettings
    private let pool: ConnectionPool<LDAPConnection>
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private let timeouts: LDAPTimeouts
    private let userAttributeNames: [String]
    private let iterateAttributeNames: [String]
    /// Which filter and attribute map a lookup uses: `user_*` or `pass_*`.
    private let role: DatabaseRole
    private let lookupFilter: String
    private let lookupAttributes: LDAPAttributeMap
    private var filterName: String { role == .passdb ? "pass_filter" : "user_filter" }

    /// The most connections one driver keeps open to the directory (as the `sql` driver's
    /// default `maxconns`); more lookups at once wait for one, at most the request timeout.
    public static let maxConnections = 5

    /// Creates the driver for a `userdb { driver = ldap  args = PATH }` block: reads PATH.
    public convenience init(settings userdb: UserdbSettings, context: UserdbDriverContext) throws(ConfigError) {
        let kind = context.role.rawValue
        if userdb.variableSyntax == .dovecot24 {
            var settings = try LDAPSettings.parse24(userdb.driverSettings, blockLocation: userdb.location, kind: kind)
            if context.role == .passdb {
                // A 2.4 passdb's `filter` and `fields { }` are its pass_filter and pass_attrs.
                settings.passFilter = settings.userFilter
                settings.passAttributes = settings.userAttributes
            }
            self.init(ldapSettings: settings, threadPool: context.threadPool, logger: context.logger, role: context.role)
            return
        }
        let path = userdb.args.trimmingWhitespace()
        guard !path.isEmpty else {
            throw ConfigError(
                "\(kind) ldap: args must be the path of a dovecot-ldap.conf.ext file", at: userdb.location)
        }
        guard !path.contains(" ") else {
            throw ConfigError(
                "\(kind) ldap: args must be just the path of a dovecot-ldap.conf.ext file, not '\(path)'",
                at: userdb.location)
        }
        let settings = try LDAPSettings.load(path: path)
        if context.role == .passdb, settings.passFilter == nil {
            throw ConfigError(
                "passdb ldap: \(path) has no pass_filter setting, which an ldap passdb needs "
                    + "(for example: pass_filter = (&(objectClass=posixAccount)(mail=%u)))", at: userdb.location)
        }
        self.init(ldapSettings: settings, threadPool: context.threadPool, logger: context.logger, role: context.role)
        let ignored = context.role == .passdb
            ? settings.ignoredKeys.filter { $0 != "pass_attrs" && $0 != "pass_filter" } : settings.ignoredKeys
        if !ignored.isEmpty {
            context.logger.notice(
                "ldap \(path): ignoring settings Homing does not use: \(ignored.joined(separator: ", "))")
        }
    }

    /// Creates the driver from checked settings. `threadPool` must be started; the caller shuts it
    /// down after ``shutdown()``.
    /// With `role` `.passdb`, lookups use `pass_filter` (which must be set) and `pass_attrs`.
    /// `initialBackoff` is the wait after a first failed connect (doubled after each further
    /// failure, up to 30 s).
    public init(ldapSettings: LDAPSettings, threadPool: NIOThreadPool, logger: Logger,
                timeouts: LDAPTimeouts = LDAPTimeouts(), role: DatabaseRole = .userdb,
                initialBackoff: Duration = .seconds(1)) {
        self.settings = ldapSettings
        self.threadPool = threadPool
        self.logger = logger
        self.timeouts = timeouts
        let uris = ldapSettings.uris.joined(separator: " ")
        // Whether the last connect failed: the recovery is logged once.
        let unreachable = Mutex(false)
        self.pool = ConnectionPool(
            configuration: ConnectionPoolStateMachine.Configuration(
                maxConnections: Self.maxConnections, initialBackoff: initialBackoff),
            metricsPrefix: "homing_ldap_pool",
            waitTimeoutReason: "timed out waiting for a connection to the LDAP server",
            open: {
                let result: Result<LDAPConnection, LDAPOperationError>
                do {
                    result = try await threadPool.runIfActive { () -> Result<LDAPConnection, LDAPOperationError> in
                        do throws(LDAPOperationError) {
                            return .success(try LDAPConnection.open(ldapSettings, timeouts: timeouts))
                        } catch {
                            return .failure(error)
                        }
                    }
                } catch {
                    return .failure(ConnectionPoolError(reason: "the thread pool is not running"))
                }
                switch result {
                case .success(let connection):
                    if unreachable.withLock({ state in defer { state = false }; return state }) {
                        logger.notice("ldap: connected again to \(uris)")
                    }
                    return .success(connection)
                case .failure(let error):
                    unreachable.withLock { $0 = true }
                    return .failure(ConnectionPoolError(reason: "\(error)"))
                }
            },
            close: { connection in
                _ = try? await threadPool.runIfActive { connection.close() }
            },
            onOpenFailure: { reason, failures in
                logger.error("ldap: \(reason) (\(failures) failed attempt\(failures == 1 ? "" : "s") in a row)")
            })
        self.role = role
        if role == .passdb {
            self.lookupFilter = ldapSettings.passFilter ?? ldapSettings.userFilter
            self.lookupAttributes = ldapSettings.passAttributes
        } else {
            self.lookupFilter = ldapSettings.userFilter
            self.lookupAttributes = ldapSettings.userAttributes
        }
        self.userAttributeNames = lookupAttributes.requestedAttributes
        self.iterateAttributeNames = ldapSettings.iterateAttributes.requestedAttributes
    }

    /// Searches `base` (variables escaped for a DN) with `user_filter` (variables escaped for a
    /// filter) and maps the one entry found through `user_attrs`. No entry: `.notFound`; several
    /// entries or any server trouble: `.temporaryFailure`.
    public func lookup(_ request: UserdbRequest) async -> UserdbResult {
        // No address holds a NUL, and slapd's IA5 matching ignores a trailing escaped one
        // (`(mail=alice@example.com\00)` finds alice): such a name is nobody.
        if request.user.utf8.contains(0) { return .notFound }
        let variables = UserdbVariables(request: request, syntax: settings.syntax)
        let base: String
        let filter: String
        do {
            base = try variables.expander().expand(settings.base, escape: LDAPEscaping.dnValue)
            filter = try variables.expander().expand(lookupFilter, escape: LDAPEscaping.filterValue)
        } catch {
            return .temporaryFailure(reason: "ldap: expanding base or \(filterName): \(error)")
        }
        let found: (entries: [LDAPEntry], truncated: Bool)
        switch await search(base: base, filter: filter, attributes: userAttributeNames, sizeLimit: 2,
                            timeout: timeouts.request) {
        case .success(let result): found = result
        case .failure(let error): return .temporaryFailure(reason: "ldap: \(error)")
        }
        if found.entries.count > 1 || found.truncated {
            return .temporaryFailure(
                reason: "ldap: \(filterName) matched multiple objects, aborting (base=\(base) filter=\(filter))")
        }
        guard let entry = found.entries.first else { return .notFound }
        let mapped: LDAPAttributeMap.Mapped
        do {
            mapped = try lookupAttributes.map(entry, variables: variables)
        } catch {
            return .temporaryFailure(reason: "ldap: \(role == .passdb ? "pass_attrs" : "user_attrs") for \(entry.dn): \(error)")
        }
        for warning in mapped.warnings {
            logger.warning("ldap(\(request.user)): \(warning)")
        }
        var record = UserRecord(user: request.user)
        for field in mapped.fields { record[field.name] = field.value }
        return .found(record)
    }

    /// Lists the `user` values of `iterate_attrs` for every entry `iterate_filter` finds.
    public func iterateUsers() async throws(UserdbIterationError) -> [String] {
        let variables = UserdbVariables(request: UserdbRequest(user: "", service: "doveadm"), syntax: settings.syntax)
        let base: String
        let filter: String
        do {
            base = try variables.expander().expand(settings.base, escape: LDAPEscaping.dnValue)
            filter = try variables.expander().expand(settings.iterateFilter, escape: LDAPEscaping.filterValue)
        } catch {
            throw .failed(reason: "ldap: expanding base or iterate_filter: \(error)")
        }
        let found: (entries: [LDAPEntry], truncated: Bool)
        switch await search(base: base, filter: filter, attributes: iterateAttributeNames, sizeLimit: 0,
                            timeout: timeouts.iteration) {
        case .success(let result): found = result
        case .failure(let error): throw .failed(reason: "ldap: \(error)")
        }
        if found.truncated {
            throw .failed(reason: "ldap: the server's size limit cut the user list short (raise olcSizeLimit for the bind DN)")
        }
        var users: [String] = []
        for entry in found.entries {
            do {
                users += try settings.iterateAttributes.userNames(entry, variables: variables)
            } catch {
                throw .failed(reason: "ldap: iterate_attrs for \(entry.dn): \(error)")
            }
        }
        return users
    }

    /// Closes the pooled connections; connections in use are closed when their lookup ends.
    public func shutdown() async {
        await pool.shutDown()
    }

    /// Why a search gave no answer: the directory's error, or no connection to ask it on.
    private enum SearchFailure: Error, CustomStringConvertible {
        case operation(LDAPOperationError)
        case noConnection(reason: String)

        var description: String {
            switch self {
            case .operation(let error): return "\(error)"
            case .noConnection(let reason): return reason
            }
        }
    }

    /// Leases a connection, searches on the thread pool and gives the connection back (closed
    /// unless the error concerned only the request). A reused connection that fails as a dropped
    /// one does is replaced once, within the same search.
    private func search(
        base: String, filter: String, attributes: [String], sizeLimit: Int32, timeout: Int
    ) async -> Result<(entries: [LDAPEntry], truncated: Bool), SearchFailure> {
        let scope = settings.scope
        // Waiting for a connection may mean waiting for one to be opened: a connect and a bind.
        let deadline = ContinuousClock.now + .seconds(timeouts.connect + timeouts.request + timeout)
        var attempt = 0
        while true {
            attempt += 1
            let lease: PooledConnection<LDAPConnection>
            switch await pool.lease(deadline: deadline) {
            case .success(let leased): lease = leased
            case .failure(let error): return .failure(.noConnection(reason: error.reason))
            }
            let connection = lease.connection
            let result: Result<(entries: [LDAPEntry], truncated: Bool), LDAPOperationError>
            do {
                result = try await threadPool.runIfActive {
                    do throws(LDAPOperationError) {
                        return .success(try connection.search(
                            base: base, scope: scope, filter: filter, attributes: attributes,
                            sizeLimit: sizeLimit, timeout: timeout))
                    } catch {
                        return .failure(error)
                    }
                }
            } catch {
                await pool.release(lease, reusable: true)
                return .failure(.noConnection(reason: "the thread pool is not running"))
            }
            switch result {
            case .success(let found):
                await pool.release(lease, reusable: true)
                return .success(found)
            case .failure(let error) where error.keepsConnection:
                await pool.release(lease, reusable: true)
                return .failure(.operation(error))
            case .failure(let error):
                // The server went away or broke the connection: the idle ones are dead too.
                await pool.release(lease, reusable: false, dropIdle: true)
                if lease.reused, attempt == 1, error.worthRetryingOnNewConnection {
                    logger.info("ldap: connection lost (\(error.message)), reconnecting")
                    continue
                }
                return .failure(.operation(error))
            }
        }
    }
}
