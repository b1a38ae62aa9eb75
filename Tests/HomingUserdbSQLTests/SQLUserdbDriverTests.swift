import HomingConfig
import HomingTestSupport
import HomingUserdb
import Testing

@testable import HomingUserdbSQL

/// The driver against a real PostgreSQL loaded with sql/schema.sql and sql/sample-data.sql,
/// configured by the shipped sql/dovecot-sql.conf.ext.
@Suite("sql userdb against PostgreSQL with the shipped sql/ files")
struct SQLUserdbDriverTests {
    @Test("Dovecot 2.4: two pgsql HOST { } blocks, the first refusing connections: lookups are answered by the second")
    func severalHosts24() async throws {
        let sample = try await TestPostgresSampleDatabase.create()
        let cluster = sample.cluster
        let text = """
            dovecot_config_version = 2.4.1
            dovecot_storage_version = 2.4.1
            protocols = lmtp
            sql_driver = pgsql
            pgsql 127.0.0.1 {
              parameters {
                port = \(freeLoopbackPort())
                dbname = \(sample.database)
                user = \(cluster.superuser)
                connect_timeout = 2
              }
            }
            pgsql localhost {
              parameters {
                hostaddr = 127.0.0.1
                port = \(cluster.port)
                dbname = \(sample.database)
                user = \(cluster.superuser)
                connect_timeout = 2
              }
            }
            userdb sql {
              query = SELECT home, uid, gid FROM users WHERE username = '%{user | username}' AND domain = '%{user | domain}'
            }
            """
        let loaded = ConfigurationLoader.parseAll(text: text, file: "/etc/homing/homing.conf")
        #expect(loaded.diagnostics.errors.isEmpty, "\(loaded.diagnostics.report)")
        let settings = try #require(loaded.settings.userdbs.first)
        try await withSQLEnvironment { environment, _ in
            let driver = try SQLUserdbDriver(settings: settings, context: environment.context)
            for _ in 0..<6 {
                let result = await driver.lookup(UserdbRequest(user: "alice@example.com"))
                #expect(result.record?.home == "/var/vmail/example.com/alice", "\(result)")
            }
            await driver.shutdown()
        }
    }

