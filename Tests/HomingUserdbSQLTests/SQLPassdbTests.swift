import HomingConfig
import HomingTestSupport
import HomingUserdb
import Testing

@testable import HomingUserdbSQL

/// `passdb { driver = sql }`: password_query against a real PostgreSQL.
@Suite("sql passdb (password_query) against PostgreSQL")
struct SQLPassdbTests {
    /// A database with a table of proxy destinations, and a dovecot-sql.conf.ext whose
    /// password_query returns Dovecot's proxy columns (and a userdb_ prefetch column).
    static func proxyDatabase() async throws -> (cluster: TestPostgres, database: String) {
        let cluster = try await TestPostgres.shared()
        let database = try await cluster.createDatabase()
        try await cluster.psql("""
            CREATE TABLE proxied (username text NOT NULL, domain text NOT NULL, host text, port integer,
                                  destuser text, password text);
            INSERT INTO proxied VALUES ('alice', 'example.com', '10.0.0.2', 2424, 'alice@backend', '{PLAIN}secret');
            INSERT INTO proxied VALUES ('bob', 'example.com', '10.0.0.3', NULL, NULL, NULL);
            INSERT INTO proxied VALUES ('o''brien', 'example.com', '10.0.0.4', 24, NULL, NULL);
            """, database: database)
        return (cluster, database)
    }

    static func conf(connect: String, passwordQuery: String? = proxyQuery, userQuery: Bool = false) -> String {
        var text = "driver = pgsql\nconnect = \(connect)\n"
        if let passwordQuery { text += "password_query = \(passwordQuery)\n" }
        if userQuery { text += "user_query = SELECT '/home/x' AS home FROM proxied WHERE username = '%n'\n" }
        return text
    }

    static let proxyQuery = "SELECT password, 'y' AS nopassword, 'y' AS proxy, host, port, destuser, "
        + "'/var/vmail/%d/%n' AS userdb_home FROM proxied WHERE username = '%n' AND domain = '%d'"

    /// A passdb chain of one sql block reading `conf`.
    static func chain(conf: String, in scratch: ScratchDirectory, environment: SQLTestEnvironment) throws -> PassdbChain {
        let path = try scratch.write("dovecot-sql.conf.ext", conf)
        var registry = UserdbDriverRegistry()
        SQLUserdb.register(in: &registry)
        var block = UserdbSettings(driver: "sql", location: ConfigLocation(file: "dovecot.conf", line: 12))
        block.args = path
        var settings = HomingSettings()
        settings.passdbs = [block]
        var context = environment.context
        context.settings = settings
        return try PassdbChain(settings: settings, registry: registry, context: context)
    }

    @Test("--print-2.4 writes the sql passdb with password_query as its query; the 2.4 file gives the same proxy fields")
    func printedAs24() async throws {
        let (cluster, database) = try await Self.proxyDatabase()
        try await withSQLEnvironment { environment, scratch in
            let path = try scratch.write(
                "dovecot-sql.conf.ext", Self.conf(connect: cluster.conninfo(database: database), userQuery: true))
            let conversion = try Passdb24Conversion(Passdb24Conversion.configuration(passdbs: """
                passdb {
                  driver = sql
                  args = \(path)
                }
                """))
            let text = conversion.text
            #expect(text.contains("passdb sql {"), "\(text)")
            #expect(text.contains("query = SELECT password"), "\(text)")
            #expect(conversion.new.diagnostics.errors.isEmpty, "\(conversion.new.diagnostics.report)\n\(text)")
            #expect(conversion.new.settings.lmtpProxy)
            var registry = UserdbDriverRegistry()
            SQLUserdb.register(in: &registry)
            let (answers, differences) = try await conversion.compare(
                ["alice@example.com", "bob@example.com", "o'brien@example.com", "nobody@example.com"],
                registry: registry, context: environment.context)
            #expect(differences.isEmpty, "\(differences)")
            #expect(answers["alice@example.com"]?.record?["host"] == "10.0.0.2")
        }
    }

