import HomingConfig
import HomingUserdb

/// The settings of a dovecot-sql.conf.ext that the `sql` userdb uses.
///
/// Read: `driver` (only `pgsql`), `connect` (see ``PostgresConnectString``), `user_query`
/// (required), `iterate_query` (optional: without it users cannot be listed). Accepted and
/// ignored, as they serve Dovecot's passdb: `password_query`, `update_query`,
/// `default_pass_scheme`, `userdb_warning_disable`. Any other key is an error, as in Dovecot.
struct SQLDriverConfig: Sendable, Hashable {
    var connect: PostgresConnectString
    var userQuery: SQLQueryTemplate
    var iterateQuery: SQLQueryTemplate?
    /// The file, for messages.
    var path: String

    /// The back ends Homing implements.
    static let availableDrivers = ["pgsql"]
    static let usedKeys: Set<String> = ["driver", "connect", "user_query", "iterate_query"]
    static let ignoredKeys: Set<String> = [
        "password_query", "update_query", "default_pass_scheme", "userdb_warning_disable",
    ]

    /// Builds the settings from a parsed file. `blockLocation` (the `userdb { }` block) is used
    /// for problems that have no line in the file (a missing setting).
    static func make(from file: ExtConfigFile, path: String, blockLocation: ConfigLocation?) throws(ConfigError) -> SQLDriverConfig {
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
        guard let userQuery = file.entry("user_query"), !userQuery.value.allSatisfy(\.isWhitespace) else {
            throw ConfigError(
                "\(path) has no 'user_query' setting (for example: user_query = SELECT home, uid, gid "
                    + "FROM users WHERE username = '%n' AND domain = '%d')", at: file.entry("user_query")?.location ?? blockLocation)
        }
        let userTemplate = try checkedTemplate(userQuery)
        var iterateTemplate: SQLQueryTemplate?
        if let iterate = file.entry("iterate_query"), !iterate.value.allSatisfy(\.isWhitespace) {
            iterateTemplate = try checkedTemplate(iterate)
        }
        return SQLDriverConfig(connect: connectString, userQuery: userTemplate, iterateQuery: iterateTemplate, path: path)
    }

    /// Splits a query and expands it once with sample values, so that an unknown variable or a
    /// bad `%` is an error at start rather than at the first lookup.
    private static func checkedTemplate(_ entry: ExtConfigEntry) throws(ConfigError) -> SQLQueryTemplate {
        let template = SQLQueryTemplate(entry.value)
        let sample = UserdbVariables.sample.expander()
        do {
            // The whole query first, so that positions in messages count from its start.
            _ = try sample.expand(entry.value)
            _ = try template.render(with: sample, escape: SQLQueryTemplate.doublingQuotes)
        } catch {
            throw ConfigError("\(entry.key): \(error)", at: entry.location)
        }
        return template
    }
}
