import Foundation
import HomingConfig
import HomingTestSupport
import Testing

@testable import HomingUserdb

@Suite("PassdbChain")
struct PassdbChainTests {
    static let alice = UserdbRequest(user: "alice@example.com")

    /// A passdb block for tests (the userdb block helper with passdb defaults).
    static func passdb(
        _ driver: String, args: String = "", skip: String = "never", success: String = "return-ok",
        failure: String = "continue", internalfail: String = "continue", deny: Bool = false, master: Bool = false,
        defaultFields: String = "", overrideFields: String = "", line: Int = 20
    ) -> UserdbSettings {
        var block = userdb(
            driver, args: args, defaultFields: defaultFields, overrideFields: overrideFields, skip: skip,
            success: success, failure: failure, internalfail: internalfail, line: line)
        block.deny = deny
        block.master = master
        return block
    }

    static func chain(
        _ environment: TestEnvironment, _ drivers: [ScriptedDriver] = [], blocks: [UserdbSettings]
    ) throws -> PassdbChain {
        var settings = environment.settings
        settings.passdbs = blocks
        var context = environment.context
        context.settings = settings
        return try PassdbChain(settings: settings, registry: registry(drivers), context: context)
    }

    static func found(_ fields: [(String, String)]) -> @Sendable (UserdbRequest) -> UserdbResult {
        { request in .found(UserRecord(user: request.user, fields: fields.map { UserdbField($0.0, $0.1) })) }
    }

    @Test("--print-2.4 carries static and passwd-file passdbs (names, deny, result settings, fields) over: the 2.4 file answers the same")
    func printedAs24() async throws {
        let directory = try TemporaryDirectory()
        let file = directory.path + "/proxy.passwd"
        try "alice@example.com:{PLAIN}x::::::proxy=y host=10.0.0.7 port=2424\n".write(toFile: file, atomically: true, encoding: .utf8)
        let denied = directory.path + "/denied.passwd"
        try "bob@example.com:{PLAIN}x::::::\n".write(toFile: denied, atomically: true, encoding: .utf8)
        let conversion = try Passdb24Conversion(Passdb24Conversion.configuration(passdbs: """
            passdb denied {
              driver = passwd-file
              args = \(denied)
              deny = yes
            }
            passdb {
              driver = passwd-file
              args = \(file)
              result_failure = continue
            }
            passdb {
              driver = static
              args = nopassword=y proxy_maybe=y host=10.0.0.%d port=24
              skip = authenticated
            }
            """))
        let (old, new, text) = (conversion.old, conversion.new, conversion.text)
        #expect(text.contains("passdb passwd-file {") && text.contains("passdb denied {") && text.contains("deny = yes"), "\(text)")
        #expect(new.diagnostics.errors.isEmpty, "\(new.diagnostics.report)\n\(text)")
        #expect(new.settings.passdbs.map(\.deny) == old.settings.passdbs.map(\.deny))
        #expect(new.settings.passdbs.map(\.skip) == old.settings.passdbs.map(\.skip))
        #expect(new.settings.passdbs.map(\.resultFailure) == old.settings.passdbs.map(\.resultFailure))
        #expect(new.settings.passdbs.map(\.name) == ["denied", "passwd-file", "static"])
        try await withEnvironment { environment in
            let (answers, differences) = try await conversion.compare(
                ["alice@example.com", "bob@example.com", "carol@example.org"], registry: .builtIn,
                context: environment.context)
            #expect(differences.isEmpty, "\(differences)\n\(text)")
            #expect(answers["alice@example.com"].flatMap(fields)?["host"] == "10.0.0.7")
            #expect(answers["carol@example.org"].flatMap(fields)?["host"] == "10.0.0.example.org")
            #expect(answers["bob@example.com"] == .notFound)
        }
    }

