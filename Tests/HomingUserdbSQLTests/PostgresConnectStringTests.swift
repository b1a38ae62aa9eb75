import HomingConfig
import Testing

@testable import HomingUserdbSQL

@Suite("connect = ... (libpq conninfo with Dovecot's and Homing's extras)")
struct PostgresConnectStringTests {
    let location = ConfigLocation(file: "dovecot-sql.conf.ext", line: 3)

    @Test("a plain conninfo is passed through unchanged with the default pool size and timeout")
    func passThrough() throws {
        let parsed = try PostgresConnectString.parse("host=db1 dbname=mail user=homing password=secret", at: location)
        #expect(parsed.libpqString == "host=db1 dbname=mail user=homing password=secret")
        #expect(parsed.maxConnections == 5)
        #expect(parsed.queryTimeout == .seconds(5))
        #expect(parsed.hasConnectTimeout == false)
    }

    @Test("maxconns is taken out and sets the pool size")
    func maxconns() throws {
        let parsed = try PostgresConnectString.parse("host=db1 maxconns=12 dbname=mail", at: location)
        #expect(parsed.libpqString == "host=db1 dbname=mail")
        #expect(parsed.maxConnections == 12)
    }

    @Test("spaces around = and quoted values with escapes are kept for libpq")
    func quoting() throws {
        let parsed = try PostgresConnectString.parse(
            #"host = db1 password='it\'s a secret' maxconns = 3 sslmode=require"#, at: location)
        #expect(parsed.libpqString == #"host = db1 password='it\'s a secret' sslmode=require"#)
        #expect(parsed.maxConnections == 3)
    }

    @Test("query_timeout takes seconds, an s suffix or milliseconds")
    func queryTimeout() throws {
        #expect(try PostgresConnectString.parse("dbname=m query_timeout=2", at: location).queryTimeout == .seconds(2))
        #expect(try PostgresConnectString.parse("dbname=m query_timeout=7s", at: location).queryTimeout == .seconds(7))
        #expect(try PostgresConnectString.parse("dbname=m query_timeout=250ms", at: location).queryTimeout == .milliseconds(250))
        #expect(try PostgresConnectString.parse("dbname=m query_timeout=250ms", at: location).libpqString == "dbname=m")
    }

    @Test("a connect_timeout of the administrator is noticed and kept")
    func connectTimeout() throws {
        let parsed = try PostgresConnectString.parse("dbname=m connect_timeout=3", at: location)
        #expect(parsed.hasConnectTimeout)
        #expect(parsed.libpqString == "dbname=m connect_timeout=3")
    }

    @Test("bad maxconns and query_timeout values are errors at the connect line")
    func badValues() {
        for text in ["maxconns=0", "maxconns=x", "maxconns=", "maxconns=1001"] {
            #expect(throws: ConfigError.self) { try PostgresConnectString.parse("dbname=m " + text, at: location) }
        }
        for text in ["query_timeout=0", "query_timeout=-1", "query_timeout=5m", "query_timeout=abc", "query_timeout=3601"] {
            #expect(throws: ConfigError.self) { try PostgresConnectString.parse("dbname=m " + text, at: location) }
        }
        do {
            _ = try PostgresConnectString.parse("dbname=m maxconns=zero", at: location)
            Issue.record("no error")
        } catch {
            #expect(error.description == "dovecot-sql.conf.ext:3: connect: maxconns=zero is not a number of connections between 1 and 1000")
        }
    }

    @Test("a word without = and an unterminated quote are errors")
    func malformed() {
        #expect(throws: ConfigError.self) { try PostgresConnectString.parse("host=db1 dbname", at: location) }
        #expect(throws: ConfigError.self) { try PostgresConnectString.parse("password='open", at: location) }
    }

    @Test("several host= words are servers of their own sharing the other words, as in Dovecot's sqlpool")
    func severalHosts() throws {
        let parsed = try PostgresConnectString.parse(
            "host=db1 dbname=mail maxconns=2 host=db2 port=5433 user=homing", at: location)
        #expect(parsed.servers == [
            "host=db1 dbname=mail port=5433 user=homing", "host=db2 dbname=mail port=5433 user=homing",
        ])
        #expect(parsed.serverNames == ["db1", "db2"])
        #expect(parsed.maxConnections == 2)
    }

    @Test("libpq's multi-host form is one server passed unchanged, target_session_attrs included")
    func libpqHostList() throws {
        let text = "host=127.0.0.1,127.0.0.1 port=5432,5433 dbname=mail target_session_attrs=read-write"
        let parsed = try PostgresConnectString.parse(text + " maxconns=4", at: location)
        #expect(parsed.servers == [text])
        #expect(parsed.serverNames.isEmpty)
        let uri = try PostgresConnectString.parse(
            "postgresql://db1:5432,db2:5433/mail?target_session_attrs=any&maxconns=4", at: location)
        #expect(uri.servers == ["postgresql://db1:5432,db2:5433/mail?target_session_attrs=any"])
    }

    @Test("one host= word is one server, with no name in messages")
    func oneHost() throws {
        let parsed = try PostgresConnectString.parse("dbname=mail host=db1", at: location)
        #expect(parsed.servers == ["host=db1 dbname=mail"])
        #expect(parsed.serverNames.isEmpty)
        #expect(try PostgresConnectString.parse("dbname=mail", at: location).servers == ["dbname=mail"])
    }

    @Test("a URI keeps its query string minus the extras, which may also follow it")
    func uri() throws {
        let parsed = try PostgresConnectString.parse(
            "postgresql://homing:pw@db1:5433/mail?sslmode=require&maxconns=9&query_timeout=3", at: location)
        #expect(parsed.libpqString == "postgresql://homing:pw@db1:5433/mail?sslmode=require")
        #expect(parsed.maxConnections == 9)
        #expect(parsed.queryTimeout == .seconds(3))
        let after = try PostgresConnectString.parse("postgres://db1/mail maxconns=2", at: location)
        #expect(after.libpqString == "postgres://db1/mail")
        #expect(after.maxConnections == 2)
        let only = try PostgresConnectString.parse("postgresql://db1/mail?maxconns=2", at: location)
        #expect(only.libpqString == "postgresql://db1/mail")
    }

    @Test("libpq parameters after a URI are an error that says where they go")
    func uriWithTrailingParameters() {
        do {
            _ = try PostgresConnectString.parse("postgresql://db1/mail sslmode=require", at: location)
            Issue.record("no error")
        } catch {
            #expect(error.description.contains("put 'sslmode' in the URI's query string"))
        }
    }
}
