import HomingConfig
import HomingTestSupport
import HomingUserdb
import Testing

@testable import HomingUserdbSQL

@Suite("dovecot-sql.conf.ext is read as Dovecot reads it")
struct SQLDriverConfigTests {
    func config(_ text: String) throws -> SQLDriverConfig {
        let file = try ExtConfigFile.parse(text: text, file: "/etc/homing/dovecot-sql.conf.ext")
        return try SQLDriverConfig.make(
            from: file, path: "/etc/homing/dovecot-sql.conf.ext", blockLocation: ConfigLocation(file: "homing.conf", line: 7))
    }

    func error(_ text: String) -> String? {
        do {
            _ = try config(text)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("the shipped sql/dovecot-sql.conf.ext is accepted with both queries")
    func shippedFile() throws {
        let file = try ExtConfigFile.load(path: TestPostgresSampleDatabase.sqlFile("dovecot-sql.conf.ext"))
        let parsed = try SQLDriverConfig.make(from: file, path: "x", blockLocation: nil)
        #expect(parsed.connect.maxConnections == 5)
        #expect(parsed.connect.libpqString == "host=localhost dbname=mail user=homing password=secret")
        #expect(parsed.userQuery?.hasUnquotedVariables == false)
        #expect(parsed.userQuery?.pieces.filter { if case .parameter = $0 { return true } else { return false } }
            == [.parameter("%n"), .parameter("%d")])
        #expect(parsed.iterateQuery != nil)
    }

    @Test("continued lines are joined and the password keys are ignored")
    func continuedLines() throws {
        let parsed = try config("""
            driver = pgsql
            connect = dbname=mail maxconns=3
            default_pass_scheme = SHA512-CRYPT
            password_query = SELECT password FROM users WHERE u = '%u'
            user_query = SELECT home \\
              FROM users WHERE u = '%u'
            """)
        #expect(parsed.connect.maxConnections == 3)
        #expect(parsed.userQuery?.source == "SELECT home FROM users WHERE u = '%u'")
        #expect(parsed.iterateQuery == nil)
    }

    @Test("another driver is an error at its line that lists the available drivers")
    func badDriver() {
        #expect(error("driver = mysql\nconnect = dbname=m\nuser_query = SELECT 1") ==
            "/etc/homing/dovecot-sql.conf.ext:1: driver = mysql: Homing has no such SQL driver (available: pgsql)")
    }

    @Test("a missing user_query is an error at the userdb block naming the file")
    func missingUserQuery() {
        #expect(error("driver = pgsql\nconnect = dbname=m\n") ==
            "homing.conf:7: /etc/homing/dovecot-sql.conf.ext has no 'user_query' setting (for example: user_query = SELECT home, uid, gid FROM users WHERE username = '%n' AND domain = '%d')")
    }

    @Test("missing driver and connect settings are errors")
    func missingDriverOrConnect() {
        #expect(error("connect = dbname=m\nuser_query = SELECT 1")?.contains("has no 'driver' setting (available: pgsql)") == true)
        #expect(error("driver = pgsql\nuser_query = SELECT 1")?.contains("has no 'connect' setting") == true)
    }

    @Test("an unknown key is an error at its line")
    func unknownKey() {
        #expect(error("driver = pgsql\nconnect = dbname=m\nuser_query = SELECT 1\nuser_qeury = x")?
            .hasPrefix("/etc/homing/dovecot-sql.conf.ext:4: unknown setting 'user_qeury' (known: ") == true)
    }

    @Test("an unknown % variable in a query is an error at start")
    func badVariable() {
        #expect(error("driver = pgsql\nconnect = dbname=m\nuser_query = SELECT 1 WHERE u = '%{nope}'") ==
            "/etc/homing/dovecot-sql.conf.ext:3: user_query: unknown variable %{nope} at position 20")
    }

    @Test("a bad maxconns is an error at the connect line")
    func badMaxconns() {
        #expect(error("driver = pgsql\nconnect = dbname=m maxconns=-2\nuser_query = SELECT 1") ==
            "/etc/homing/dovecot-sql.conf.ext:2: connect: maxconns=-2 is not a number of connections between 1 and 1000")
    }

    @Test("the registry builds the driver from args and reports a missing file at the userdb block")
    func registry() async throws {
        try await withSQLEnvironment { environment, scratch in
            let driver = try environment.makeDriver(
                conf: "driver = pgsql\nconnect = host=127.0.0.1 port=1 dbname=m\nuser_query = SELECT 1 WHERE x = '%u'",
                in: scratch)
            #expect(driver.driverName == "sql")
            await driver.shutdown()
            var registry = UserdbDriverRegistry()
            SQLUserdb.register(in: &registry)
            var settings = UserdbSettings(driver: "sql", location: ConfigLocation(file: "homing.conf", line: 9))
            settings.args = scratch.file("missing.conf.ext")
            #expect(throws: ConfigError.self) { try registry.makeDriver(for: settings, context: environment.context) }
            settings.args = ""
            #expect(throws: ConfigError.self) { try registry.makeDriver(for: settings, context: environment.context) }
        }
    }

    @Test("an unquoted variable in the user_query is warned about at start")
    func unquotedWarning() async throws {
        try await withSQLEnvironment { environment, scratch in
            let driver = try environment.makeDriver(
                conf: "driver = pgsql\nconnect = dbname=m\nuser_query = SELECT 1 WHERE x = %u", in: scratch)
            await driver.shutdown()
            #expect(environment.logs.messages(at: .warning).contains {
                $0.contains("user_query has a % variable outside single quotes")
            })
        }
    }
}
