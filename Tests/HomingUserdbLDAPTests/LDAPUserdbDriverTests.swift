import Foundation
import HomingConfig
import HomingTestSupport
import HomingUserdb
import Logging
import NIOPosix
import Testing

@testable import HomingUserdbLDAP

/// A test slapd loaded with ldap/, a thread pool and a scratch directory for one test.
struct LDAPFixture {
    let slapd: TestSlapd
    let scratch: ScratchDirectory
    let threadPool: NIOThreadPool

    static func run(_ body: (LDAPFixture) async throws -> Void) async throws {
        let slapd = try TestSlapd.start()
        defer { slapd.remove() }
        let scratch = try ScratchDirectory("homing-ldap-test")
        defer { scratch.remove() }
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        do {
            try await body(LDAPFixture(slapd: slapd, scratch: scratch, threadPool: pool))
        } catch {
            try? await pool.shutdownGracefully()
            throw error
        }
        try await pool.shutdownGracefully()
    }

    /// The shipped ldap/dovecot-ldap.conf.ext pointed at the test server, with `overrides`,
    /// made into a driver through the registry as `userdb { driver = ldap args = ... }` does.
    func driver(_ overrides: [(key: String, value: String?)] = []) throws -> any UserdbDriver {
        let path = try slapd.writeDovecotLDAPConf(
            to: scratch.file("ldap-\(UUID().uuidString).conf.ext"), overrides: overrides)
        var registry = UserdbDriverRegistry()
        LDAPUserdb.register(in: &registry)
        var block = UserdbSettings(driver: "ldap")
        block.args = path
        let context = UserdbDriverContext(threadPool: threadPool, logger: Logger(label: "test"), settings: HomingSettings())
        return try registry.makeDriver(for: block, context: context)
    }

    /// A driver with short timeouts, for the hung-server test.
    func driver(timeouts: LDAPTimeouts) throws -> LDAPUserdbDriver {
        let path = try slapd.writeDovecotLDAPConf(to: scratch.file("ldap-short.conf.ext"))
        return LDAPUserdbDriver(ldapSettings: try LDAPSettings.load(path: path), threadPool: threadPool,
                                logger: Logger(label: "test"), timeouts: timeouts)
    }
}

/// Connections to 127.0.0.1:`port` that are established now, counted on the server's side
/// (from /proc/net/tcp: the local port is `port`).
func establishedConnections(toPort port: Int) throws -> Int {
    let table = try String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)
    let local = String(format: "0100007F:%04X", port)
    return table.split(separator: "\n").dropFirst().filter { line in
        let fields = line.split(separator: " ")
        return fields.count > 3 && fields[1] == local && fields[3] == "01"
    }.count
}

func lookup(_ driver: any UserdbDriver, _ user: String) async -> UserdbResult {
    await driver.lookup(UserdbRequest(user: user))
}

func record(_ user: String, _ fields: [(String, String)]) -> UserdbResult {
    .found(UserRecord(user: user, fields: fields.map { UserdbField($0.0, $0.1) }))
}

