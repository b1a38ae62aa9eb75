import Foundation

/// The project's sql/ files loaded into a fresh database of a ``TestPostgres`` cluster, and the
/// shipped sql/dovecot-sql.conf.ext pointed at it: what the SQL userdb tests and the LMTP
/// tests with an SQL user need.
///
/// ```swift
/// let sample = try await TestPostgresSampleDatabase.create()          // shared cluster
/// try await sample.relocateHomes(to: scratch.path)                    // homes under a temp dir
/// let conf = try sample.writeDovecotSQLConf(to: scratch.file("dovecot-sql.conf.ext"))
/// // userdb { driver = sql  args = \(conf) }
/// ```
public struct TestPostgresSampleDatabase: Sendable {
    /// The cluster holding the database.
    public let cluster: TestPostgres
    /// The database name.
    public let database: String

    /// The repository's top directory (found from this source file's path, or `HOMING_SOURCE_ROOT`).
    public static var repositoryRoot: String {
        if let override = ProcessInfo.processInfo.environment["HOMING_SOURCE_ROOT"] { return override }
        // .../Sources/HomingTestSupport/TestPostgresSampleDatabase.swift
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    /// `sql/NAME` in the repository: `schema.sql`, `sample-data.sql`, `dovecot-sql.conf.ext`.
    public static func sqlFile(_ name: String) -> String {
        repositoryRoot + "/sql/" + name
    }

    /// Creates a database loaded with sql/schema.sql and sql/sample-data.sql in `cluster`
    /// (default: the shared cluster).
    public static func create(in cluster: TestPostgres? = nil) async throws -> TestPostgresSampleDatabase {
        let target: TestPostgres
        if let cluster { target = cluster } else { target = try await TestPostgres.shared() }
        let database = try await target.createDatabase(loading: [sqlFile("schema.sql"), sqlFile("sample-data.sql")])
        return TestPostgresSampleDatabase(cluster: target, database: database)
    }

    /// The libpq conninfo of the database.
    public var conninfo: String { cluster.conninfo(database: database) }

    /// Runs SQL in the database (see ``TestPostgres/psql(_:database:)``).
    @discardableResult
    public func execute(_ sql: String) async throws -> String {
        try await cluster.psql(sql, database: database)
    }

    /// Moves every user's home from /var/vmail/... to `directory`/... (`<dir>/<domain>/<user>`),
    /// and optionally sets every uid and gid, so that deliveries can be tested without root
    /// paths.
    public func relocateHomes(to directory: String, uid: Int? = nil, gid: Int? = nil) async throws {
        var sql = "UPDATE users SET home = '\(directory.replacingOccurrences(of: "'", with: "''"))' || '/' || domain || '/' || username"
        if let uid { sql += ", uid = \(uid)" }
        if let gid { sql += ", gid = \(gid)" }
        try await execute(sql + ";")
    }

    /// The text of sql/dovecot-sql.conf.ext with its `connect` line pointing at this database
    /// (`extraConnect` is appended to it: `maxconns=2 query_timeout=1s`, say).
    public func dovecotSQLConf(extraConnect: String = "") throws -> String {
        let text = try String(contentsOfFile: Self.sqlFile("dovecot-sql.conf.ext"), encoding: .utf8)
        var connect = "connect = " + conninfo
        if !extraConnect.isEmpty { connect += " " + extraConnect }
        var replaced = false
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("connect ") || line.hasPrefix("connect=") else { return String(line) }
            replaced = true
            return connect
        }
        guard replaced else {
            throw TestProcessError(message: "sql/dovecot-sql.conf.ext has no 'connect =' line to replace")
        }
        return lines.joined(separator: "\n")
    }

    /// Writes ``dovecotSQLConf(extraConnect:)`` to `path` and returns the path.
    @discardableResult
    public func writeDovecotSQLConf(to path: String, extraConnect: String = "") throws -> String {
        try dovecotSQLConf(extraConnect: extraConnect).write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }
}
