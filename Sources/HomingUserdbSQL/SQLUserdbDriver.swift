import HomingConfig
import HomingUserdb
import Logging
import NIOPosix
import Synchronization

/// `driver = sql`: users from PostgreSQL, configured by a dovecot-sql.conf.ext (`args` is its
/// path), so an existing Dovecot file works unchanged.
///
/// - `user_query` is run for each lookup with its `%` variables expanded safely (see
///   ``SQLQueryTemplate``); its row becomes the user's fields (see ``SQLRowMapper``): no row is
///   not found, more than one or a bad value a temporary failure.
/// - As a passdb (`passdb { driver = sql }`), `password_query` is run the same way instead and
///   its columns are the passdb fields (`host`, `port`, `proxy`, `destuser`...); `userdb_`
///   columns are left out.
/// - `iterate_query` lists users for `homing user -u`.
/// - Connections come from a pool (see ``ConnectionPool``): opened on first use, at most
///   `maxconns`, reopened with back-off after a failure. libpq runs on the NIO thread pool, never
///   on an event loop.
/// - Several servers (Dovecot's several `host=` words in `connect`): a pool per server, lookups
///   spread round-robin over them; a server that cannot be reached is skipped (its pool fails at
///   once during its back-off) and the next one is asked, so a lookup fails only when no server
///   answers. libpq's own host list (`host=a,b`) is one server whose connections libpq opens on
///   the first host that accepts (see ``PostgresConnectString``).
/// - A lookup takes at most `query_timeout` (5 s unless the `connect` line says otherwise),
///   waiting for a connection included; when the server is down it fails at once, as a temporary
///   failure, never as "unknown user". When the server is back, the next attempt after the
///   back-off (1 s, doubling up to 30 s) reconnects.
public struct SQLUserdbDriver: UserdbDriver {
    public var driverName: String { "sql" }

    let config: SQLDriverConfig
    /// One pool per server of ``PostgresConnectString/servers``, in the same order.
    let pools: [ConnectionPool<PostgresConnection>]
    /// Which server the next lookup asks first.
    let rotation = ServerRotation()
    /// The first server's pool (the only one with a single server).
    var pool: ConnectionPool<PostgresConnection> { pools[0] }
    let threadPool: NIOThreadPool
    let logger: Logger
    /// Which query a lookup runs: `user_query` or `password_query`.
    let role: DatabaseRole

    /// Reads the dovecot-sql.conf.ext named by `args`. A problem in it is a ``ConfigError`` at
    /// its line; a missing file or setting one at the `userdb { }` block. Does not connect.
    public init(settings: UserdbSettings, context: UserdbDriverContext) throws(ConfigError) {
        if settings.variableSyntax == .dovecot24 {
            var config = try SQLDriverConfig.make(settings24: settings.driverSettings, blockLocation: settings.location,
                                                  kind: context.role.rawValue)
            if context.role == .passdb {
                // A 2.4 passdb's `query` is its password query.
                config.passwordQuery = config.userQuery
                config.userQuery = nil
                config.iterateQuery = nil
            }
            for (key, template) in [("query", config.userQuery ?? config.passwordQuery), ("iterate_query", config.iterateQuery)] {
                guard let template, template.hasUnquotedVariables else { continue }
                let location = settings.driverSettings.last { $0.key == key }?.location.description ?? "userdb sql"
                let message = "\(location): \(key) has a % variable outside single quotes; its value is escaped but "
                    + "not quoted, so a recipient may still change the query. Write '%{user}', not %{user}."
                context.logger.warning("\(message)")
            }
            self.init(config: config, threadPool: context.threadPool, logger: context.logger, role: context.role)
            return
        }
        let kind = context.role.rawValue
        let path = settings.args.trimmingSpaces()
        guard !path.isEmpty else {
            throw ConfigError(
                "sql \(kind) needs the path of its dovecot-sql.conf.ext in args (args = /etc/homing/dovecot-sql.conf.ext)",
                at: settings.location)
        }
        let file: ExtConfigFile
        do {
            file = try ExtConfigFile.load(path: path)
        } catch {
            if error.location == nil { throw ConfigError("sql \(kind): \(error.message)", at: settings.location) }
            throw error
        }
        for warning in file.warnings { context.logger.warning("\(warning)") }
        let config = try SQLDriverConfig.make(from: file, path: path, blockLocation: settings.location, role: context.role)
        let checked = context.role == .passdb
            ? [("password_query", config.passwordQuery)] : [("user_query", config.userQuery), ("iterate_query", config.iterateQuery)]
        for (key, template) in checked {
            guard let template, template.hasUnquotedVariables else { continue }
            let location = file.entry(key)?.location.description ?? path
            let message = "\(location): \(key) has a % variable outside single quotes; its value is escaped but "
                + "not quoted, so a recipient may still change the query. Write '%u', not %u."
            context.logger.warning("\(message)")
        }
        self.init(config: config, threadPool: context.threadPool, logger: context.logger, role: context.role)
    }