    @Test("a static passdb answers its args as fields, % expanded, without password fields")
    func staticProxyFields() async throws {
        try await withEnvironment { environment in
            let chain = try Self.chain(environment, blocks: [
                Self.passdb("static", args: "proxy=y host=127.0.0.1 port=2424 destuser=%n nopassword=y password=x"),
            ])
            let answer = await chain.lookupPassdb(Self.alice)
            guard case .found(let record) = answer else {
                Issue.record("expected found, got \(answer)")
                return
            }
            #expect(record.user == "alice@example.com")
            #expect(record.fields == [
                UserdbField("proxy", "y"), UserdbField("host", "127.0.0.1"), UserdbField("port", "2424"),
                UserdbField("destuser", "alice"),
            ])
            // No uid resolution, no allow_all_users warning in passdb mode.
            #expect(environment.logs.messages(at: .warning).isEmpty)
        }
    }

    @Test("passwd-file as a passdb: the extra fields without userdb_ are the answer; uid, gid, home are not")
    func passwdFileFields() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/passwd"
        try """
            alice@example.com:{PLAIN}secret:1000:1000::/home/alice::proxy=y host=10.0.0.2 userdb_mail=maildir:~/M nopassword
            bob@example.com:x:1001:1001::/home/bob::
            """.write(toFile: path, atomically: true, encoding: .utf8)
        try await withEnvironment { environment in
            let chain = try Self.chain(environment, blocks: [Self.passdb("passwd-file", args: path)])
            #expect(fields(await chain.lookupPassdb(Self.alice)) == ["user": "alice@example.com", "proxy": "y", "host": "10.0.0.2"])
            #expect(fields(await chain.lookupPassdb(UserdbRequest(user: "bob@example.com"))) == ["user": "bob@example.com"])
            #expect(await chain.lookupPassdb(UserdbRequest(user: "carol@example.com")) == .notFound)
        }
    }

    @Test("passwd as a passdb: a system account is found with no fields, an unknown name is not found")
    func passwdDriver() async throws {
        try await withEnvironment { environment in
            let chain = try Self.chain(environment, blocks: [Self.passdb("passwd")])
            #expect(fields(await chain.lookupPassdb(UserdbRequest(user: "root"))) == ["user": "root"])
            #expect(await chain.lookupPassdb(UserdbRequest(user: "no-such-user-homing")) == .notFound)
        }
    }

    @Test("default result rules: not found goes on to the next passdb, found stops the chain")
    func defaultRules() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("first") { _ in .notFound }
            let second = ScriptedDriver("second", answer: Self.found([("host", "b")]))
            let third = ScriptedDriver("third", answer: Self.found([("host", "c")]))
            let chain = try Self.chain(
                environment, [first, second, third],
                blocks: [Self.passdb("first"), Self.passdb("second"), Self.passdb("third")])
            #expect(fields(await chain.lookupPassdb(Self.alice)) == ["user": "alice@example.com", "host": "b"])
            #expect(await third.calls.users.isEmpty)
            #expect(chain.driverNames == ["first", "second", "third"])
        }
    }

    @Test("continue-ok keeps the fields for the next passdb to add to; skip = authenticated then passes one over")
    func continueAndSkip() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("first", answer: Self.found([("host", "a"), ("proxy", "y")]))
            let skipped = ScriptedDriver("skipped", answer: Self.found([("host", "never")]))
            let last = ScriptedDriver("last", answer: Self.found([("port", "2424")]))
            let chain = try Self.chain(
                environment, [first, skipped, last],
                blocks: [
                    Self.passdb("first", success: "continue-ok"),
                    Self.passdb("skipped", skip: "authenticated"),
                    Self.passdb("last", skip: "never"),
                ])
            #expect(fields(await chain.lookupPassdb(Self.alice))
                == ["user": "alice@example.com", "host": "a", "proxy": "y", "port": "2424"])
            #expect(await skipped.calls.users.isEmpty)
        }
    }

    @Test("skip = unauthenticated passes a passdb over while no earlier one found the user")
    func skipUnauthenticated() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("first") { _ in .notFound }
            let second = ScriptedDriver("second", answer: Self.found([("host", "b")]))
            let chain = try Self.chain(
                environment, [first, second],
                blocks: [Self.passdb("first"), Self.passdb("second", skip: "unauthenticated")])
            #expect(await chain.lookupPassdb(Self.alice) == .notFound)
            #expect(await second.calls.users.isEmpty)
        }
    }

    @Test("a temporary failure with nothing found afterwards answers temporaryFailure and is logged with 'passdb'")
    func tempfail() async throws {
        try await withEnvironment { environment in
            let down = ScriptedDriver("down") { _ in .temporaryFailure(reason: "server down") }
            let empty = ScriptedDriver("empty") { _ in .notFound }
            let chain = try Self.chain(environment, [down, empty], blocks: [Self.passdb("down"), Self.passdb("empty")])
            #expect(await chain.lookupPassdb(Self.alice) == .temporaryFailure(reason: "server down"))
            #expect(environment.logs.messages(at: .error) == ["passdb down(alice@example.com): server down"])
            // The same failure before a passdb that finds the user: found.
            let found = ScriptedDriver("found", answer: Self.found([("host", "x")]))
            let recovering = try Self.chain(environment, [down, found], blocks: [Self.passdb("down"), Self.passdb("found")])
            #expect(fields(await recovering.lookupPassdb(Self.alice)) == ["user": "alice@example.com", "host": "x"])
        }
    }

    @Test("a deny = yes passdb that finds the user refuses it; one that does not find it lets the chain go on")
    func deny() async throws {
        try await withEnvironment { environment in
            let denied = ScriptedDriver("denied") { request in
                request.user == "bad@example.com" ? .found(UserRecord(user: request.user)) : .notFound
            }
            let allowed = ScriptedDriver("allowed", answer: Self.found([("host", "h")]))
            let chain = try Self.chain(
                environment, [denied, allowed], blocks: [Self.passdb("denied", deny: true), Self.passdb("allowed")])
            #expect(await chain.lookupPassdb(UserdbRequest(user: "bad@example.com")) == .notFound)
            #expect(fields(await chain.lookupPassdb(Self.alice)) == ["user": "alice@example.com", "host": "h"])
            #expect(await allowed.calls.users == ["alice@example.com"])
        }
    }

    @Test("master = yes passdbs are left out of lookups; with only those nothing is configured")
    func master() async throws {
        try await withEnvironment { environment in
            let masters = ScriptedDriver("masters", answer: Self.found([("host", "m")]))
            let users = ScriptedDriver("users") { _ in .notFound }
            let chain = try Self.chain(
                environment, [masters, users], blocks: [Self.passdb("masters", master: true), Self.passdb("users")])
            #expect(await chain.lookupPassdb(Self.alice) == .notFound)
            #expect(await masters.calls.users.isEmpty)
            var settings = HomingSettings()
            settings.passdbs = [Self.passdb("masters", master: true)]
            #expect(!PassdbChain.isConfigured(in: settings))
            let none = #expect(throws: ConfigError.self) {
                try Self.chain(environment, [masters], blocks: [Self.passdb("masters", master: true)])
            }
            #expect(none?.message.hasPrefix("no passdb configured for lookups") == true)
            settings.passdbs.append(Self.passdb("users"))
            #expect(PassdbChain.isConfigured(in: settings))
        }
    }

    @Test("override_fields apply to the passdb answer; userdb_ prefetch fields are dropped")
    func overrideAndPrefetch() async throws {
        try await withEnvironment { environment in
            let driver = ScriptedDriver(
                "sqlish", answer: Self.found([("host", "a"), ("userdb_home", "/h"), ("password_noscheme", "p")]))
            let chain = try Self.chain(
                environment, [driver],
                blocks: [Self.passdb("sqlish", defaultFields: "port=24", overrideFields: "proxy_maybe=y")])
            #expect(fields(await chain.lookupPassdb(Self.alice))
                == ["user": "alice@example.com", "port": "24", "host": "a", "proxy_maybe": "y"])
        }
    }

    @Test("a bad passdb rule or an unknown driver stops building at the block's location, naming the passdb")
    func configErrors() async throws {
        try await withEnvironment { environment in
            let badSkip = #expect(throws: ConfigError.self) {
                try Self.chain(environment, blocks: [Self.passdb("static", skip: "found", line: 7)])
            }
            #expect(badSkip?.location?.line == 7)
            #expect(badSkip?.message == "invalid passdb skip 'found' (expected one of: never, authenticated, unauthenticated)")
            let unknown = #expect(throws: ConfigError.self) {
                try Self.chain(environment, blocks: [Self.passdb("pam", line: 9)])
            }
            #expect(unknown?.location?.line == 9)
            #expect(unknown?.message.hasPrefix("unknown passdb driver 'pam' (known: ") == true)
            let badResult = #expect(throws: ConfigError.self) {
                try Self.chain(environment, blocks: [Self.passdb("static", success: "ok")])
            }
            #expect(badResult?.message.hasPrefix("invalid passdb result_success 'ok'") == true)
        }
    }

    @Test("a Dovecot 2.4 static passdb expands %{...} variables in its fields")
    func static24() async throws {
        try await withEnvironment { environment in
            var block = Self.passdb("static", args: "proxy=y destuser=%{user | username}@backend")
            block.variableSyntax = .dovecot24
            let chain = try Self.chain(environment, blocks: [block])
            #expect(fields(await chain.lookupPassdb(Self.alice))
                == ["user": "alice@example.com", "proxy": "y", "destuser": "alice@backend"])
        }
    }

    @Test("skip = authenticated follows Dovecot: a passdb that found the user with result_success = continue counts")
    func authenticatedAfterContinue() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("first", answer: Self.found([("host", "a")]))
            let skipped = ScriptedDriver("skipped", answer: Self.found([("host", "b")]))
            let last = ScriptedDriver("last", answer: Self.found([("port", "1")]))
            let chain = try Self.chain(
                environment, [first, skipped, last],
                blocks: [Self.passdb("first", success: "continue"), Self.passdb("skipped", skip: "authenticated"),
                         Self.passdb("last")])
            #expect(fields(await chain.lookupPassdb(Self.alice)) == ["user": "alice@example.com", "host": "a", "port": "1"])
            #expect(await skipped.calls.users.isEmpty)
        }
    }

    @Test("every passdb skipped is a temporary failure, as Dovecot's 'All password databases were skipped'")
    func allSkipped() async throws {
        try await withEnvironment { environment in
            let only = ScriptedDriver("only", answer: Self.found([("host", "a")]))
            let chain = try Self.chain(environment, [only], blocks: [Self.passdb("only", skip: "unauthenticated")])
            #expect(await chain.lookupPassdb(Self.alice) == .temporaryFailure(reason: "all password databases were skipped"))
            #expect(await only.calls.users.isEmpty)
            #expect(environment.logs.messages(at: .error) == ["passdb only(alice@example.com): all password databases were skipped"])
        }
    }
}
