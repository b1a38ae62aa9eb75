import HomingConfig
import Testing

@testable import HomingUserdb
import HomingTestSupport

@Suite("UserdbChain")
struct UserdbChainTests {
    static let alice = UserdbRequest(user: "alice@example.com")

    static func found(_ fields: [String: String]) -> @Sendable (UserdbRequest) -> UserdbResult {
        let ordered = fields.sorted { $0.key < $1.key }.map { UserdbField($0.key, $0.value) }
        return { request in .found(UserRecord(user: request.user, fields: ordered)) }
    }

    /// Builds a chain of scripted drivers with the given blocks.
    static func chain(
        _ environment: TestEnvironment, _ drivers: [ScriptedDriver], blocks: [UserdbSettings]
    ) throws -> UserdbChain {
        var settings = environment.settings
        settings.userdbs = blocks
        var context = environment.context
        context.settings = settings
        return try UserdbChain(settings: settings, registry: registry(drivers), context: context)
    }

    @Test("no userdb at all is a configuration error telling to add a userdb block")
    func noUserdb() async throws {
        try await withEnvironment { environment in
            let context = environment.context
            let error = #expect(throws: ConfigError.self) {
                try UserdbChain(settings: HomingSettings(), context: context)
            }
            #expect(
                error?.message.hasPrefix("no userdb configured: add a userdb { driver = ... } block")
                    == true)
        }
    }

    @Test("an invalid rule in a block stops start-up with the block's location")
    func invalidBlock() async throws {
        try await withEnvironment { environment in
            let driver = ScriptedDriver("a") { _ in .notFound }
            let error = #expect(throws: ConfigError.self) {
                try Self.chain(environment, [driver], blocks: [userdb("a", skip: "sometimes", line: 5)])
            }
            #expect(error?.location?.line == 5)
            #expect(
                error?.message
                    == "invalid userdb skip 'sometimes' (expected one of: never, found, notfound)")
        }
    }

    @Test("a default_fields entry without a name is a configuration error")
    func badDefaultFields() async throws {
        try await withEnvironment { environment in
            let driver = ScriptedDriver("a") { _ in .notFound }
            let error = #expect(throws: ConfigError.self) {
                try Self.chain(environment, [driver], blocks: [userdb("a", defaultFields: "=x")])
            }
            #expect(error?.message == "userdb default_fields: field '=x' has no name before '='")
        }
    }

    @Test("an unknown % variable in override_fields is a configuration error at start")
    func unknownVariable() async throws {
        try await withEnvironment { environment in
            let driver = ScriptedDriver("a") { _ in .notFound }
            let error = #expect(throws: ConfigError.self) {
                try Self.chain(
                    environment, [driver], blocks: [userdb("a", overrideFields: "home=/h/%z", line: 8)])
            }
            #expect(
                error?.description
                    == "/etc/homing/homing.conf:8: userdb override_fields home: unknown variable %z at position 3"
            )
        }
    }

    @Test("not found in the first userdb, found in the second: the second's fields")
    func notFoundThenFound() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a") { _ in .notFound }
            let second = ScriptedDriver(
                "b", answer: Self.found(["uid": "1000", "gid": "1000", "home": "/home/b"]))
            let chain = try Self.chain(environment, [first, second], blocks: [userdb("a"), userdb("b")])
            let result = await chain.lookup(Self.alice)
            #expect(
                fields(result) == [
                    "user": "alice@example.com", "uid": "1000", "gid": "1000", "home": "/home/b",
                ])
            #expect(await first.calls.users == ["alice@example.com"])
        }
    }

    @Test("found in the first userdb with return-ok: the second is never asked")
    func foundStops() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a", answer: Self.found(["uid": "1"]))
            let second = ScriptedDriver("b", answer: Self.found(["uid": "2"]))
            let chain = try Self.chain(environment, [first, second], blocks: [userdb("a"), userdb("b")])
            #expect(fields(await chain.lookup(Self.alice))?["uid"] == "1")
            #expect(await second.calls.users.isEmpty)
        }
    }

    @Test("not found everywhere is not found")
    func notFoundEverywhere() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a") { _ in .notFound }
            let second = ScriptedDriver("b") { _ in .notFound }
            let chain = try Self.chain(environment, [first, second], blocks: [userdb("a"), userdb("b")])
            #expect(await chain.lookup(Self.alice) == .notFound)
        }
    }

    @Test("a temporary failure then not found is a temporary failure, logged with user and driver")
    func tempfailThenNotFound() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a") { _ in .temporaryFailure(reason: "connection refused") }
            let second = ScriptedDriver("b") { _ in .notFound }
            let chain = try Self.chain(environment, [first, second], blocks: [userdb("a"), userdb("b")])
            #expect(await chain.lookup(Self.alice) == .temporaryFailure(reason: "connection refused"))
            #expect(await second.calls.users == ["alice@example.com"])
            #expect(environment.logs.messages(at: .error) == ["a(alice@example.com): connection refused"])
        }
    }

    @Test("a temporary failure then found is found")
    func tempfailThenFound() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a") { _ in .temporaryFailure(reason: "down") }
            let second = ScriptedDriver("b", answer: Self.found(["uid": "7"]))
            let chain = try Self.chain(environment, [first, second], blocks: [userdb("a"), userdb("b")])
            #expect(fields(await chain.lookup(Self.alice)) == ["user": "alice@example.com", "uid": "7"])
        }
    }

    @Test("result_internalfail=return-fail stops the chain with a temporary failure")
    func internalfailReturnFail() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a") { _ in .temporaryFailure(reason: "down") }
            let second = ScriptedDriver("b", answer: Self.found(["uid": "7"]))
            let chain = try Self.chain(
                environment, [first, second],
                blocks: [userdb("a", internalfail: "return-fail"), userdb("b")])
            #expect(await chain.lookup(Self.alice) == .temporaryFailure(reason: "down"))
            #expect(await second.calls.users.isEmpty)
        }
    }

    @Test("result_failure=return-fail stops at the first not-found")
    func failureReturnFail() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a") { _ in .notFound }
            let second = ScriptedDriver("b", answer: Self.found(["uid": "7"]))
            let chain = try Self.chain(
                environment, [first, second], blocks: [userdb("a", failure: "return-fail"), userdb("b")])
            #expect(await chain.lookup(Self.alice) == .notFound)
            #expect(await second.calls.users.isEmpty)
        }
    }

    @Test("result_success=continue-ok merges the fields of both userdbs, later ones winning")
    func continueOKMerges() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver(
                "a", answer: Self.found(["uid": "1", "home": "/home/a", "quota_rule": "*:storage=1G"]))
            let second = ScriptedDriver(
                "b", answer: Self.found(["uid": "2", "mail": "maildir:~/Maildir"]))
            let chain = try Self.chain(
                environment, [first, second], blocks: [userdb("a", success: "continue-ok"), userdb("b")])
            #expect(
                fields(await chain.lookup(Self.alice)) == [
                    "user": "alice@example.com", "uid": "2", "home": "/home/a", "quota_rule": "*:storage=1G",
                    "mail": "maildir:~/Maildir",
                ])
        }
    }

    @Test("continue-ok then not found still finds the user, with the first userdb's fields only")
    func continueOKThenNotFound() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a", answer: Self.found(["uid": "1"]))
            let second = ScriptedDriver("b") { _ in .notFound }
            let chain = try Self.chain(
                environment, [first, second],
                blocks: [userdb("a", success: "continue-ok"), userdb("b", defaultFields: "mail=ignored")])
            #expect(fields(await chain.lookup(Self.alice)) == ["user": "alice@example.com", "uid": "1"])
        }
    }

    @Test("result_success=continue does not mark the user found: found then not found is not found")
    func continueKeepsState() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a", answer: Self.found(["uid": "1"]))
            let second = ScriptedDriver("b") { _ in .notFound }
            let chain = try Self.chain(
                environment, [first, second], blocks: [userdb("a", success: "continue"), userdb("b")])
            #expect(await chain.lookup(Self.alice) == .notFound)
            #expect(await second.calls.users == ["alice@example.com"])
        }
    }

    @Test("result_success=continue on the last userdb leaves the user not found")
    func continueOnLast() async throws {
        try await withEnvironment { environment in
            let only = ScriptedDriver("a", answer: Self.found(["uid": "1"]))
            let chain = try Self.chain(environment, [only], blocks: [userdb("a", success: "continue")])
            #expect(await chain.lookup(Self.alice) == .notFound)
        }
    }

    @Test("result_success=return-fail makes a found user not found")
    func successReturnFail() async throws {
        try await withEnvironment { environment in
            let only = ScriptedDriver("a", answer: Self.found(["uid": "1"]))
            let chain = try Self.chain(environment, [only], blocks: [userdb("a", success: "return-fail")])
            #expect(await chain.lookup(Self.alice) == .notFound)
        }
    }

    @Test("skip=found passes over a userdb once an earlier one found the user")
    func skipFound() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a", answer: Self.found(["uid": "1"]))
            let second = ScriptedDriver("b", answer: Self.found(["uid": "2"]))
            let third = ScriptedDriver("c", answer: Self.found(["mail": "maildir:/m"]))
            let chain = try Self.chain(
                environment, [first, second, third],
                blocks: [userdb("a", success: "continue-ok"), userdb("b", skip: "found"), userdb("c")])
            #expect(
                fields(await chain.lookup(Self.alice))
                    == ["user": "alice@example.com", "uid": "1", "mail": "maildir:/m"])
            #expect(await second.calls.users.isEmpty)
            #expect(await third.calls.users == ["alice@example.com"])
        }
    }

    @Test("skip=notfound passes over a userdb while no earlier one found the user")
    func skipNotFound() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a") { _ in .notFound }
            let extra = ScriptedDriver("b", answer: Self.found(["quota_rule": "*:storage=1M"]))
            let chain = try Self.chain(
                environment, [first, extra], blocks: [userdb("a"), userdb("b", skip: "notfound")])
            #expect(await chain.lookup(Self.alice) == .notFound)
            #expect(await extra.calls.users.isEmpty)

            let found = ScriptedDriver("c", answer: Self.found(["uid": "5"]))
            let second = try Self.chain(
                environment, [found, extra],
                blocks: [userdb("c", success: "continue-ok"), userdb("b", skip: "notfound")])
            #expect(
                fields(await second.lookup(Self.alice))
                    == ["user": "alice@example.com", "uid": "5", "quota_rule": "*:storage=1M"])
        }
    }

    @Test("default_fields fill in what the driver leaves out, with % variables per user")
    func defaultFields() async throws {
        try await withEnvironment { environment in
            let driver = ScriptedDriver("a", answer: Self.found(["uid": "1000"]))
            let chain = try Self.chain(
                environment, [driver],
                blocks: [
                    userdb("a", defaultFields: "uid=vmail home=/var/vmail/%d/%n quota_rule=*:storage=%u")
                ])
            #expect(
                fields(await chain.lookup(Self.alice)) == [
                    "user": "alice@example.com", "uid": "1000", "home": "/var/vmail/example.com/alice",
                    "quota_rule": "*:storage=alice@example.com",
                ])
        }
    }

    @Test("override_fields replace the driver's fields; %h is the home found by the lookup")
    func overrideFields() async throws {
        try await withEnvironment { environment in
            let driver = ScriptedDriver("a", answer: Self.found(["uid": "1000", "home": "/home/alice"]))
            let chain = try Self.chain(
                environment, [driver],
                blocks: [userdb("a", overrideFields: "uid=0 mail=maildir:%h/Mail service=%s")])
            #expect(
                fields(await chain.lookup(Self.alice)) == [
                    "user": "alice@example.com", "uid": "0", "home": "/home/alice",
                    "mail": "maildir:/home/alice/Mail",
                    "service": "lmtp",
                ])
        }
    }

    @Test("default_fields see the home an earlier userdb found as %h")
    func defaultFieldsSeeEarlierHome() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a", answer: Self.found(["home": "/srv/alice"]))
            let second = ScriptedDriver("b", answer: Self.found(["uid": "3"]))
            let chain = try Self.chain(
                environment, [first, second],
                blocks: [
                    userdb("a", success: "continue-ok"),
                    userdb("b", defaultFields: "mail=maildir:%h/Maildir"),
                ])
            #expect(
                fields(await chain.lookup(Self.alice)) == [
                    "user": "alice@example.com", "home": "/srv/alice", "uid": "3",
                    "mail": "maildir:/srv/alice/Maildir",
                ])
        }
    }

    @Test("the local and remote IP are %l and %r")
    func connectionVariables() async throws {
        try await withEnvironment { environment in
            let driver = ScriptedDriver("a", answer: Self.found([:]))
            let chain = try Self.chain(
                environment, [driver], blocks: [userdb("a", overrideFields: "ips=%l,%r")])
            let request = UserdbRequest(user: "bob", localIP: "192.0.2.1", remoteIP: "198.51.100.2")
            #expect(
                fields(await chain.lookup(request)) == ["user": "bob", "ips": "192.0.2.1,198.51.100.2"])
        }
    }

    @Test("uid and gid names become numbers")
    func namesResolved() async throws {
        try await withEnvironment { environment in
            let driver = ScriptedDriver(
                "a", answer: Self.found(["uid": "daemon", "gid": "nogroup", "home": "/h"]))
            let chain = try Self.chain(environment, [driver], blocks: [userdb("a")])
            #expect(
                fields(await chain.lookup(Self.alice))
                    == ["user": "alice@example.com", "uid": "1", "gid": "65534", "home": "/h"])
        }
    }

    @Test("an unknown uid name is a temporary failure naming user, field and value")
    func unknownUIDName() async throws {
        try await withEnvironment { environment in
            let driver = ScriptedDriver(
                "a", answer: Self.found(["uid": "nosuchuser-homing", "gid": "0"]))
            let chain = try Self.chain(environment, [driver], blocks: [userdb("a")])
            let reason =
                "user alice@example.com: uid 'nosuchuser-homing' is not a number and no system user has that name"
            #expect(await chain.lookup(Self.alice) == .temporaryFailure(reason: reason))
            #expect(environment.logs.messages(at: .error) == ["a(alice@example.com): \(reason)"])
        }
    }

    @Test("an unknown gid name and numeric garbage are temporary failures")
    func badGID() async throws {
        try await withEnvironment { environment in
            let group = ScriptedDriver("a", answer: Self.found(["gid": "nosuchgroup-homing"]))
            let chain = try Self.chain(environment, [group], blocks: [userdb("a")])
            #expect(
                await chain.lookup(Self.alice)
                    == .temporaryFailure(
                        reason:
                            "user alice@example.com: gid 'nosuchgroup-homing' is not a number and no system group has that name"
                    ))
            let garbage = ScriptedDriver("b", answer: Self.found(["uid": "12x"]))
            let second = try Self.chain(environment, [garbage], blocks: [userdb("b")])
            #expect(
                await second.lookup(Self.alice)
                    == .temporaryFailure(
                        reason: "user alice@example.com: uid '12x' is neither a number nor a valid name"))
            let negative = ScriptedDriver("c", answer: Self.found(["uid": "-1"]))
            let third = try Self.chain(environment, [negative], blocks: [userdb("c")])
            #expect(
                await third.lookup(Self.alice)
                    == .temporaryFailure(
                        reason: "user alice@example.com: uid '-1' is neither a number nor a valid name"))
        }
    }

    @Test("a home that is not absolute is a temporary failure with a logged reason")
    func relativeHome() async throws {
        try await withEnvironment { environment in
            let driver = ScriptedDriver("a", answer: Self.found(["home": "Maildir"]))
            let chain = try Self.chain(environment, [driver], blocks: [userdb("a")])
            let reason = "user alice@example.com: home 'Maildir' is not an absolute path"
            #expect(await chain.lookup(Self.alice) == .temporaryFailure(reason: reason))
            #expect(environment.logs.messages(at: .error) == ["a(alice@example.com): \(reason)"])
        }
    }

    @Test("an empty home means no home")
    func emptyHome() async throws {
        try await withEnvironment { environment in
            let driver = ScriptedDriver("a", answer: Self.found(["home": "", "uid": "5"]))
            let chain = try Self.chain(environment, [driver], blocks: [userdb("a")])
            #expect(fields(await chain.lookup(Self.alice)) == ["user": "alice@example.com", "uid": "5"])
        }
    }

    @Test("a user renamed by one userdb is looked up under the new name by the next")
    func renamedUser() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a", answer: Self.found(["user": "alice@example.org"]))
            let second = ScriptedDriver("b", answer: Self.found(["uid": "9"]))
            let chain = try Self.chain(
                environment, [first, second], blocks: [userdb("a", success: "continue-ok"), userdb("b")])
            #expect(fields(await chain.lookup(Self.alice)) == ["user": "alice@example.org", "uid": "9"])
            #expect(await second.calls.users == ["alice@example.org"])
        }
    }

    @Test("iteration concatenates the drivers that can list users, in chain order")
    func iteration() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a", users: ["a1", "a2"]) { _ in .notFound }
            let unlisted = ScriptedDriver("b") { _ in .notFound }
            let third = ScriptedDriver("c", users: ["c1"]) { _ in .notFound }
            let chain = try Self.chain(
                environment, [first, unlisted, third], blocks: [userdb("a"), userdb("b"), userdb("c")])
            #expect(try await chain.iterateUsers() == ["a1", "a2", "c1"])
        }
    }

    @Test("iteration is unsupported when no driver can list users")
    func iterationUnsupported() async throws {
        try await withEnvironment { environment in
            let chain = try Self.chain(
                environment, [],
                blocks: [userdb("static", args: "uid=1 gid=1 allow_all_users=yes")])
            await #expect(throws: UserdbIterationError.unsupported(driver: "static")) {
                try await chain.iterateUsers()
            }
        }
    }

    @Test("100 concurrent lookups all get their own answer")
    func concurrentLookups() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            var lines = ""
            for index in 0..<100 {
                lines += "user\(index)@example.com::\(1000 + index):daemon::/home/u\(index)\n"
            }
            let file = try directory.write("users", lines, atomically: true)
            let chain = try Self.chain(environment, [], blocks: [userdb("passwd-file", args: file)])
            let results = await withTaskGroup(of: (Int, UserdbResult).self) { group in
                for index in 0..<100 {
                    group.addTask {
                        (index, await chain.lookup(UserdbRequest(user: "user\(index)@example.com")))
                    }
                }
                var results: [Int: UserdbResult] = [:]
                for await (index, result) in group { results[index] = result }
                return results
            }
            #expect(results.count == 100)
            for index in 0..<100 {
                #expect(
                    fields(results[index] ?? .notFound) == [
                        "user": "user\(index)@example.com", "uid": "\(1000 + index)", "gid": "1",
                        "home": "/home/u\(index)",
                    ])
            }
            // The lookups shared one read of the file.
            #expect(
                environment.logs.messages(at: .debug).filter { $0.hasPrefix("passwd-file: read") }.count
                    == 1)
        }
    }

    @Test("shutdown reaches the drivers and the chain reports their names")
    func namesAndShutdown() async throws {
        try await withEnvironment { environment in
            let chain = try Self.chain(
                environment, [], blocks: [userdb("static", args: "allow_all_users=yes"), userdb("passwd")])
            #expect(chain.driverNames == ["static", "passwd"])
            await chain.shutdown()
        }
    }
}