@Suite("ldap userdb against a real slapd")
struct LDAPUserdbDriverTests {
    @Test("The shipped configuration maps user, home, uid, gid, mail and quota_rule for each sample user")
    func shippedMapping() async throws {
        try await LDAPFixture.run { fixture in
            let driver = try fixture.driver()
            #expect(await lookup(driver, "alice@example.com") == record("alice@example.com", [
                ("home", "/var/vmail/example.com/alice"), ("uid", "5000"), ("gid", "5000"),
                ("mail", "maildir:/var/vmail/example.com/alice/Maildir"), ("quota_rule", "*:bytes=1073741824"),
            ]))
            #expect(await lookup(driver, "smallquota@example.com") == record("smallquota@example.com", [
                ("home", "/var/vmail/example.com/smallquota"), ("uid", "5000"), ("gid", "5000"),
                ("mail", "maildir:/var/vmail/example.com/smallquota/Maildir"), ("quota_rule", "*:bytes=1048576"),
            ]))
            // No homingMailQuota: no quota_rule (as sql/sample-data.sql).
            #expect(await lookup(driver, "bob@example.com") == record("bob@example.com", [
                ("home", "/var/vmail/example.com/bob"), ("uid", "5000"), ("gid", "5000"),
                ("mail", "maildir:/var/vmail/example.com/bob/Maildir"),
            ]))
            #expect(await lookup(driver, "carol@example.org") == record("carol@example.org", [
                ("home", "/var/vmail/example.org/carol"), ("uid", "5000"), ("gid", "5000"),
                ("mail", "maildir:/var/vmail/example.org/carol/Maildir"),
            ]))
            #expect(await lookup(driver, "postmaster@example.com") == record("postmaster@example.com", [
                ("home", "/var/vmail/example.com/postmaster"), ("uid", "5000"), ("gid", "5000"),
                ("mail", "maildir:/var/vmail/example.com/postmaster/Maildir"),
            ]))
            await driver.shutdown()
        }
    }

    @Test("Unknown users and domains are not found, and an inactive user is not found either")
    func notFound() async throws {
        try await LDAPFixture.run { fixture in
            let driver = try fixture.driver()
            #expect(await lookup(driver, "nobody@example.com") == .notFound)
            #expect(await lookup(driver, "alice@example.net") == .notFound)
            #expect(await lookup(driver, "alice") == .notFound)
            #expect(await lookup(driver, "disabled@example.com") == .notFound)
            await driver.shutdown()
        }
    }

    @Test("A recipient written to widen the filter matches nobody")
    func filterInjection() async throws {
        try await LDAPFixture.run { fixture in
            let driver = try fixture.driver()
            for hostile in [
                "*)(uid=*))(|(uid=*@example.com", "*", "*@example.com", "alice@example.com)(mail=*",
                "alice@example.com)(|(mail=*", "\\2a@example.com", "alice\\@example.com", "alice@example.com\0",
            ] {
                #expect(await lookup(driver, hostile) == .notFound, "\(hostile)")
            }
            await driver.shutdown()
        }
    }

    @Test("Old-style mappings, a per-domain base with %d escaped for a DN, and onelevel scope")
    func oldStyleAndBaseVariables() async throws {
        try await LDAPFixture.run { fixture in
            let driver = try fixture.driver([
                ("base", "ou=%d,ou=domains,dc=example,dc=com"), ("scope", "onelevel"),
                ("user_filter", "(&(objectClass=posixAccount)(uid=%n))"),
                ("user_attrs", "homeDirectory=home,uidNumber=uid,gidNumber=gid, mail, cn=realname"),
            ])
            #expect(await lookup(driver, "carol@example.org") == record("carol@example.org", [
                ("home", "/var/vmail/example.org/carol"), ("uid", "5000"), ("gid", "5000"),
                ("mail", "carol@example.org"), ("realname", "Carol Danvers"),
            ]))
            // Same uid, other domain: the base decides.
            #expect(await lookup(driver, "carol@example.com") == .notFound)
            // A domain trying to climb out of its base is one (non-existent) RDN value.
            #expect(await lookup(driver, "alice@x,ou=example.com") == .notFound)
            #expect(await lookup(driver, "alice@example.com,ou=domains") == .notFound)
            await driver.shutdown()
        }
    }

    @Test("Templates with %$, defaults and missing attributes follow Dovecot's rules")
    func templatesAndDefaults() async throws {
        try await LDAPFixture.run { fixture in
            let driver = try fixture.driver([(
                "user_attrs",
                "homeDirectory=home, homingMailQuota=quota_rule=*:bytes=, =quota2=*:storage=%{ldap:homingMailQuota:none}, "
                    + "=empty=%{ldap:description}, homingMailActive=active, =static=yes, uid, "
                    + "=mail=maildir:~/Maildir:INDEX=/var/index/%d/%{ldap:uid}"
            )])
            #expect(await lookup(driver, "bob@example.com") == record("bob@example.com", [
                ("home", "/var/vmail/example.com/bob"), ("quota2", "*:storage=none"), ("empty", ""), ("static", "yes"),
                ("uid", "bob"), ("mail", "maildir:~/Maildir:INDEX=/var/index/example.com/bob"),
            ]))
            #expect(await lookup(driver, "smallquota@example.com") == record("smallquota@example.com", [
                ("home", "/var/vmail/example.com/smallquota"), ("quota_rule", "*:bytes=1048576"),
                ("quota2", "*:storage=1048576"), ("empty", ""), ("static", "yes"), ("uid", "smallquota"),
                ("mail", "maildir:~/Maildir:INDEX=/var/index/example.com/smallquota"),
            ]))
            await driver.shutdown()
        }
    }

    @Test("Bound as the service account, anonymously, and with a refused bind (temporary failure)")
    func bindModes() async throws {
        try await LDAPFixture.run { fixture in
            let bound = try fixture.driver()
            #expect(await lookup(bound, "alice@example.com") != .notFound)
            guard case .found(let viaBind) = await lookup(bound, "alice@example.com") else {
                Issue.record("alice not found with a bind")
                return
            }
            let anonymous = try fixture.driver([("dn", nil), ("dnpass", nil)])
            #expect(await lookup(anonymous, "alice@example.com") == .found(viaBind))
            let manager = try fixture.driver([("dn", TestSlapd.managerDN), ("dnpass", TestSlapd.managerPassword)])
            #expect(await lookup(manager, "alice@example.com") == .found(viaBind))
            let refused = try fixture.driver([("dnpass", "wrong")])
            guard case .temporaryFailure(let reason) = await lookup(refused, "alice@example.com") else {
                Issue.record("a refused bind must be a temporary failure")
                return
            }
            #expect(reason.contains("bind as cn=homing,ou=services,dc=example,dc=com"))
            #expect(reason.contains("Invalid credentials"))
            for driver in [bound, anonymous, manager, refused] { await driver.shutdown() }
        }
    }

    @Test("100 lookups in parallel all get their own user's fields")
    func parallelLookups() async throws {
        try await LDAPFixture.run { fixture in
            let driver = try fixture.driver()
            let users = ["alice@example.com", "bob@example.com", "carol@example.org", "smallquota@example.com",
                         "nobody@example.com"]
            let results = await withTaskGroup(of: (String, UserdbResult).self) { group in
                for index in 0..<100 {
                    let user = users[index % users.count]
                    group.addTask { (user, await lookup(driver, user)) }
                }
                var all: [(String, UserdbResult)] = []
                for await result in group { all.append(result) }
                return all
            }
            #expect(results.count == 100)
            for (user, result) in results {
                if user == "nobody@example.com" {
                    #expect(result == .notFound)
                } else {
                    let local = user.split(separator: "@")[0]
                    let domain = user.split(separator: "@")[1]
                    guard case .found(let found) = result else {
                        Issue.record("\(user): \(result)")
                        continue
                    }
                    #expect(found.user == user)
                    #expect(found.home == "/var/vmail/\(domain)/\(local)")
                }
            }
            await driver.shutdown()
        }
    }

    @Test("slapd stopped gives a temporary failure within seconds; started again, the same driver recovers")
    func stopAndRecover() async throws {
        try await LDAPFixture.run { fixture in
            let driver = try fixture.driver()
            let expected = await lookup(driver, "alice@example.com")
            guard case .found = expected else {
                Issue.record("alice not found before the stop: \(expected)")
                return
            }
            fixture.slapd.stop()
            let clock = ContinuousClock()
            let started = clock.now
            let during = await lookup(driver, "alice@example.com")
            // Ends by itself; loose because the suite shares two cores.
            #expect(clock.now - started < .seconds(20))
            guard case .temporaryFailure(let reason) = during else {
                Issue.record("expected a temporary failure while slapd is down, got \(during)")
                return
            }
            #expect(reason.contains("Can't contact LDAP server"))
            #expect(await lookup(driver, "nobody@example.com") != .notFound)
            try fixture.slapd.start()
            // Lookups fail at once until the back-off after the failed connects ends (a few
            // seconds); then the same driver finds alice again.
            let recovered = clock.now
            var after = await lookup(driver, "alice@example.com")
            while after != expected, clock.now - recovered < .seconds(40) {
                try await Task.sleep(for: .milliseconds(200))
                after = await lookup(driver, "alice@example.com")
            }
            #expect(after == expected)
            #expect(await lookup(driver, "nobody@example.com") == .notFound)
            await driver.shutdown()
        }
    }

    @Test("a directory that accepts connections and never answers: the failed connect starts a back-off, and lookups during it fail at once without connecting again")
    func backoffAfterFailedConnect() async throws {
        let silent = try SilentTCPServer()
        defer { silent.stop() }
        try await LDAPFixture.run { fixture in
            let path = try fixture.slapd.writeDovecotLDAPConf(
                to: fixture.scratch.file("ldap-silent.conf.ext"), overrides: [("uris", "ldap://127.0.0.1:\(silent.port)")])
            // A back-off far longer than the test: nothing here depends on timing.
            let driver = LDAPUserdbDriver(
                ldapSettings: try LDAPSettings.load(path: path), threadPool: fixture.threadPool,
                logger: Logger(label: "test"), timeouts: LDAPTimeouts(connect: 1, request: 1, iteration: 1),
                initialBackoff: .seconds(600))
            let first = await lookup(driver, "alice@example.com")
            guard case .temporaryFailure = first else {
                Issue.record("expected a temporary failure from a silent directory, got \(first)")
                return
            }
            #expect(silent.acceptedCount == 1)
            let concurrent = await withTaskGroup(of: UserdbResult.self) { group in
                for index in 0..<10 { group.addTask { await lookup(driver, "user\(index)@example.com") } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            for result in concurrent {
                guard case .temporaryFailure(let reason) = result else {
                    Issue.record("expected a temporary failure during the back-off, got \(result)")
                    continue
                }
                #expect(reason.contains("next connection attempt in"), "\(reason)")
            }
            // Not one more connection: the lookups did not each wait for a connect.
            #expect(silent.acceptedCount == 1)
            await driver.shutdown()
        }
    }

    @Test("20 lookups at once share at most maxConnections connections")
    func boundedConnections() async throws {
        try await LDAPFixture.run { fixture in
            let driver = try fixture.driver(timeouts: LDAPTimeouts())
            let before = try establishedConnections(toPort: fixture.slapd.port)
            let results = await withTaskGroup(of: UserdbResult.self) { group in
                for _ in 0..<20 { group.addTask { await lookup(driver, "alice@example.com") } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            for result in results {
                guard case .found = result else {
                    Issue.record("expected alice, got \(result)")
                    continue
                }
            }
            #expect(try establishedConnections(toPort: fixture.slapd.port) - before <= LDAPUserdbDriver.maxConnections)
            await driver.shutdown()
        }
    }

    @Test("A pooled connection the server dropped is replaced within the same lookup")
    func droppedConnectionReplaced() async throws {
        try await LDAPFixture.run { fixture in
            let driver = try fixture.driver()
            let expected = await lookup(driver, "alice@example.com")
            guard case .found = expected else {
                Issue.record("alice not found: \(expected)")
                return
            }
            // The restart closes the connection the driver keeps; the next lookup must not fail.
            fixture.slapd.stop()
            try fixture.slapd.start()
            #expect(await lookup(driver, "alice@example.com") == expected)
            await driver.shutdown()
        }
    }

    @Test("A server that accepts connections but never answers gives a temporary failure after the request timeout")
    func hungServer() async throws {
        try await LDAPFixture.run { fixture in
            let driver = try fixture.driver(timeouts: LDAPTimeouts(connect: 1, request: 2, iteration: 2))
            let expected = await lookup(driver, "alice@example.com")
            fixture.slapd.pause()
            let clock = ContinuousClock()
            let started = clock.now
            let during = await lookup(driver, "alice@example.com")
            let elapsed = clock.now - started
            fixture.slapd.resume()
            // Ends by itself after the request timeout; loose because the suite shares two cores.
            #expect(elapsed < .seconds(20))
            guard case .temporaryFailure = during else {
                Issue.record("expected a temporary failure from a hung server, got \(during)")
                return
            }
            #expect(await lookup(driver, "alice@example.com") == expected)
            await driver.shutdown()
        }
    }

    @Test("Iteration lists the active users through iterate_filter and iterate_attrs")
    func iteration() async throws {
        try await LDAPFixture.run { fixture in
            let driver = try fixture.driver()
            let users = try await driver.iterateUsers()
            #expect(users.sorted() == [
                "alice@example.com", "bob@example.com", "carol@example.org", "postmaster@example.com",
                "smallquota@example.com",
            ])
            let templated = try fixture.driver([("iterate_attrs", "=user=%{ldap:uid}"), ("iterate_filter", "(uid=*)")])
            #expect(try await templated.iterateUsers().sorted() == [
                "alice", "bob", "carol", "disabled", "postmaster", "smallquota",
            ])
            fixture.slapd.stop()
            await #expect(throws: UserdbIterationError.self) { try await driver.iterateUsers() }
            await driver.shutdown()
            await templated.shutdown()
        }
    }

    @Test("Two entries for one address are a temporary failure, not a choice")
    func multipleEntries() async throws {
        try await LDAPFixture.run { fixture in
            try fixture.slapd.add(ldif: """
                dn: uid=alice2,ou=example.com,ou=domains,dc=example,dc=com
                objectClass: inetOrgPerson
                objectClass: posixAccount
                objectClass: homingMailUser
                uid: alice2
                cn: Alice Twice
                sn: Twice
                mail: alice@example.com
                uidNumber: 5001
                gidNumber: 5001
                homeDirectory: /var/vmail/example.com/alice2

                """)
            let driver = try fixture.driver()
            guard case .temporaryFailure(let reason) = await lookup(driver, "alice@example.com") else {
                Issue.record("two entries must be a temporary failure")
                return
            }
            #expect(reason.hasPrefix("ldap: user_filter matched multiple objects, aborting"))
            #expect(await lookup(driver, "bob@example.com") != .notFound)
            await driver.shutdown()
        }
    }

    @Test("A configuration file with a mistake fails at its file and line; args must name the file")
    func configErrors() async throws {
        let scratch = try ScratchDirectory("homing-ldap-conf")
        defer { scratch.remove() }
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let path = try scratch.write("bad.conf.ext", "uris = ldap://127.0.0.1/\nbase = dc=example,dc=com\n\nuser_atrs = uid\n")
        var registry = UserdbDriverRegistry()
        LDAPUserdb.register(in: &registry)
        let context = UserdbDriverContext(threadPool: pool, logger: Logger(label: "test"), settings: HomingSettings())
        var block = UserdbSettings(driver: "ldap", location: ConfigLocation(file: "/etc/homing/homing.conf", line: 12))
        block.args = path
        #expect(throws: ConfigError("Unknown setting: user_atrs", at: ConfigLocation(file: path, line: 4))) {
            _ = try registry.makeDriver(for: block, context: context)
        }
        block.args = ""
        #expect(throws: ConfigError(
            "userdb ldap: args must be the path of a dovecot-ldap.conf.ext file",
            at: ConfigLocation(file: "/etc/homing/homing.conf", line: 12))) {
            _ = try registry.makeDriver(for: block, context: context)
        }
        block.args = scratch.file("missing.conf.ext")
        #expect(throws: ConfigError.self) { _ = try registry.makeDriver(for: block, context: context) }
    }
}
