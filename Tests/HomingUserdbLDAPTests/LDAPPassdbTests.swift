import HomingConfig
import HomingTestSupport
import HomingUserdb
import Logging
import Testing

@testable import HomingUserdbLDAP

/// `passdb { driver = ldap }`: pass_filter and pass_attrs against a real slapd.
@Suite("ldap passdb (pass_filter, pass_attrs) against a real slapd")
struct LDAPPassdbTests {
    static let passFilter = "(&(objectClass=homingMailUser)(mail=%u))"
    static let passAttrs = "=proxy=y, =host=10.0.0.9, uidNumber=port, uid=destuser, userPassword=password"

    /// A passdb chain of one ldap block reading the shipped configuration with `overrides`.
    static func chain(
        _ fixture: LDAPFixture, _ overrides: [(key: String, value: String?)], logs: LogRecorder = LogRecorder()
    ) throws -> PassdbChain {
        let path = try fixture.slapd.writeDovecotLDAPConf(to: fixture.scratch.file("passdb-ldap.conf.ext"), overrides: overrides)
        var registry = UserdbDriverRegistry()
        LDAPUserdb.register(in: &registry)
        var block = UserdbSettings(driver: "ldap", location: ConfigLocation(file: "dovecot.conf", line: 30))
        block.args = path
        var settings = HomingSettings()
        settings.passdbs = [block]
        let context = UserdbDriverContext(threadPool: fixture.threadPool, logger: logs.logger, settings: settings)
        return try PassdbChain(settings: settings, registry: registry, context: context)
    }

    @Test("pass_attrs maps attributes and =field=value constants; the password is dropped")
    func proxyFields() async throws {
        try await LDAPFixture.run { fixture in
            let chain = try Self.chain(fixture, [("pass_filter", Self.passFilter), ("pass_attrs", Self.passAttrs)])
            let alice = await chain.lookupPassdb(UserdbRequest(user: "alice@example.com"))
            guard case .found(let record) = alice else {
                Issue.record("expected found, got \(alice)")
                return
            }
            #expect(record.user == "alice@example.com")
            #expect(record["proxy"] == "y")
            #expect(record["host"] == "10.0.0.9")
            #expect(record["port"] == "5000")
            #expect(record["destuser"] == "alice")
            #expect(record["password"] == nil)
            #expect(await chain.lookupPassdb(UserdbRequest(user: "nobody@example.com")) == .notFound)
            await chain.shutdown()
        }
    }

    @Test("pass_filter values are escaped: filter-injection characters find nobody")
    func filterInjection() async throws {
        try await LDAPFixture.run { fixture in
            let chain = try Self.chain(fixture, [("pass_filter", Self.passFilter), ("pass_attrs", Self.passAttrs)])
            for user in ["*", "*@example.com", "alice@example.com)(mail=*", "*)(objectClass=*))(|(mail=*",
                         "\\2a@example.com", "alice@example.com)(|(mail=*", "alice@example.com\0"] {
                #expect(await chain.lookupPassdb(UserdbRequest(user: user)) == .notFound, "\(user)")
            }
            await chain.shutdown()
        }
    }

