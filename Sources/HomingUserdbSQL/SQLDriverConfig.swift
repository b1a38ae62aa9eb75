import HomingConfig
import HomingUserdb

/// The settings the `sql` userdb uses, read from a dovecot-sql.conf.ext (Dovecot 2.3, see
/// ``make(from:path:blockLocation:)``) or from the main file's 2.4 settings
/// (``make(settings24:blockLocation:)``): one struct, two readers.
///
/// Read: `driver` (only `pgsql`), `connect` (see ``PostgresConnectString``), `user_query`
/// (required for a userdb), `password_query` (required for a passdb), `iterate_query`
/// (optional: without it users cannot be listed). Accepted and ignored, as they serve password
/// checking: `update_query`, `default_pass_scheme`, `userdb_warning_disable`. Any other key is
/// an error, as in Dovecot.
struct SQLDriverConfig: Sendable, Hashable {
    var connect: PostgresConnectString
    /// `user_query`; always set for a userdb.
    var userQuery: SQLQueryTemplate?
    /// `password_query`; always set for a passdb.
    var passwordQuery: SQLQueryTemplate?
    var iterateQuery: SQLQueryTemplate?
    /// The file, for messages.
    var path: String
    /// The syntax of the queries' `%` variables.
    var syntax: VariableSyntax = .dovecot23

    /// The back ends Homing implements.
    static let availableDrivers = ["pgsql"]
    static let usedKeys: Set<String> = ["driver", "connect", "user_query", "password_query", "iterate_query"]
    static let ignoredKeys: Set<String> = [
        "update_query", "default_pass_scheme", "userdb_warning_disable",
    ]

    /// Builds the settings from a parsed file. `blockLocation` (the `userdb { }` or `passdb { }`
    /// block) is used for problems that have no line in the file (a missing setting). A userdb
    /// needs `user_query`, a passdb `password_query`; the other one is checked when present.
    static func make(
        from file: ExtConfigFile, path: String, blockLocation: ConfigLocation?, role: DatabaseRole = .userdb
    ) throws(ConfigError) -> SQLDriverConfig {
        for entry in file.entries where !usedKeys.contains(entry.key) && !ignoredKeys.contains(entry.key) {
            let known = (usedKeys.union(ignoredKeys)).sorted().joined(separator: ", ")
            throw ConfigError("unknown setting '\(entry.key)' (known: \(known))", at: entry.location)
        }
        guard let driver = file.entry("driver") else {
            throw ConfigError(
                "\(path) has no 'driver' setting (available: \(availableDrivers.joined(separator: ", ")))",
                at: blockLocation)
        }
        guard availableDrivers.contains(driver.value) else {
            throw ConfigError(
                "driver = \(driver.value): Homing has no such SQL driver (available: "
                    + "\(availableDrivers.joined(separator: ", ")))", at: driver.location)
        }
        guard let connect = file.entry("connect") else {
            throw ConfigError(
                "\(path) has no 'connect' setting (connect = host=... dbname=... user=... password=...)",
                at: blockLocation)
        }
        let connectString = try PostgresConnectString.parse(connect.value, at: connect.location)
        func template(_ key: String) throws(ConfigError) -> SQLQueryTemplate? {
            guard let entry = file.entry(key), !entry.value.allSatisfy(\.isWhitespace) else { return nil }
            return try checkedTemplate(entry)
        }
        let userTemplate = try template("user_query")
        let passwordTemplate = try template("password_query")
        if role == .userdb, userTemplate == nil {
            throw ConfigError(
                "\(path) has no 'user_query' setting (for example: user_query = SELECT home, uid, gid "
                    + "FROM users WHERE username = '%n' AND domain = '%d')", at: file.entry("user_query")?.location ?? blockLocation)
        }
        if role == .passdb, passwordTemplate == nil {
            throw ConfigError(
                "\(path) has no 'password_query' setting, which a sql passdb needs (for example: password_query = "
                    + "SELECT NULL AS password, 'y' AS nopassword, host, 'y' AS proxy FROM users WHERE username = '%n' "
                    + "AND domain = '%d')", at: file.entry("password_query")?.location ?? blockLocation)
        }
        var config = SQLDriverConfig(
            connect: connectString, userQuery: userTemplate, iterateQuery: try template("iterate_query"), path: path)
        config.passwordQuery = passwordTemplate
        return config
    }

    /// Splits a query and expands it once with sample values, so that an unknown variable or a
    /// bad `%` is an error at start rather than at the first lookup.
    private static func checkedTemplate(_ entry: ExtConfigEntry, syntax: VariableSyntax = .dovecot23) throws(ConfigError) -> SQLQueryTemplate {
        let template = SQLQueryTemplate(entry.value)
        let sample = UserdbVariables.sample(syntax: syntax).expander()
        do {
            // The whole query first, so that positions in messages count from its start.
            _ = try sample.expand(entry.value)
            _ = try template.render(with: sample, escape: SQLQueryTemplate.doublingQuotes)
        } catch {
            throw ConfigError("\(entry.key): \(error)", at: entry.location)
        }
        return template
    }