    /// Creates the driver from parsed settings. The back-off delays are for tests.
    init(config: SQLDriverConfig, threadPool: NIOThreadPool, logger: Logger, role: DatabaseRole = .userdb,
         initialBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(30)) {
        self.config = config
        self.role = role
        self.threadPool = threadPool
        self.logger = logger
        let connectTimeout: Int? = config.connect.hasConnectTimeout
            ? nil : max(2, Int((config.connect.queryTimeout + .milliseconds(999)).components.seconds))
        // Dovecot's maxconns is per host: each server's pool may open that many.
        let configuration = ConnectionPoolStateMachine<PostgresConnection>.Configuration(
            maxConnections: config.connect.maxConnections, initialBackoff: initialBackoff, maxBackoff: maxBackoff)
        let names = config.connect.serverNames
        self.pools = config.connect.servers.enumerated().map { index, connectString in
            let prefix = index < names.count ? "\(names[index]): " : ""
            return ConnectionPool(
                configuration: configuration,
                open: {
                    do {
                        return try await threadPool.runIfActive {
                            PostgresConnection.open(connectString: connectString, connectTimeoutSeconds: connectTimeout)
                        }
                    } catch {
                        return .failure(ConnectionPoolError(reason: "the thread pool is not running"))
                    }
                },
                close: { connection in
                    do {
                        try await threadPool.runIfActive { connection.close() }
                    } catch {
                        connection.close()
                    }
                },
                onOpenFailure: { reason, failures in
                    logger.warning("sql: \(prefix)\(reason) (\(failures) failed attempt\(failures == 1 ? "" : "s") in a row)")
                })
        }
    }

    public func lookup(_ request: UserdbRequest) async -> UserdbResult {
        if request.cannotMatchAnyRow { return .notFound }
        let deadline = ContinuousClock.now + config.connect.queryTimeout
        let expander = UserdbVariables(request: request, syntax: config.syntax).expander()
        let (query, name) = role == .passdb
            ? (config.passwordQuery, config.syntax == .dovecot24 ? "query" : "password_query")
            : (config.userQuery, config.syntax == .dovecot24 ? "query" : "user_query")
        guard let query else { return .temporaryFailure(reason: "sql \(role.rawValue): no \(name) configured") }
        switch await run(query, name: name, expander: expander, deadline: deadline) {
        case .success(let rows):
            return SQLRowMapper.lookupResult(rows, user: request.user, role: role)
        case .failure(let failure):
            return .temporaryFailure(reason: failure.reason)
        }
    }

    /// Runs `iterate_query`; without one, users cannot be listed. It may take up to a minute
    /// (or `query_timeout`, when longer).
    public func iterateUsers() async throws(UserdbIterationError) -> [String] {
        guard let iterateQuery = config.iterateQuery else { throw .unsupported(driver: "sql (no iterate_query)") }
        let deadline = ContinuousClock.now + max(config.connect.queryTimeout, .seconds(60))
        let expander = UserdbVariables(request: UserdbRequest(user: "", service: "doveadm"), syntax: config.syntax).expander()
        switch await run(iterateQuery, name: "iterate_query", expander: expander, deadline: deadline) {
        case .success(let rows):
            return try SQLRowMapper.userNames(rows)
        case .failure(let failure):
            throw .failed(reason: failure.reason)
        }
    }

    public func shutdown() async {
        for pool in pools { await pool.shutDown() }
    }

    // MARK: - Running a query

    struct QueryFailure: Error {
        var reason: String
    }

