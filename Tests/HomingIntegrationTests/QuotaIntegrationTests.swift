import Foundation
import Glibc
import HomingTestSupport
import Testing

/// `mail_plugins = quota` against the real server: RCPT-time and DATA-time refusals with the
/// replies Dovecot gives, grace, tempfail, quota_max_mail_size, concurrency, the userdb's
/// per-user rule (passwd-file, PostgreSQL, LDAP) and `homing quota get|recalc`.
@Suite("quota plugin end to end", .serialized)
struct QuotaIntegrationTests {
    /// Turns the quota plugin on in the fixture's configuration, as the seed does
    /// (`protocol lmtp { mail_plugins = quota }`, `plugin { quota = maildir:User quota }`).
    static func enableQuota(_ fixture: IntegrationFixture, plugin: String = "", topLevel: String = "") throws {
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try (text + """
            \(topLevel)
            protocol lmtp {
              mail_plugins = $mail_plugins quota
            }
            plugin {
              quota = maildir:User quota
              quota_rule = *:storage=1G
              \(plugin)
            }

            """).write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
    }

    /// A message of about `kib` KiB (72-byte lines).
    static func message(kib: Int, subject: String = "quota") -> String {
        let line = String(repeating: "x", count: 70) + "\r\n"
        let lines = kib * 1024 / line.utf8.count
        return "Subject: \(subject)\r\n\r\n" + String(repeating: line, count: lines) + ".\r\n"
    }

    /// One transaction: MAIL, the RCPTs (their replies returned first), DATA with `body` when
    /// any recipient was accepted, then one reply per accepted recipient.
    static func transaction(
        _ client: LMTPTestClient, to recipients: [String], body: String
    ) async throws -> (rcpt: [String], data: [String]) {
        _ = try await client.command("MAIL FROM:<sender@example.org>")
        var rcptReplies: [String] = []
        for recipient in recipients {
            rcptReplies.append(contentsOf: try await client.command("RCPT TO:<\(recipient)>"))
        }
        let accepted = rcptReplies.filter { $0.hasPrefix("250") }.count
        guard accepted > 0 else {
            _ = try await client.command("RSET")
            return (rcptReplies, [])
        }
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send(body)
        return (rcptReplies, try await client.readReplies(accepted))
    }

    /// A fixture with quota on, its server started and a client connected; the server is
    /// stopped and the directory removed after `body`.
    static func withQuotaServer(
        plugin: String = "", topLevel: String = "",
        _ body: (IntegrationFixture, HomingServerProcess, LMTPTestClient) async throws -> Void
    ) async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        try enableQuota(fixture, plugin: plugin, topLevel: topLevel)
        let server = try await fixture.startServer()
        do {
            try await body(fixture, server, try await connect(fixture))
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func connect(_ fixture: IntegrationFixture) async throws -> LMTPTestClient {
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, lhlo: "client")
        return client
    }

