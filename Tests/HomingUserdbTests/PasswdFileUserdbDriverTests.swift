import Foundation
import HomingConfig
import Testing

@testable import HomingUserdb
import HomingTestSupport

@Suite("PasswdFileUserdbDriver")
struct PasswdFileUserdbDriverTests {
    @Test("a user's uid, gid, home and userdb_ extra fields, % variables expanded")
    func fields() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            let file = try directory.write(
                "users",
                """
                # virtual users
                alice@example.com:{PLAIN}x:5000:5000::/var/vmail/example.com/alice::userdb_quota_rule=*:storage=1G userdb_mail=maildir:%h/Maildir nodelay=yes
                bob@example.com:{PLAIN}y:5000:5000::/var/vmail/example.com/bob

                """, atomically: true)
            let driver = try PasswdFileUserdbDriver(
                settings: userdb("passwd-file", args: file), context: environment.context)
            #expect(
                HomingUserdbTests.fields(await driver.lookup(UserdbRequest(user: "alice@example.com"))) == [
                    "user": "alice@example.com", "uid": "5000", "gid": "5000",
                    "home": "/var/vmail/example.com/alice",
                    "quota_rule": "*:storage=1G", "mail": "maildir:/var/vmail/example.com/alice/Maildir",
                ])
            #expect(
                HomingUserdbTests.fields(await driver.lookup(UserdbRequest(user: "bob@example.com"))) == [
                    "user": "bob@example.com", "uid": "5000", "gid": "5000",
                    "home": "/var/vmail/example.com/bob",
                ])
        }
    }

    @Test("a user missing from the file is not found; names match exactly")
    func missingUser() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            let file = try directory.write("users", "alice@example.com::1:1\n", atomically: true)
            let driver = try PasswdFileUserdbDriver(
                settings: userdb("passwd-file", args: file), context: environment.context)
            #expect(await driver.lookup(UserdbRequest(user: "nosuch@example.com")) == .notFound)
            #expect(await driver.lookup(UserdbRequest(user: "ALICE@example.com")) == .notFound)
        }
    }

    @Test("username_format=%n matches the local part")
    func usernameFormat() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            let file = try directory.write("users", "alice::1:1::/home/alice\n", atomically: true)
            let driver = try PasswdFileUserdbDriver(
                settings: userdb("passwd-file", args: "username_format=%n scheme=CRYPT \(file)"),
                context: environment.context)
            #expect(
                HomingUserdbTests.fields(await driver.lookup(UserdbRequest(user: "alice@example.com")))
                    == ["user": "alice@example.com", "uid": "1", "gid": "1", "home": "/home/alice"])
        }
    }

    @Test("username_format=%Lu lowercases the name before matching")
    func lowercaseFormat() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            let file = try directory.write("users", "alice@example.com::1:1\n", atomically: true)
            let driver = try PasswdFileUserdbDriver(
                settings: userdb("passwd-file", args: "username_format=%Lu \(file)"),
                context: environment.context)
            #expect(
                HomingUserdbTests.fields(await driver.lookup(UserdbRequest(user: "Alice@Example.COM")))
                    == ["user": "Alice@Example.COM", "uid": "1", "gid": "1"])
        }
    }

    @Test("a changed file is re-read by the next lookup, within the same second")
    func reload() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            let file = try directory.write("users", "alice::1:1\n", atomically: true)
            let driver = try PasswdFileUserdbDriver(
                settings: userdb("passwd-file", args: file), context: environment.context)
            #expect(await driver.lookup(UserdbRequest(user: "bob")) == .notFound)
            // Replaced atomically (a new inode), as editors and config tools do.
            try directory.write("users", "alice::1:1\nbob::2:2\n", atomically: true)
            #expect(
                HomingUserdbTests.fields(await driver.lookup(UserdbRequest(user: "bob")))?["uid"] == "2")
            // Rewritten in place (same inode, new size).
            let handle = try #require(FileHandle(forWritingAtPath: file))
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data("bob::22:2\n".utf8))
            try handle.close()
            #expect(
                HomingUserdbTests.fields(await driver.lookup(UserdbRequest(user: "bob")))?["uid"] == "22")
            #expect(await driver.lookup(UserdbRequest(user: "alice")) == .notFound)
        }
    }

    @Test(
        "a malformed line fails its user temporarily, is logged with file and line, and others work")
    func malformedLine() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            let file = try directory.write("users", "alice::1:1\nbroken::12x:1\nbob::2:2\n", atomically: true)
            let driver = try PasswdFileUserdbDriver(
                settings: userdb("passwd-file", args: file), context: environment.context)
            #expect(
                await driver.lookup(UserdbRequest(user: "broken"))
                    == .temporaryFailure(
                        reason:
                            "malformed line for this user: \(file):2: user 'broken': uid '12x' is neither a number nor a valid user name"
                    ))
            #expect(
                HomingUserdbTests.fields(await driver.lookup(UserdbRequest(user: "bob")))?["uid"] == "2")
            #expect(
                HomingUserdbTests.fields(await driver.lookup(UserdbRequest(user: "alice")))?["uid"] == "1")
            #expect(
                environment.logs.messages(at: .error)
                    == [
                        "passwd-file \(file):2: user 'broken': uid '12x' is neither a number nor a valid user name"
                    ])
        }
    }

    @Test("a duplicate name is logged as a warning and the first line wins")
    func duplicate() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            let file = try directory.write("users", "alice::1:1\nalice::2:2\n", atomically: true)
            let driver = try PasswdFileUserdbDriver(
                settings: userdb("passwd-file", args: file), context: environment.context)
            #expect(
                HomingUserdbTests.fields(await driver.lookup(UserdbRequest(user: "alice")))?["uid"] == "1")
            #expect(
                environment.logs.messages(at: .warning)
                    == ["passwd-file \(file):2: user 'alice' already defined on line 1; this line is ignored"]
            )
        }
    }

    @Test("a per-domain %d file: each domain reads its own file, a missing file means not found")
    func perDomainFiles() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            try directory.write("users.example.com", "alice::1:1::/home/example.com/alice\n", atomically: true)
            try directory.write("users.example.org", "alice::2:2::/home/example.org/alice\n", atomically: true)
            let driver = try PasswdFileUserdbDriver(
                settings: userdb("passwd-file", args: "username_format=%n \(directory.path)/users.%d"),
                context: environment.context)
            #expect(
                HomingUserdbTests.fields(await driver.lookup(UserdbRequest(user: "alice@example.com")))?[
                    "home"]
                    == "/home/example.com/alice")
            #expect(
                HomingUserdbTests.fields(await driver.lookup(UserdbRequest(user: "alice@example.org")))?[
                    "uid"] == "2")
            #expect(await driver.lookup(UserdbRequest(user: "alice@example.net")) == .notFound)
            await #expect(throws: UserdbIterationError.unsupported(driver: "passwd-file")) {
                try await driver.iterateUsers()
            }
        }
    }

    @Test("a domain cannot point a per-domain path outside its directory")
    func pathTraversal() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            try FileManager.default.createDirectory(
                atPath: directory.path + "/domains", withIntermediateDirectories: true)
            try directory.write("users", "alice::1:1\n", atomically: true)
            let driver = try PasswdFileUserdbDriver(
                settings: userdb(
                    "passwd-file", args: "username_format=%n \(directory.path)/domains/%d/../users"),
                context: environment.context)
            // %d = ".." would make domains/../../users; escaped it names no file.
            #expect(await driver.lookup(UserdbRequest(user: "alice@..")) == .notFound)
            let slash = try PasswdFileUserdbDriver(
                settings: userdb("passwd-file", args: "username_format=%n \(directory.path)/domains/%d"),
                context: environment.context)
            #expect(await slash.lookup(UserdbRequest(user: "alice@../users")) == .notFound)
        }
    }

    @Test(
        "a fixed path that does not exist stops start-up; one that disappears later fails temporarily")
    func missingFixedFile() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            let context = environment.context
            let error = #expect(throws: ConfigError.self) {
                try PasswdFileUserdbDriver(
                    settings: userdb("passwd-file", args: "\(directory.path)/nofile", line: 3),
                    context: context)
            }
            #expect(
                error?.description
                    == "/etc/homing/homing.conf:3: passwd-file userdb: \(directory.path)/nofile does not exist"
            )
            let file = try directory.write("users", "alice::1:1\n", atomically: true)
            let driver = try PasswdFileUserdbDriver(
                settings: userdb("passwd-file", args: file), context: context)
            #expect(
                HomingUserdbTests.fields(await driver.lookup(UserdbRequest(user: "alice")))?["uid"] == "1")
            try FileManager.default.removeItem(atPath: file)
            #expect(
                await driver.lookup(UserdbRequest(user: "alice"))
                    == .temporaryFailure(reason: "passwd-file \(file) does not exist"))
        }
    }

    @Test("bad args are configuration errors")
    func badArgs() async throws {
        try await withEnvironment { environment in
            let context = environment.context
            let relative = #expect(throws: ConfigError.self) {
                try PasswdFileUserdbDriver(settings: userdb("passwd-file", args: "users"), context: context)
            }
            #expect(relative?.message == "passwd-file userdb args: the path 'users' is not absolute")
            let unknown = #expect(throws: ConfigError.self) {
                try PasswdFileUserdbDriver(
                    settings: userdb("passwd-file", args: "blocking=yes /etc/x"), context: context)
            }
            #expect(
                unknown?.message
                    == "passwd-file userdb args: unknown option 'blocking=yes' (known: username_format, scheme)"
            )
        }
    }

    @Test("iteration lists the users in file order")
    func iteration() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            let file = try directory.write("users", "zed::1:1\n# c\namy::2:2\nzed::3:3\nbob::4:4\n", atomically: true)
            let driver = try PasswdFileUserdbDriver(
                settings: userdb("passwd-file", args: file), context: environment.context)
            #expect(try await driver.iterateUsers() == ["zed", "amy", "bob"])
        }
    }

    @Test("in a chain, uid/gid names from the file become numbers and default_fields fill the gaps")
    func inChain() async throws {
        try await withEnvironment { environment in
            let directory = try ScratchDirectory("homing-userdb-test")
            defer { directory.remove() }
            let file = try directory.write(
                "users", "alice@example.com::daemon:\nbob@example.com::nosuchuser-x:1\n", atomically: true)
            var settings = environment.settings
            settings.userdbs = [
                userdb("passwd-file", args: file, defaultFields: "gid=nogroup home=/var/vmail/%d/%n")
            ]
            let chain = try UserdbChain(settings: settings, context: environment.context)
            #expect(
                HomingUserdbTests.fields(await chain.lookup(UserdbRequest(user: "alice@example.com"))) == [
                    "user": "alice@example.com", "uid": "1", "gid": "65534",
                    "home": "/var/vmail/example.com/alice",
                ])
            #expect(
                await chain.lookup(UserdbRequest(user: "bob@example.com"))
                    == .temporaryFailure(
                        reason:
                            "user bob@example.com: uid 'nosuchuser-x' is not a number and no system user has that name"
                    ))
            #expect(
                environment.logs.messages(at: .error) == [
                    "passwd-file(bob@example.com): user bob@example.com: uid 'nosuchuser-x' is not a number and no system user has that name"
                ])
        }
    }
}
