import HomingConfig
import Testing

@testable import HomingUserdb

@Suite("PasswdUserdbDriver")
struct PasswdUserdbDriverTests {
    @Test("root and daemon come from the system database with uid, gid and home")
    func systemUsers() async throws {
        try await withEnvironment { environment in
            let driver = try PasswdUserdbDriver(settings: userdb("passwd"), context: environment.context)
            #expect(
                fields(await driver.lookup(UserdbRequest(user: "root")))
                    == ["user": "root", "uid": "0", "gid": "0", "home": "/root"])
            #expect(
                fields(await driver.lookup(UserdbRequest(user: "daemon")))
                    == ["user": "daemon", "uid": "1", "gid": "1", "home": "/usr/sbin"])
        }
    }

    @Test("a nonexistent name, a name with @ and a name with NUL are not found")
    func notFound() async throws {
        try await withEnvironment { environment in
            let driver = try PasswdUserdbDriver(settings: userdb("passwd"), context: environment.context)
            #expect(await driver.lookup(UserdbRequest(user: "nosuchuser-homing")) == .notFound)
            #expect(await driver.lookup(UserdbRequest(user: "root@example.com")) == .notFound)
            #expect(await driver.lookup(UserdbRequest(user: "root\0x")) == .notFound)
            #expect(await driver.lookup(UserdbRequest(user: "")) == .notFound)
        }
    }

    @Test("listing users keeps only those within first_valid_uid and last_valid_uid")
    func iteration() async throws {
        try await withEnvironment { environment in
            environment.settings.firstValidUID = 0
            environment.settings.lastValidUID = 1
            let driver = try PasswdUserdbDriver(settings: userdb("passwd"), context: environment.context)
            #expect(try await driver.iterateUsers() == ["root", "daemon"])

            environment.settings.firstValidUID = 1
            environment.settings.lastValidUID = 0
            let unbounded = try PasswdUserdbDriver(
                settings: userdb("passwd"), context: environment.context)
            let users = try await unbounded.iterateUsers()
            #expect(users.first == "daemon")
            #expect(!users.contains("root"))
            #expect(users.contains("nobody"))
        }
    }

    @Test("concurrent listings and lookups do not disturb each other")
    func concurrentIteration() async throws {
        try await withEnvironment { environment in
            environment.settings.firstValidUID = 0
            // System accounts only: the Postfix local-user tests add and remove accounts with
            // uids from 1000 while this runs in parallel.
            environment.settings.lastValidUID = 999
            let driver = try PasswdUserdbDriver(settings: userdb("passwd"), context: environment.context)
            let expected = try await driver.iterateUsers()
            try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<8 { group.addTask { try await driver.iterateUsers() } }
                for try await users in group { #expect(users == expected) }
            }
        }
    }
}