    /// Sum of `S=` sizes and the number of files in new/ and cur/ of a maildir's INBOX.
    static func onDisk(_ maildir: String) -> (bytes: Int64, messages: Int64) {
        var bytes: Int64 = 0
        var count: Int64 = 0
        for sub in ["new", "cur"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: maildir + "/" + sub)) ?? [] {
                guard let range = name.range(of: #",S=\d+"#, options: .regularExpression) else { continue }
                bytes += Int64(name[range].dropFirst(3)) ?? 0
                count += 1
            }
        }
        return (bytes, count)
    }

    /// The usage `maildirsize` records: the sum of its lines after the first.
    static func maildirsize(_ maildir: String) throws -> (limit: String, bytes: Int64, messages: Int64) {
        let text = try String(contentsOfFile: maildir + "/maildirsize", encoding: .utf8)
        var lines = text.split(separator: "\n")
        let limit = String(lines.removeFirst())
        var bytes: Int64 = 0
        var messages: Int64 = 0
        for line in lines {
            let parts = line.split(separator: " ")
            bytes += Int64(parts[0]) ?? 0
            messages += Int64(parts[1]) ?? 0
        }
        return (limit, bytes, messages)
    }

    @Test("DATA time: the full recipient alone gets 552 5.2.2, the other is delivered, nothing is written or counted for the refused copy")
    func dataTimeRefusalWithSeveralRecipients() async throws {
        try await Self.withQuotaServer() { fixture, server, client in
            // The reference case: 602 KiB stored of 1024 KiB, a further 616 KiB message refused.
            let first = try await Self.transaction(
                client, to: ["alice@example.com", "bob@example.com"], body: Self.message(kib: 602))
            #expect(first.data.allSatisfy { $0.hasPrefix("250 2.0.0") }, "\(first) \(server.log)")
            let bob = fixture.maildir("bob")
            let before = Self.onDisk(bob)
            #expect(before.messages == 1)
            let second = try await Self.transaction(
                client, to: ["alice@example.com", "bob@example.com"], body: Self.message(kib: 616))
            #expect(second.rcpt == ["250 2.1.5 OK", "250 2.1.5 OK"])
            #expect(second.data.count == 2)
            #expect(second.data.first?.hasPrefix("250 2.0.0 <alice@example.com>") == true)
            #expect(second.data.last == "552 5.2.2 <bob@example.com> Quota exceeded (mailbox for user is full)")
            #expect(Self.onDisk(fixture.maildir("alice")).messages == 2)
            #expect(Self.onDisk(bob) == before)
            #expect(fixture.files(bob, "tmp").isEmpty)
            let recorded = try Self.maildirsize(bob)
            #expect(recorded.limit == "1048576S")
            #expect(recorded.bytes == before.bytes && recorded.messages == before.messages)
            #expect(server.log.contains("save failed to INBOX: Quota exceeded (mailbox for user is full)"))
            // homing quota get shows what is on disk (KiB, like doveadm quota get).
            let get = try await HomingBinary.run(["quota", "get", "-c", fixture.configPath, "bob@example.com"])
            #expect(get.status == 0, "\(get.standardError)")
            let kib = (before.bytes + 1023) / 1024
            let percent = kib * 100 / 1024
            #expect(get.standardOutput.contains(try Regex("User quota +STORAGE +\(kib) +1024 +\(percent)\n")))
            #expect(get.standardOutput.contains(try Regex("User quota +MESSAGE +1 +- +0\n")), "\(get.standardOutput)")
            #expect(get.standardOutput.hasPrefix("Quota name"))
        }
    }

    @Test("grace: the last message may take the user past the limit by up to 10%; then everything is refused")
    func graceLetsTheLastMessageOvershoot() async throws {
        try await Self.withQuotaServer() { fixture, server, client in
            let fill = try await Self.transaction(client, to: ["bob@example.com"], body: Self.message(kib: 1000))
            #expect(fill.data.first?.hasPrefix("250 2.0.0") == true, "\(fill)")
            // 1000 + 100 KiB > 1024 KiB, but within 1024 + 102.4 KiB of grace.
            let over = try await Self.transaction(client, to: ["bob@example.com"], body: Self.message(kib: 100))
            #expect(over.data.first?.hasPrefix("250 2.0.0") == true, "\(over)")
            let usage = Self.onDisk(fixture.maildir("bob"))
            #expect(usage.bytes > 1_048_576 && usage.bytes <= 1_048_576 + 104_857)
            let tiny = try await Self.transaction(client, to: ["bob@example.com"], body: "Subject: x\r\n\r\nx\r\n.\r\n")
            #expect(tiny.data == ["552 5.2.2 <bob@example.com> Quota exceeded (mailbox for user is full)"])
            #expect(Self.onDisk(fixture.maildir("bob")) == usage)
        }
    }

    @Test("lmtp_rcpt_check_quota: a user already over quota is refused at RCPT; quota_full_tempfail makes it 452 4.2.2")
    func rcptTimeCheckAndTempfail() async throws {
        for tempfail in [false, true] {
            let fixture = try IntegrationFixture()
            defer { fixture.dir.remove() }
            try Self.enableQuota(
                fixture, topLevel: "lmtp_rcpt_check_quota = yes\nquota_full_tempfail = \(tempfail ? "yes" : "no")")
            let server = try await fixture.startServer()
            let client = try await Self.connect(fixture)
            // Not over yet: RCPT accepted (the size of the coming message is unknown).
            let fill = try await Self.transaction(client, to: ["bob@example.com"], body: Self.message(kib: 1100))
            #expect(fill.rcpt == ["250 2.1.5 OK"])
            #expect(fill.data.first?.hasPrefix("250 2.0.0") == true, "\(fill) \(server.log)")
            let text = "<bob@example.com> Quota exceeded (mailbox for user is full)"
            let expected = tempfail ? "452 4.2.2 \(text)" : "552 5.2.2 \(text)"
            let next = try await Self.transaction(
                client, to: ["bob@example.com", "alice@example.com"], body: Self.message(kib: 1))
            #expect(next.rcpt == [expected, "250 2.1.5 OK"], "\(server.log)")
            #expect(next.data.count == 1 && next.data[0].hasPrefix("250 2.0.0 <alice@example.com>"))
            #expect(Self.onDisk(fixture.maildir("bob")).messages == 1)
            await server.stop()
        }
    }

    @Test("quota_full_tempfail at DATA time: 452 4.2.2; quota_max_mail_size: 552 5.2.3 for every recipient")
    func tempfailAtDataAndMaxMailSize() async throws {
        try await Self.withQuotaServer(plugin: "quota_max_mail_size = 2M", topLevel: "quota_full_tempfail = yes") { fixture, server, client in
            let big = try await Self.transaction(
                client, to: ["alice@example.com", "bob@example.com"], body: Self.message(kib: 1500))
            #expect(big.data.first?.hasPrefix("250 2.0.0 <alice@example.com>") == true, "\(big)")
            #expect(big.data.last == "452 4.2.2 <bob@example.com> Quota exceeded (mailbox for user is full)")
            let huge = try await Self.transaction(
                client, to: ["alice@example.com", "bob@example.com"], body: Self.message(kib: 2100))
            let text = "Mail size is larger than the maximum size allowed by server configuration"
            #expect(huge.data == ["552 5.2.3 <alice@example.com> \(text)", "552 5.2.3 <bob@example.com> \(text)"])
            #expect(Self.onDisk(fixture.maildir("alice")).messages == 1)
            #expect(Self.onDisk(fixture.maildir("bob")).messages == 0)
        }
    }

    @Test("20 concurrent deliveries to one user: maildirsize equals the files on disk and the limit holds")
    func concurrentDeliveriesKeepTheCount() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        try Self.enableQuota(fixture)
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        // 20 × 80 KiB = 1600 KiB for a 1024 KiB quota: some are refused, all at once.
        let replies = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let client = try await Self.connect(fixture)
                    let result = try await Self.transaction(
                        client, to: ["bob@example.com"], body: Self.message(kib: 80, subject: "n\(index)"))
                    return result.data.first ?? "none"
                }
            }
            var all: [String] = []
            for try await reply in group { all.append(reply) }
            return all
        }
        let saved = replies.filter { $0.hasPrefix("250 2.0.0") }.count
        let refused = replies.filter { $0 == "552 5.2.2 <bob@example.com> Quota exceeded (mailbox for user is full)" }.count
        #expect(saved + refused == 20, "\(replies)")
        #expect(saved >= 12 && saved <= 14, "\(replies)")
        let disk = Self.onDisk(fixture.maildir("bob"))
        #expect(disk.messages == Int64(saved))
        let recorded = try Self.maildirsize(fixture.maildir("bob"))
        #expect(recorded.bytes == disk.bytes && recorded.messages == disk.messages)
        #expect(disk.bytes <= 1_048_576 + 104_857)
    }

    @Test("a userdb quota_rule that does not parse: 451 for that user only, logged with the user and the value")
    func invalidUserdbRule() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let users = try String(contentsOfFile: fixture.dir.file("users"), encoding: .utf8)
        try (users + "badquota@example.com::\(fixture.uid):\(fixture.gid)::\(fixture.mailRoot)/example.com/badquota::userdb_quota_rule=*:storage=lots\n")
            .write(toFile: fixture.dir.file("users"), atomically: false, encoding: .utf8)
        try Self.enableQuota(fixture)
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await Self.connect(fixture)
        let result = try await Self.transaction(
            client, to: ["badquota@example.com", "alice@example.com"], body: Self.message(kib: 1))
        #expect(result.rcpt == ["451 4.3.0 <badquota@example.com> Temporary internal error", "250 2.1.5 OK"])
        #expect(result.data.count == 1)
        #expect(server.log.contains("badquota@example.com: invalid userdb value: quota_rule: invalid size 'lots' (in '*:storage=lots')"), "\(server.log)")
        let get = try await HomingBinary.run(["quota", "get", "-c", fixture.configPath, "badquota@example.com"])
        #expect(get.status == 75)
    }

    @Test("a configured rule that does not parse stops start-up and fails homing config --check, naming it")
    func invalidGlobalRule() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        try Self.enableQuota(fixture, plugin: "quota_rule2 = Trash:storage=+lots")
        let check = try await HomingBinary.run(["config", "--check", "-c", fixture.configPath])
        #expect(check.status == 78)
        #expect(check.standardError.contains("quota_rule2: invalid size '+lots' (in 'Trash:storage=+lots')"), "\(check.standardError)")
        let serve = try await HomingBinary.run(["serve", "-c", fixture.configPath])
        #expect(serve.status == 78)
    }

    @Test("homing quota get prints what doveadm quota get prints: KiB rounded up (888 bytes are 1, 616,100 are 602), the percentage of the figures shown, doveadm's 80-column table")
    func getRoundsLikeDoveadm() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        try Self.enableQuota(fixture)
        let maildir = fixture.maildir("bob")
        for sub in ["", "/new", "/cur", "/tmp"] {
            try FileManager.default.createDirectory(atPath: maildir + sub, withIntermediateDirectories: true)
        }
        // Each expected text is doveadm quota get's output (Dovecot 2.3.19.1, piped) for the same
        // maildirsize: bob's rule is *:storage=1M.
        let cases: [(bytes: Int, expected: String)] = [
            (888, """
                Quota name Type    Value Limit                         %
                User quota STORAGE     1  1024                         0
                User quota MESSAGE     1     -                         0

                """),
            (616_100, """
                Quota name Type    Value Limit                         %
                User quota STORAGE   602  1024                        58
                User quota MESSAGE     1     -                         0

                """),
            // 1023.1 KiB: shown as 1024, so 100% (from the bytes it would be 99%).
            (1_047_655, """
                Quota name Type    Value Limit                          %
                User quota STORAGE  1024  1024                        100
                User quota MESSAGE     1     -                          0

                """),
        ]
        for (bytes, expected) in cases {
            try "1048576S\n0 0\n\(bytes) 1\n".write(toFile: maildir + "/maildirsize", atomically: false, encoding: .utf8)
            if geteuid() == 0 {
                for path in [fixture.mailRoot + "/example.com", fixture.mailRoot + "/example.com/bob", maildir,
                             maildir + "/new", maildir + "/cur", maildir + "/tmp", maildir + "/maildirsize"] {
                    chown(path, fixture.uid, fixture.gid)
                }
            }
            let get = try await HomingBinary.run(["quota", "get", "-c", fixture.configPath, "bob@example.com"])
            #expect(get.status == 0, "\(get.standardError)")
            #expect(get.standardOutput == expected, "\(bytes) bytes")
        }
    }

    @Test("homing quota get as a user who may not act as the mail owner: exit 77 (EX_NOPERM, as doveadm) saying to run it as root or as the uid, not 75")
    func getWithoutPermission() async throws {
        guard geteuid() == 0 else { return }  // needs root to drop to another user
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        try Self.enableQuota(fixture)
        // The configuration readable by nobody; the maildir stays the mail owner's.
        chmod(fixture.dir.path, 0o755)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: fixture.dir.path)) ?? [] {
            chmod(fixture.dir.file(name), 0o755)
        }
        let result = try await runOnThread {
            try TestProcess.run(
                "/usr/bin/setpriv",
                ["--reuid=65534", "--regid=65534", "--clear-groups", HomingBinary.path, "quota", "get", "-c",
                 fixture.configPath, "bob@example.com"])
        }
        #expect(result.status == 77, "\(result.standardError)")
        #expect(result.standardError.contains("cannot deliver as uid \(fixture.uid)"), "\(result.standardError)")
        #expect(result.standardError.contains("Run this as root or as the user's uid"), "\(result.standardError)")
    }

    @Test("homing quota recalc rewrites maildirsize after mail was removed behind its back; get shows the files")
    func recalcAfterRemoval() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        try Self.enableQuota(fixture)
        let server = try await fixture.startServer()
        let client = try await Self.connect(fixture)
        for index in 0..<3 {
            let result = try await Self.transaction(
                client, to: ["bob@example.com"], body: Self.message(kib: 100, subject: "m\(index)"))
            #expect(result.data.first?.hasPrefix("250 2.0.0") == true)
        }
        await server.stop()
        let bob = fixture.maildir("bob")
        let name = try #require(fixture.files(bob).first)
        unlink(bob + "/new/" + name)
        let recalc = try await HomingBinary.run(["quota", "recalc", "-c", fixture.configPath, "bob@example.com"])
        #expect(recalc.status == 0, "\(recalc.standardError)")
        let disk = Self.onDisk(bob)
        let recorded = try Self.maildirsize(bob)
        #expect(disk.messages == 2 && recorded.messages == 2 && recorded.bytes == disk.bytes)
        let get = try await HomingBinary.run(["quota", "get", "--bytes", "-c", fixture.configPath, "bob@example.com"])
        #expect(get.standardOutput.contains(try Regex("STORAGE +\(disk.bytes) +1048576 ")), "\(get.standardOutput)")
        let missing = try await HomingBinary.run(["quota", "get", "-c", fixture.configPath, "nosuch@example.com"])
        #expect(missing.status == 67)
        #expect(missing.standardError.contains("user nosuch@example.com doesn't exist"))
        // Files stay the user's.
        let owner = try #require(ownership(bob + "/maildirsize"))
        #expect(owner.uid == fixture.uid && owner.gid == fixture.gid)
    }

    @Test("PostgreSQL: smallquota (quota_rule *:bytes=1048576 from SQL) stops receiving at the limit")
    func sqlSmallQuota() async throws {
        let database = try await TestPostgresSampleDatabase.create()
        let fixture = try await SQLUserdbIntegrationTests.fixture(database)
        defer { fixture.dir.remove() }
        try Self.enableQuota(fixture)
        try await Self.fillSmallQuota(fixture)
    }

    @Test("LDAP: smallquota (homingMailQuota 1048576) stops receiving at the limit")
    func ldapSmallQuota() async throws {
        let (fixture, slapd) = try await LDAPUserdbIntegrationTests.start()
        defer {
            slapd.remove()
            fixture.dir.remove()
        }
        try Self.enableQuota(fixture)
        try await Self.fillSmallQuota(fixture)
    }

    /// 602 KiB accepted, 616 KiB refused for smallquota while alice gets both; quota get agrees.
    static func fillSmallQuota(_ fixture: IntegrationFixture) async throws {
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await connect(fixture)
        let first = try await transaction(
            client, to: ["smallquota@example.com", "alice@example.com"], body: message(kib: 602))
        #expect(first.data.allSatisfy { $0.hasPrefix("250 2.0.0") }, "\(first) \(server.log)")
        let second = try await transaction(
            client, to: ["smallquota@example.com", "alice@example.com"], body: message(kib: 616))
        #expect(second.data.first == "552 5.2.2 <smallquota@example.com> Quota exceeded (mailbox for user is full)")
        #expect(second.data.last?.hasPrefix("250 2.0.0 <alice@example.com>") == true)
        let maildir = fixture.maildir("smallquota")
        let disk = onDisk(maildir)
        #expect(disk.messages == 1)
        let recorded = try maildirsize(maildir)
        #expect(recorded.limit == "1048576S" && recorded.bytes == disk.bytes)
        let get = try await HomingBinary.run(["quota", "get", "-c", fixture.configPath, "smallquota@example.com"])
        #expect(get.status == 0, "\(get.standardError)")
        let kib = (disk.bytes + 1023) / 1024
        #expect(get.standardOutput.contains(try Regex("User quota +STORAGE +\(kib) +1024 +\(kib * 100 / 1024)\n")), "\(get.standardOutput)")
    }
}