    @Test("a user's row gives home, mail, uid, gid and quota_rule")
    func eachField() async throws {
        try await withSampleDriver { driver, _, _ in
            let result = await driver.lookup(UserdbRequest(user: "alice@example.com"))
            #expect(result == .found(UserRecord(user: "alice@example.com", fields: [
                UserdbField("home", "/var/vmail/example.com/alice"), UserdbField("mail", "maildir:~/Maildir"),
                UserdbField("uid", "5000"), UserdbField("gid", "5000"), UserdbField("quota_rule", "*:bytes=1073741824"),
            ])))
            let small = await driver.lookup(UserdbRequest(user: "smallquota@example.com"))
            #expect(small.record?.quotaRule == "*:bytes=1048576")
        }
    }

    @Test("NULL columns are left out")
    func nullColumns() async throws {
        try await withSampleDriver { driver, _, _ in
            let bob = await driver.lookup(UserdbRequest(user: "bob@example.com"))
            #expect(bob.record?.fields.map(\.name) == ["home", "mail", "uid", "gid"])
            let carol = await driver.lookup(UserdbRequest(user: "carol@example.org"))
            #expect(carol == .found(UserRecord(user: "carol@example.org", fields: [
                UserdbField("home", "/var/vmail/example.org/carol"), UserdbField("uid", "5000"), UserdbField("gid", "5000"),
            ])))
        }
    }

    @Test("a missing user, an unknown domain and a name without domain are not found")
    func missing() async throws {
        try await withSampleDriver { driver, _, _ in
            #expect(await driver.lookup(UserdbRequest(user: "nobody@example.com")) == .notFound)
            #expect(await driver.lookup(UserdbRequest(user: "alice@example.net")) == .notFound)
            #expect(await driver.lookup(UserdbRequest(user: "alice")) == .notFound)
        }
    }

    @Test("an inactive user and the users of an inactive domain are not found")
    func inactive() async throws {
        try await withSampleDriver { driver, sample, _ in
            #expect(await driver.lookup(UserdbRequest(user: "disabled@example.com")) == .notFound)
            try await sample.execute("UPDATE domains SET active = false WHERE domain = 'example.org';")
            #expect(await driver.lookup(UserdbRequest(user: "carol@example.org")) == .notFound)
        }
    }

    @Test("an SQL injection attempt finds nobody and leaves the table intact")
    func injection() async throws {
        try await withSampleDriver { driver, sample, _ in
            for user in ["x'; DROP TABLE users; --@example.com", "alice' OR '1'='1@example.com",
                         "x\\'; DROP TABLE users; --@example.com", "alice\u{0}@example.com"] {
                #expect(await driver.lookup(UserdbRequest(user: user)) == .notFound)
            }
            let count = try await sample.execute("SELECT count(*) FROM users;")
            #expect(count == "6\n")
            #expect(await driver.lookup(UserdbRequest(user: "alice@example.com")).record != nil)
        }
    }

    @Test("values expanded into the query text (typed and E'' literals) are escaped too")
    func escapedPaths() async throws {
        let sample = try await TestPostgresSampleDatabase.create()
        try await withSQLEnvironment { environment, scratch in
            let conf = """
                driver = pgsql
                connect = \(sample.conninfo)
                user_query = SELECT home, uid, gid FROM users \\
                  WHERE username = E'%n' AND domain = text '%d' AND active
                """
            let driver = try environment.makeDriver(conf: conf, in: scratch)
            #expect(await driver.lookup(UserdbRequest(user: "bob@example.com")).record?.home == "/var/vmail/example.com/bob")
            for user in ["x\\'; DROP TABLE users; --@example.com", "bob@example.com'; DROP TABLE users; --"] {
                let result = await driver.lookup(UserdbRequest(user: user))
                #expect(result == .notFound || result.failureReason != nil)
            }
            #expect(try await sample.execute("SELECT count(*) FROM users;") == "6\n")
            await driver.shutdown()
        }
    }

    @Test("more than one row is a temporary failure with the reason")
    func multipleRows() async throws {
        let sample = try await TestPostgresSampleDatabase.create()
        try await withSQLEnvironment { environment, scratch in
            let conf = """
                driver = pgsql
                connect = \(sample.conninfo)
                user_query = SELECT home, uid, gid FROM users WHERE domain = '%d'
                """
            let driver = try environment.makeDriver(conf: conf, in: scratch)
            #expect(await driver.lookup(UserdbRequest(user: "alice@example.com")) == .temporaryFailure(
                reason: "user_query returned 5 rows for user alice@example.com, expected at most one (make the WHERE clause match a unique key)"))
            await driver.shutdown()
        }
    }

    @Test("a bad uid and a relative home are temporary failures naming user, column and value")
    func badValues() async throws {
        let sample = try await TestPostgresSampleDatabase.create()
        try await withSQLEnvironment { environment, scratch in
            let conf = """
                driver = pgsql
                connect = \(sample.conninfo)
                user_query = SELECT CASE WHEN username = 'alice' THEN 'var/vmail/alice' ELSE home END AS home, \\
                  CASE WHEN username = 'bob' THEN '12x' ELSE uid::text END AS uid \\
                  FROM users WHERE username = '%n' AND domain = '%d'
                """
            let driver = try environment.makeDriver(conf: conf, in: scratch)
            #expect(await driver.lookup(UserdbRequest(user: "alice@example.com")).failureReason
                == "user alice@example.com: user_query column 'home' has the value 'var/vmail/alice', which is not an absolute path")
            #expect(await driver.lookup(UserdbRequest(user: "bob@example.com")).failureReason
                == "user bob@example.com: user_query column 'uid' has the value '12x', which is neither a number nor a system user name")
            #expect(await driver.lookup(UserdbRequest(user: "carol@example.org")).record?.uid == "5000")
            await driver.shutdown()
        }
    }

    @Test("a user column changes the name; a parameter inside a function call is typed from it")
    func userColumn() async throws {
        let sample = try await TestPostgresSampleDatabase.create()
        try await withSQLEnvironment { environment, scratch in
            let conf = """
                driver = pgsql
                connect = \(sample.conninfo)
                user_query = SELECT username || '@' || domain AS user, home AS userdb_home \\
                  FROM users WHERE username = lower('%n') AND domain = lower('%d') AND uid = '%{env:HOMING_TEST_UID:5000}'
                """
            let driver = try environment.makeDriver(conf: conf, in: scratch)
            #expect(await driver.lookup(UserdbRequest(user: "ALICE@Example.COM")) == .found(UserRecord(
                user: "alice@example.com", fields: [UserdbField("home", "/var/vmail/example.com/alice")])))
            await driver.shutdown()
        }
    }

    @Test("an SQL error is a temporary failure with PostgreSQL's message, and the connection stays usable")
    func serverError() async throws {
        let sample = try await TestPostgresSampleDatabase.create()
        try await withSQLEnvironment { environment, scratch in
            let conf = """
                driver = pgsql
                connect = \(sample.conninfo)
                user_query = SELECT nosuch FROM users WHERE username = '%n' AND domain = '%d'
                """
            let driver = try environment.makeDriver(conf: conf, in: scratch)
            let reason = await driver.lookup(UserdbRequest(user: "alice@example.com")).failureReason
            #expect(reason?.hasPrefix("user_query failed: ERROR:  column \"nosuch\" does not exist") == true)
            let sql = try #require(driver as? SQLUserdbDriver)
            #expect(await sql.pool.idleCount == 1)
            await driver.shutdown()
        }
    }

    @Test("100 lookups in parallel all succeed on at most maxconns connections")
    func parallel() async throws {
        try await withSampleDriver(extraConnect: "maxconns=4") { driver, sample, _ in
            let users = ["alice@example.com", "bob@example.com", "carol@example.org", "nobody@example.com"]
            let results = await withTaskGroup(of: (String, UserdbResult).self) { group in
                for index in 0..<100 {
                    let user = users[index % users.count]
                    group.addTask { (user, await driver.lookup(UserdbRequest(user: user))) }
                }
                var collected: [(String, UserdbResult)] = []
                for await result in group { collected.append(result) }
                return collected
            }
            #expect(results.count == 100)
            for (user, result) in results {
                if user == "nobody@example.com" {
                    #expect(result == .notFound)
                } else {
                    #expect(result.record?.user == user)
                }
            }
            let sql = try #require(driver as? SQLUserdbDriver)
            #expect(await sql.pool.connectionCount <= 4)
            let connections = try await sample.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'homing';")
            #expect((Int(connections.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 99) <= 4)
        }
    }

    @Test("connections killed on the server are replaced without a failed lookup")
    func lostConnectionReplaced() async throws {
        try await withSampleDriver(extraConnect: "maxconns=2") { driver, sample, environment in
            #expect(await driver.lookup(UserdbRequest(user: "alice@example.com")).record != nil)
            try await sample.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'homing';")
            #expect(await driver.lookup(UserdbRequest(user: "alice@example.com")).record != nil)
            #expect(await driver.lookup(UserdbRequest(user: "bob@example.com")).record != nil)
            #expect(environment.logs.messages(at: .warning).contains { $0.hasPrefix("sql: connection to PostgreSQL lost") })
        }
    }

    @Test("a query slower than query_timeout is a temporary failure at the timeout")
    func queryTimeout() async throws {
        let sample = try await TestPostgresSampleDatabase.create()
        try await withSQLEnvironment { environment, scratch in
            let conf = """
                driver = pgsql
                connect = \(sample.conninfo) query_timeout=700ms
                user_query = SELECT home, uid, gid, \\
                  pg_sleep(CASE WHEN '%n' = 'alice' THEN 5 ELSE 0 END)::text AS slept \\
                  FROM users WHERE username = '%n' AND domain = '%d'
                """
            let driver = try environment.makeDriver(conf: conf, in: scratch)
            let clock = ContinuousClock()
            var result = UserdbResult.notFound
            let elapsed = await clock.measure { result = await driver.lookup(UserdbRequest(user: "alice@example.com")) }
            #expect(result.failureReason == "user_query got no answer from PostgreSQL within 0.7 s (query_timeout)")
            #expect(elapsed >= .milliseconds(650))
            // Ends by itself; loose because the suite shares two cores.
            #expect(elapsed < .seconds(20))
            #expect(await driver.lookup(UserdbRequest(user: "bob@example.com")).record?.home == "/var/vmail/example.com/bob")
            await driver.shutdown()
        }
    }

    @Test("iterate_query lists the active users in order")
    func iteration() async throws {
        try await withSampleDriver { driver, _, _ in
            let users = try await driver.iterateUsers()
            #expect(users == [
                "alice@example.com", "bob@example.com", "postmaster@example.com", "smallquota@example.com",
                "carol@example.org",
            ])
        }
    }

    @Test("without iterate_query users cannot be listed")
    func noIterateQuery() async throws {
        try await withSQLEnvironment { environment, scratch in
            let driver = try environment.makeDriver(
                conf: "driver = pgsql\nconnect = dbname=m\nuser_query = SELECT 1 WHERE x = '%u'", in: scratch)
            await #expect(throws: UserdbIterationError.unsupported(driver: "sql (no iterate_query)")) {
                try await driver.iterateUsers()
            }
            await driver.shutdown()
        }
    }
}
