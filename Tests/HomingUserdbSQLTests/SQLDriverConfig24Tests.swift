import Foundation
import HomingConfig
import HomingTestSupport
import HomingUserdb
import Testing

@testable import HomingUserdbSQL

@Suite("sql userdb settings in Dovecot 2.4 syntax")
struct SQLDriverConfig24Tests {
    static let header = "dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\nprotocols = lmtp\n"

    func userdb(_ text: String) throws -> UserdbSettings {
        let loaded = ConfigurationLoader.parseAll(text: Self.header + text, file: "/etc/homing/homing.conf")
        #expect(loaded.diagnostics.errors.isEmpty, "\(loaded.diagnostics.report)")
        return try #require(loaded.settings.userdbs.first)
    }

    @Test("sql_driver, pgsql HOST { parameters { } } and query give the same settings as a dovecot-sql.conf.ext")
    func settings() throws {
        let block = try userdb("""
            sql_driver = pgsql
            pgsql_connection_limit = 3
            pgsql db.example.com {
              parameters {
                dbname = mail
                user = homing
                password = "two words"
              }
            }
            userdb sql {
              query = SELECT home FROM users WHERE username = '%{user | username}' AND domain = '%{user | domain}'
              iterate_query = SELECT username, domain FROM users
            }
            """)
        let config = try SQLDriverConfig.make(settings24: block.driverSettings, blockLocation: block.location)
        #expect(config.connect.libpqString == "host=db.example.com dbname=mail user=homing password='two words'")
        #expect(config.connect.maxConnections == 3)
        #expect(config.syntax == .dovecot24)
        #expect(config.iterateQuery != nil)
        var expander = UserdbVariables(request: UserdbRequest(user: "alice@example.com")).expander()
        expander.syntax = .dovecot24
        let rendered = try #require(config.userQuery).render(with: expander, escape: SQLQueryTemplate.doublingQuotes)
        #expect(rendered.sql == "SELECT home FROM users WHERE username = $1 AND domain = $2")
        #expect(rendered.parameters == ["alice", "example.com"])
    }