    /// Leases a connection, runs the query on the thread pool and gives the connection back.
    /// A connection that sat idle and turns out dead (the server restarted) is replaced and the
    /// query tried once more, so a restart costs no lookup.
    private func run(
        _ template: SQLQueryTemplate, name: String, expander: VariableExpander, deadline: ContinuousClock.Instant
    ) async -> Result<SQLRows, QueryFailure> {
        var attempt = 0
        while true {
            attempt += 1
            let pool: ConnectionPool<PostgresConnection>
            let server: String
            let lease: PooledConnection<PostgresConnection>
            switch await leaseFromAnyServer(deadline: deadline) {
            case .success(let leased): (pool, server, lease) = leased
            case .failure(let failure): return .failure(failure)
            }
            let connection = lease.connection
            let rendered: (sql: String, parameters: [String])
            do {
                rendered = try template.render(with: expander, escape: connection.escapeLiteralContent)
            } catch {
                await pool.release(lease, reusable: true)
                return .failure(QueryFailure(reason: "\(name): \(error)"))
            }
            let outcome: Result<SQLRows, PostgresQueryError>
            do {
                outcome = try await threadPool.runIfActive {
                    connection.query(rendered.sql, parameters: rendered.parameters, deadline: deadline)
                }
            } catch {
                await pool.release(lease, reusable: true)
                return .failure(QueryFailure(reason: "the thread pool is not running"))
            }
            switch outcome {
            case .success(let rows):
                await pool.release(lease, reusable: connection.isUsable)
                return .success(rows)
            case .failure(.timedOut):
                await pool.release(lease, reusable: false)
                return .failure(QueryFailure(
                    reason: "\(name) got no answer from PostgreSQL within \(ConnectionPoolStateMachine<PostgresConnection>.format(config.connect.queryTimeout)) (query_timeout)"))
            case .failure(.connectionLost(let message)):
                await pool.release(lease, reusable: false, dropIdle: true)
                logger.warning("sql: \(server)connection to PostgreSQL lost: \(message)")
                // A reused connection may have died while idle; with several servers, another
                // one may answer. Either way once, within the same deadline.
                if attempt == 1, lease.reused || pools.count > 1, ContinuousClock.now < deadline { continue }
                return .failure(QueryFailure(reason: "\(server)connection to PostgreSQL lost: \(message)"))
            case .failure(.serverError(let message)):
                await pool.release(lease, reusable: connection.isUsable)
                return .failure(QueryFailure(reason: "\(name) failed: \(message)"))
            }
        }
    }
}

extension SQLUserdbDriver {
    /// Leases a connection from the servers in round-robin order, starting with the one after
    /// the previous lookup's: a server that cannot lend one (down, in its back-off, too slow)
    /// gives way to the next, each getting an equal share of the time left. Fails with every
    /// server's reason when none lends one. Returns the pool, the server's name for messages
    /// (`db1: `, empty with one server) and the lease.
    private func leaseFromAnyServer(
        deadline: ContinuousClock.Instant
    ) async -> Result<(ConnectionPool<PostgresConnection>, String, PooledConnection<PostgresConnection>), QueryFailure> {
        guard pools.count > 1 else {
            switch await pools[0].lease(deadline: deadline) {
            case .success(let lease): return .success((pools[0], "", lease))
            case .failure(let error): return .failure(QueryFailure(reason: error.reason))
            }
        }
        let names = config.connect.serverNames
        let start = rotation.next(count: pools.count)
        var reasons: [String] = []
        for offset in 0..<pools.count {
            let index = (start + offset) % pools.count
            let left = pools.count - offset
            let share = (deadline - .now) / left
            let name = index < names.count ? names[index] : "server \(index + 1)"
            switch await pools[index].lease(deadline: min(deadline, .now + share)) {
            case .success(let lease):
                return .success((pools[index], "\(name): ", lease))
            case .failure(let error):
                reasons.append("\(name): \(error.reason)")
            }
        }
        return .failure(QueryFailure(reason: "no PostgreSQL server could be used: " + reasons.joined(separator: "; ")))
    }
}

/// The index of the server a lookup asks first, advanced by each lookup (Dovecot spreads queries
/// over its hosts the same way).
final class ServerRotation: Sendable {
    private let counter = Mutex(0)

    /// The next start index in `0..<count`.
    func next(count: Int) -> Int {
        counter.withLock { value in
            defer { value = (value + 1) % max(1, count) }
            return value % max(1, count)
        }
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}

extension UserdbRequest {
    /// Whether the request holds a value no database row can match and that must never reach
    /// libpq (a NUL byte would cut the C string short and match a different user).
    var cannotMatchAnyRow: Bool {
        user.utf8.contains(0) || service.utf8.contains(0) || (localIP?.utf8.contains(0) ?? false)
            || (remoteIP?.utf8.contains(0) ?? false)
    }
}
