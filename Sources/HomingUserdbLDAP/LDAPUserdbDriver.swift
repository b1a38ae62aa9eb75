import HomingConfig
import HomingUserdb
import Logging
import NIOPosix

/// The `ldap` userdb: looks users up in an LDAP directory as configured by a
/// dovecot-ldap.conf.ext (see ``LDAPSettings``).
///
/// Lookups run libldap's synchronous calls on the context's thread pool, over connections kept
/// open and shared (``LDAPConnectionPool``). Zero entries is "not found"; anything the directory
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
    private let pool: LDAPConnectionPool
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
    public init(ldapSettings: LDAPSettings, threadPool: NIOThreadPool, logger: Logger,
                timeouts: LDAPTimeouts = LDAPTimeouts(), role: DatabaseRole = .userdb) {
        self.settings = ldapSettings
        self.threadPool = threadPool
        self.logger = logger
        self.timeouts = timeouts
        self.pool = LDAPConnectionPool(settings: ldapSettings, timeouts: timeouts, logger: logger)
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

    /// Closes the pooled connections.
    public func shutdown() async {
        let pool = self.pool
        _ = try? await threadPool.runIfActive { pool.shutdown() }
    }

    private func search(
        base: String, filter: String, attributes: [String], sizeLimit: Int32, timeout: Int
    ) async -> Result<(entries: [LDAPEntry], truncated: Bool), LDAPOperationError> {
        let pool = self.pool
        let scope = settings.scope
        do {
            return try await threadPool.runIfActive {
                pool.withConnection { connection throws(LDAPOperationError) in
                    try connection.search(base: base, scope: scope, filter: filter, attributes: attributes,
                                          sizeLimit: sizeLimit, timeout: timeout)
                }
            }
        } catch {
            return .failure(LDAPOperationError(operation: "ldap userdb", code: -1, message: "thread pool: \(error)"))
        }
    }
}