    // MARK: - Dovecot 2.4

    /// Builds the settings from a 2.4 `userdb sql { }` block's ``UserdbSettings/driverSettings``:
    /// `sql_driver = pgsql`, `pgsql HOST { parameters { KEY = VALUE } }` (one block per server:
    /// several are spread over and failed over as 2.3's several `host=` words are; the
    /// parameters are libpq's: dbname, user, password, port...), `pgsql_connection_limit` (the
    /// pool size), the block's `query` (required) and `iterate_query`. For a `passdb sql { }`
    /// block (`kind`, for messages) the caller takes `query` as the password query.
    static func make(
        settings24 entries: [ExtConfigEntry], blockLocation: ConfigLocation?, kind: String = "userdb"
    ) throws(ConfigError) -> SQLDriverConfig {
        func last(_ key: String) -> ExtConfigEntry? { entries.last { $0.key == key } }
        if let field = entries.first(where: { $0.key.hasPrefix("fields/") || $0.key.hasPrefix("iterate_fields/") }) {
            throw ConfigError(
                "\(kind) sql { fields { } } is not supported by Homing: return the field from the query "
                    + "(SELECT ... AS \(field.key.split(separator: "/").last ?? "name"))", at: field.location)
        }
        guard let driver = last("sql_driver") else {
            throw ConfigError("\(kind) sql needs sql_driver = pgsql (at the top level or in the \(kind) block)", at: blockLocation)
        }
        guard ["pgsql", "postgresql"].contains(driver.value) else {
            throw ConfigError("sql_driver = \(driver.value): Homing has no such SQL driver (available: pgsql)", at: driver.location)
        }
        // Every `pgsql HOST { }` block is a server, in the order written: several are used as
        // Dovecot uses them (and as several host= words in a 2.3 connect): spread and failed over.
        var hosts: [ExtConfigEntry] = []
        for entry in entries where entry.key.hasPrefix("pgsql/") && !entry.key.dropFirst(6).contains("/") {
            if !hosts.contains(where: { $0.value == entry.value }) { hosts.append(entry) }
        }
        guard let firstHost = hosts.first else {
            throw ConfigError("\(kind) sql needs a pgsql HOST { parameters { dbname = ... user = ... password = ... } } block",
                              at: blockLocation)
        }
        let limit = last("pgsql_connection_limit") ?? last("pgsql/\(firstHost.value)/connection_limit")
        var servers: [PostgresConnectString] = []
        for host in hosts {
            var words = ["host=\(quotedParameter(host.value))"]
            let prefix = "pgsql/\(host.value)/parameters/"
            var seen: Set<String> = []
            for entry in entries.reversed() where entry.key.hasPrefix(prefix) {
                let name = String(entry.key.dropFirst(prefix.count))
                guard seen.insert(name).inserted else { continue }
                words.insert("\(name)=\(quotedParameter(entry.value))", at: 1)
            }
            if let limit { words.append("maxconns=\(limit.value)") }
            servers.append(try PostgresConnectString.parse(words.joined(separator: " "), at: host.location))
        }
        var connect = servers[0]
        if servers.count > 1 {
            connect.servers = servers.map(\.libpqString)
            connect.serverNames = hosts.map(\.value)
            connect.hasConnectTimeout = servers.allSatisfy(\.hasConnectTimeout)
        }
        guard let query = last("query"), !query.value.allSatisfy(\.isWhitespace) else {
            throw ConfigError(
                "\(kind) sql needs query = SELECT home, uid, gid FROM users WHERE userid = '%{user | username}' "
                    + "AND domain = '%{user | domain}'", at: blockLocation)
        }
        var named = query
        named.key = "query"
        let userTemplate = try checkedTemplate(named, syntax: .dovecot24)
        var iterateTemplate: SQLQueryTemplate?
        if let iterate = last("iterate_query"), !iterate.value.allSatisfy(\.isWhitespace) {
            iterateTemplate = try checkedTemplate(iterate, syntax: .dovecot24)
        }
        var config = SQLDriverConfig(connect: connect, userQuery: userTemplate, iterateQuery: iterateTemplate,
                                     path: blockLocation?.file ?? "\(kind) sql")
        config.syntax = .dovecot24
        return config
    }

    /// A libpq connection parameter value, quoted when it holds blanks, quotes or backslashes.
    private static func quotedParameter(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "'" || $0 == "\\" || $0 == "\t" }) else { return value }
        var out = "'"
        for character in value {
            if character == "'" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "'"
    }
}