    @Test("password_query's proxy columns are the answer; password, nopassword, NULLs and userdb_ columns are not")
    func proxyColumns() async throws {
        let (cluster, database) = try await Self.proxyDatabase()
        try await withSQLEnvironment { environment, scratch in
            let chain = try Self.chain(conf: Self.conf(connect: cluster.conninfo(database: database)), in: scratch,
                                       environment: environment)
            let alice = await chain.lookupPassdb(UserdbRequest(user: "alice@example.com"))
            #expect(alice == .found(UserRecord(user: "alice@example.com", fields: [
                UserdbField("proxy", "y"), UserdbField("host", "10.0.0.2"), UserdbField("port", "2424"),
                UserdbField("destuser", "alice@backend"),
            ])))
            let bob = await chain.lookupPassdb(UserdbRequest(user: "bob@example.com"))
            #expect(bob.record?.fields.map(\.name) == ["proxy", "host"])
            #expect(await chain.lookupPassdb(UserdbRequest(user: "carol@example.com")) == .notFound)
            await chain.shutdown()
        }
    }

    @Test("a quote in the user name is escaped: it finds its own row, and an injection finds nobody")
    func injection() async throws {
        let (cluster, database) = try await Self.proxyDatabase()
        try await withSQLEnvironment { environment, scratch in
            let chain = try Self.chain(conf: Self.conf(connect: cluster.conninfo(database: database)), in: scratch,
                                       environment: environment)
            #expect(await chain.lookupPassdb(UserdbRequest(user: "o'brien@example.com")).record?["host"] == "10.0.0.4")
            for user in ["x' OR '1'='1@example.com", "alice' --@example.com", "x'; DROP TABLE proxied; --@example.com",
                         "x\\' OR 1=1 --@example.com"] {
                #expect(await chain.lookupPassdb(UserdbRequest(user: user)) == .notFound, "\(user)")
            }
            #expect(await chain.lookupPassdb(UserdbRequest(user: "alice@example.com")).record?["host"] == "10.0.0.2")
            await chain.shutdown()
        }
    }

    @Test("a sql passdb needs password_query (error naming the file and the setting); user_query is not needed")
    func missingPasswordQuery() async throws {
        try await withSQLEnvironment { environment, scratch in
            let error = #expect(throws: ConfigError.self) {
                try Self.chain(conf: Self.conf(connect: "host=127.0.0.1 dbname=x", passwordQuery: nil, userQuery: true),
                               in: scratch, environment: environment)
            }
            #expect(error?.location == ConfigLocation(file: "dovecot.conf", line: 12))
            #expect(error?.message.contains(scratch.file("dovecot-sql.conf.ext") + " has no 'password_query' setting") == true)
            // A passdb-only file (no user_query) is fine for a passdb.
            let chain = try Self.chain(conf: Self.conf(connect: "host=127.0.0.1 dbname=x"), in: scratch, environment: environment)
            await chain.shutdown()
        }
    }

    @Test("the server down: the lookup is a temporary failure, logged as a passdb failure with user and driver")
    func serverDown() async throws {
        try await withSQLEnvironment { environment, scratch in
            let chain = try Self.chain(
                conf: Self.conf(connect: "host=127.0.0.1 port=1 dbname=mail user=homing connect_timeout=2"), in: scratch,
                environment: environment)
            let answer = await chain.lookupPassdb(UserdbRequest(user: "alice@example.com"))
            #expect(answer.failureReason != nil, "\(answer)")
            #expect(environment.logs.messages(at: .error).contains { $0.hasPrefix("passdb sql(alice@example.com): ") })
            await chain.shutdown()
        }
    }

    @Test("password_query rows: userdb_ columns left out, two rows a temporary failure naming password_query")
    func rowMapping() {
        let rows = SQLRows(columns: ["host", "userdb_uid", "uid"], rows: [["h", "1", "not-a-number"]])
        #expect(SQLRowMapper.lookupResult(rows, user: "a", role: .passdb)
            == .found(UserRecord(user: "a", fields: [UserdbField("host", "h"), UserdbField("uid", "not-a-number")])))
        let two = SQLRows(columns: ["host"], rows: [["a"], ["b"]])
        #expect(SQLRowMapper.lookupResult(two, user: "a", role: .passdb).failureReason?.hasPrefix(
            "password_query returned 2 rows for user a") == true)
    }

    @Test("Dovecot 2.4: passdb sql { query } with sql_driver and pgsql HOST { parameters { } } is the password query")
    func dovecot24() async throws {
        let (cluster, database) = try await Self.proxyDatabase()
        let loaded = ConfigurationLoader.parseAll(text: """
            dovecot_config_version = 2.4.1
            dovecot_storage_version = 2.4.1
            protocols = lmtp
            sql_driver = pgsql
            pgsql 127.0.0.1 {
              parameters {
                port = \(cluster.port)
                dbname = \(database)
                user = postgres
              }
            }
            passdb sql {
              query = SELECT 'y' AS proxy, host, port FROM proxied WHERE username = '%{user | username}' AND domain = '%{user | domain}'
              result_failure = return-fail
            }
            userdb static {
              fields {
                home = /var/vmail/%{user}
              }
            }
            """, file: "/etc/dovecot/dovecot.conf")
        #expect(loaded.diagnostics.errors.isEmpty, "\(loaded.diagnostics.report)")
        #expect(loaded.settings.passdbs.map(\.driver) == ["sql"])
        try await withSQLEnvironment { environment, _ in
            var registry = UserdbDriverRegistry()
            SQLUserdb.register(in: &registry)
            var context = environment.context
            context.settings = loaded.settings
            let chain = try PassdbChain(settings: loaded.settings, registry: registry, context: context)
            #expect(await chain.lookupPassdb(UserdbRequest(user: "o'brien@example.com")) == .found(UserRecord(
                user: "o'brien@example.com",
                fields: [UserdbField("proxy", "y"), UserdbField("host", "10.0.0.4"), UserdbField("port", "24")])))
            #expect(await chain.lookupPassdb(UserdbRequest(user: "x' OR '1'='1@example.com")) == .notFound)
            await chain.shutdown()
        }
    }
}