    @Test("A missing sql_driver, pgsql block or query is an error at the block; a bad variable at its line")
    func errors() throws {
        func error(_ text: String) throws -> String? {
            let block = try userdb(text)
            do {
                _ = try SQLDriverConfig.make(settings24: block.driverSettings, blockLocation: block.location)
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(try error("userdb sql {\n  query = SELECT 1\n}\n")?.contains("needs sql_driver = pgsql") == true)
        #expect(try error("sql_driver = mysql\nuserdb sql {\n  query = SELECT 1\n}\n")?.contains("no such SQL driver") == true)
        #expect(try error("sql_driver = pgsql\nuserdb sql {\n  query = SELECT 1\n}\n")?.contains("pgsql HOST") == true)
        #expect(try error("sql_driver = pgsql\npgsql h {\n}\nuserdb sql {\n}\n")?.contains("needs query =") == true)
        #expect(try error("sql_driver = pgsql\npgsql h {\n}\nuserdb sql {\n  query = SELECT 1\n  fields {\n    x = %{sql:y}\n  }\n}\n")?
            .contains("fields { } } is not supported") == true)
        let loaded = ConfigurationLoader.parseAll(
            text: Self.header + "sql_driver = pgsql\npgsql h {\n}\nuserdb sql {\n  query = SELECT '%{nosuch}' AND '%u'\n}\n",
            file: "/etc/homing/homing.conf")
        let found = loaded.diagnostics.errors.map(\.description)
        #expect(found.contains { $0.contains("homing.conf:8: query: unknown variable 'nosuch'") }, "\(found)")
        #expect(found.contains { $0.contains("homing.conf:8: query: %u") && $0.contains("%{user}") })
    }

    @Test("--print-2.4 folds the shipped dovecot-sql.conf.ext into the main file and reads back to the same settings")
    func roundTrip() throws {
        let path = TestPostgresSampleDatabase.sqlFile("dovecot-sql.conf.ext")
        let old = try ConfigurationLoader.parse(
            text: "protocols = lmtp\npostmaster_address = p@example.com\nuserdb {\n  driver = sql\n  args = \(path)\n}\n",
            file: "/etc/homing/homing.conf")
        let oldConfig = try SQLDriverConfig.make(from: try ExtConfigFile.load(path: path), path: path, blockLocation: nil)
        let text = Dovecot24Printer.text(for: old)
        let new = ConfigurationLoader.parseAll(text: text, file: "/etc/homing/homing24.conf")
        #expect(new.diagnostics.errors.isEmpty, "\(new.diagnostics.report)\n\(text)")
        let block = try #require(new.settings.userdbs.first)
        let newConfig = try SQLDriverConfig.make(settings24: block.driverSettings, blockLocation: block.location)
        #expect(newConfig.connect.libpqString == oldConfig.connect.libpqString)
        #expect(newConfig.connect.maxConnections == oldConfig.connect.maxConnections)
        let request = UserdbRequest(user: "o'brien@example.com")
        let oldExpander = UserdbVariables(request: request).expander()
        var newExpander = oldExpander
        newExpander.syntax = .dovecot24
        for (a, b) in [(oldConfig.userQuery!, newConfig.userQuery!), (oldConfig.iterateQuery!, newConfig.iterateQuery!)] {
            let before = try a.render(with: oldExpander, escape: SQLQueryTemplate.doublingQuotes)
            let after = try b.render(with: newExpander, escape: SQLQueryTemplate.doublingQuotes)
            #expect(before.sql == after.sql)
            #expect(before.parameters == after.parameters)
        }
    }

    @Test("several pgsql HOST { } blocks are several servers, in order, each with its own parameters")
    func severalHosts() throws {
        let block = try userdb("""
            sql_driver = pgsql
            pgsql_connection_limit = 4
            pgsql primary.example.com {
              parameters {
                dbname = mail
                user = homing
              }
            }
            pgsql standby.example.com {
              parameters {
                dbname = mail
                user = reader
                port = 5433
              }
            }
            userdb sql {
              query = SELECT home FROM users WHERE userid = '%{user}'
            }
            """)
        let config = try SQLDriverConfig.make(settings24: block.driverSettings, blockLocation: block.location)
        #expect(config.connect.servers == [
            "host=primary.example.com dbname=mail user=homing",
            "host=standby.example.com dbname=mail user=reader port=5433",
        ])
        #expect(config.connect.serverNames == ["primary.example.com", "standby.example.com"])
        #expect(config.connect.maxConnections == 4)
    }

    @Test("--print-2.4 turns a connect with several host= words into one pgsql block per host, read back as the same servers")
    func severalHostsRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/dovecot-sql.conf.ext"
        try """
            driver = pgsql
            connect = host=db1.example.com host=db2.example.com dbname=mail user=homing maxconns=7
            user_query = SELECT home, uid, gid FROM users WHERE userid = '%u'

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let old = try ConfigurationLoader.parse(
            text: "protocols = lmtp\npostmaster_address = p@example.com\nuserdb {\n  driver = sql\n  args = \(path)\n}\n",
            file: "/etc/homing/homing.conf")
        let oldConfig = try SQLDriverConfig.make(from: try ExtConfigFile.load(path: path), path: path, blockLocation: nil)
        let text = Dovecot24Printer.text(for: old)
        #expect(text.contains("pgsql db1.example.com {") && text.contains("pgsql db2.example.com {"), "\(text)")
        let new = ConfigurationLoader.parseAll(text: text, file: "/etc/homing/homing24.conf")
        #expect(new.diagnostics.errors.isEmpty, "\(new.diagnostics.report)\n\(text)")
        let block = try #require(new.settings.userdbs.first)
        let newConfig = try SQLDriverConfig.make(settings24: block.driverSettings, blockLocation: block.location)
        #expect(newConfig.connect.servers == oldConfig.connect.servers)
        #expect(newConfig.connect.serverNames == oldConfig.connect.serverNames)
        #expect(newConfig.connect.maxConnections == 7)
    }
}