    @Test("an ldap passdb needs pass_filter: the error names the file and the setting, at the passdb block")
    func missingPassFilter() async throws {
        try await LDAPFixture.run { fixture in
            let error = #expect(throws: ConfigError.self) {
                try Self.chain(fixture, [("pass_attrs", Self.passAttrs)])
            }
            #expect(error?.location == ConfigLocation(file: "dovecot.conf", line: 30))
            #expect(error?.message.hasPrefix(
                "passdb ldap: \(fixture.scratch.file("passdb-ldap.conf.ext")) has no pass_filter setting") == true)
        }
    }

    @Test("without pass_attrs, Dovecot's default uid=user,userPassword=password applies: uid becomes the user name")
    func defaultPassAttrs() async throws {
        try await LDAPFixture.run { fixture in
            let chain = try Self.chain(fixture, [("pass_filter", Self.passFilter)])
            #expect(await chain.lookupPassdb(UserdbRequest(user: "alice@example.com")) == .found(UserRecord(user: "alice")))
            await chain.shutdown()
        }
    }

    @Test("slapd down: the lookup is a temporary failure, logged as a passdb failure")
    func serverDown() async throws {
        try await LDAPFixture.run { fixture in
            let logs = LogRecorder()
            let chain = try Self.chain(fixture, [("pass_filter", Self.passFilter), ("pass_attrs", Self.passAttrs)], logs: logs)
            #expect(await chain.lookupPassdb(UserdbRequest(user: "alice@example.com")).isFound)
            fixture.slapd.stop()
            let answer = await chain.lookupPassdb(UserdbRequest(user: "alice@example.com"))
            guard case .temporaryFailure = answer else {
                Issue.record("expected a temporary failure, got \(answer)")
                return
            }
            #expect(logs.messages(at: .error).contains { $0.hasPrefix("passdb ldap(alice@example.com): ") })
            await chain.shutdown()
        }
    }
    @Test("--print-2.4 writes the ldap passdb's pass_filter and pass_attrs as filter and fields { }; the 2.4 file gives the same answers")
    func printedAs24() async throws {
        try await LDAPFixture.run { fixture in
            let path = try fixture.slapd.writeDovecotLDAPConf(
                to: fixture.scratch.file("passdb-ldap.conf.ext"),
                overrides: [("pass_filter", Self.passFilter), ("pass_attrs", Self.passAttrs)])
            let conversion = try Passdb24Conversion(Passdb24Conversion.configuration(passdbs: """
                passdb {
                  driver = ldap
                  args = \(path)
                }
                """))
            let text = conversion.text
            #expect(text.contains("passdb ldap {") && text.contains("destuser = %{ldap:uid"), "\(text)")
            #expect(conversion.new.diagnostics.errors.isEmpty, "\(conversion.new.diagnostics.report)\n\(text)")
            var registry = UserdbDriverRegistry()
            LDAPUserdb.register(in: &registry)
            let context = UserdbDriverContext(threadPool: fixture.threadPool, logger: Logger(label: "test"), settings: HomingSettings())
            let (answers, differences) = try await conversion.compare(
                ["alice@example.com", "bob@example.com", "nobody@example.com", "*@example.com"],
                registry: registry, context: context)
            #expect(differences.isEmpty, "\(differences)\n\(text)")
            #expect(answers["alice@example.com"]?.isFound == true)
        }
    }

    @Test("Dovecot 2.4: passdb ldap { filter fields { } } is the pass_filter and pass_attrs, against slapd")
    func dovecot24() async throws {
        try await LDAPFixture.run { fixture in
            let loaded = ConfigurationLoader.parseAll(text: """
                dovecot_config_version = 2.4.1
                dovecot_storage_version = 2.4.1
                protocols = lmtp
                ldap_uris = \(fixture.slapd.uri)
                ldap_auth_dn = \(TestSlapd.serviceDN)
                ldap_auth_dn_password = \(TestSlapd.servicePassword)
                ldap_base = \(TestSlapd.usersBase)
                passdb ldap {
                  filter = (&(objectClass=homingMailUser)(mail=%{user}))
                  fields {
                    proxy = y
                    destuser = %{ldap:uid}@backend
                  }
                }
                userdb static {
                  fields {
                    home = /var/vmail/%{user}
                  }
                }
                """, file: "/etc/dovecot/dovecot.conf")
            #expect(loaded.diagnostics.errors.isEmpty, "\(loaded.diagnostics.report)")
            var registry = UserdbDriverRegistry()
            LDAPUserdb.register(in: &registry)
            let context = UserdbDriverContext(threadPool: fixture.threadPool, logger: Logger(label: "test"),
                                              settings: loaded.settings)
            let chain = try PassdbChain(settings: loaded.settings, registry: registry, context: context)
            #expect(await chain.lookupPassdb(UserdbRequest(user: "alice@example.com")) == .found(UserRecord(
                user: "alice@example.com", fields: [UserdbField("proxy", "y"), UserdbField("destuser", "alice@backend")])))
            #expect(await chain.lookupPassdb(UserdbRequest(user: "*@example.com")) == .notFound)
            await chain.shutdown()
        }
    }
}

extension UserdbResult {
    fileprivate var isFound: Bool {
        if case .found = self { return true }
        return false
    }
}
