import HomingConfig
import Testing

@testable import HomingUserdb

@Suite("StaticUserdbDriver")
struct StaticUserdbDriverTests {
    @Test("every user exists, with the args' fields expanded per user and names resolved at start")
    func fieldsPerUser() async throws {
        try await withEnvironment { environment in
            let driver = try StaticUserdbDriver(
                settings: userdb(
                    "static", args: "uid=daemon gid=nogroup home=/var/vmail/%d/%n allow_all_users=yes"),
                context: environment.context)
            #expect(driver.allowAllUsers)
            #expect(driver.fields.entries.map(\.template) == ["1", "65534", "/var/vmail/%d/%n"])
            let alice = await driver.lookup(UserdbRequest(user: "alice@example.com"))
            #expect(
                fields(alice) == [
                    "user": "alice@example.com", "uid": "1", "gid": "65534",
                    "home": "/var/vmail/example.com/alice",
                ])
            let carol = await driver.lookup(UserdbRequest(user: "carol@example.org"))
            #expect(fields(carol)?["home"] == "/var/vmail/example.org/carol")
            #expect(environment.logs.messages(at: .warning).isEmpty)
        }
    }

    @Test("any key=value becomes a field, numbers are kept as they are")
    func extraFields() async throws {
        try await withEnvironment { environment in
            let driver = try StaticUserdbDriver(
                settings: userdb(
                    "static",
                    args: "uid=5000 gid=5000 quota_rule=*:storage=1G mail=maildir:~/M allow_all_users=yes"),
                context: environment.context)
            #expect(
                fields(await driver.lookup(UserdbRequest(user: "bob"))) == [
                    "user": "bob", "uid": "5000", "gid": "5000", "quota_rule": "*:storage=1G",
                    "mail": "maildir:~/M",
                ])
        }
    }

    @Test("a nonexistent uid name is a configuration error at the block")
    func unknownUID() async throws {
        try await withEnvironment { environment in
            let context = environment.context
            let error = #expect(throws: ConfigError.self) {
                try StaticUserdbDriver(
                    settings: userdb("static", args: "uid=nosuchuser gid=0", line: 12), context: context)
            }
            #expect(
                error?.description
                    == "/etc/homing/homing.conf:12: static userdb args: uid=nosuchuser: no system user named 'nosuchuser'"
            )
            let gidError = #expect(throws: ConfigError.self) {
                try StaticUserdbDriver(
                    settings: userdb("static", args: "gid=nosuchgroup"), context: context)
            }
            #expect(
                gidError?.message
                    == "static userdb args: gid=nosuchgroup: no system group named 'nosuchgroup'")
            let garbage = #expect(throws: ConfigError.self) {
                try StaticUserdbDriver(settings: userdb("static", args: "uid=5x"), context: context)
            }
            #expect(garbage?.message == "static userdb args: uid=5x is neither a number nor a valid name")
        }
    }

    @Test("a bad allow_all_users value is a configuration error")
    func badAllowAllUsers() async throws {
        try await withEnvironment { environment in
            let context = environment.context
            let error = #expect(throws: ConfigError.self) {
                try StaticUserdbDriver(
                    settings: userdb("static", args: "allow_all_users=maybe"), context: context)
            }
            #expect(
                error?.message == "static userdb args: allow_all_users must be yes or no, not 'maybe'")
        }
    }

    @Test("without allow_all_users=yes one warning at start says every address is accepted")
    func warnsWithoutAllowAllUsers() async throws {
        try await withEnvironment { environment in
            let driver = try StaticUserdbDriver(
                settings: userdb("static", args: "uid=1 gid=1"), context: environment.context)
            _ = await driver.lookup(UserdbRequest(user: "a@example.com"))
            _ = await driver.lookup(UserdbRequest(user: "b@example.com"))
            let warnings = environment.logs.messages(at: .warning)
            #expect(warnings.count == 1)
            #expect(warnings.first?.contains("every address will be accepted") == true)
            #expect(!driver.allowAllUsers)
        }
    }

    @Test("listing users is unsupported")
    func iterationUnsupported() async throws {
        try await withEnvironment { environment in
            let driver = try StaticUserdbDriver(
                settings: userdb("static", args: "allow_all_users=yes"), context: environment.context)
            await #expect(throws: UserdbIterationError.unsupported(driver: "static")) {
                try await driver.iterateUsers()
            }
        }
    }

    @Test("a uid with a % variable is left for the chain to resolve per user")
    func variableUID() async throws {
        try await withEnvironment { environment in
            let driver = try StaticUserdbDriver(
                settings: userdb("static", args: "uid=%n allow_all_users=yes"), context: environment.context
            )
            #expect(
                fields(await driver.lookup(UserdbRequest(user: "daemon@example.com")))?["uid"] == "daemon")
            var settings = environment.settings
            settings.userdbs = [userdb("static", args: "uid=%n allow_all_users=yes")]
            let chain = try UserdbChain(settings: settings, context: environment.context)
            #expect(fields(await chain.lookup(UserdbRequest(user: "daemon@example.com")))?["uid"] == "1")
        }
    }
}
