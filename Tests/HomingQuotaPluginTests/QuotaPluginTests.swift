import Foundation
import Glibc
import HomingConfig
import HomingDelivery
import HomingQuota
import HomingTestSupport
import HomingUserdb
import NIOPosix
import Testing

@testable import HomingQuotaPlugin

@Suite("Quota plugin outcomes (over the delivery core, no process)")
struct QuotaPluginTests {
    /// A 1 KiB quota (with grace 0) for alice, quota plugin configured as in the settings.
    func setUp(_ configure: (inout HomingSettings) -> Void = { _ in }) throws -> (DeliveryHarness, LocalDelivery) {
        let harness = try DeliveryHarness {
            $0.mailPlugins = ["quota"]
            $0.plugin = ["quota": "maildir:User quota", "quota_rule": "*:storage=1k", "quota_grace": "0"]
            configure(&$0)
        }
        let plugin = try QuotaPlugin(settings: harness.settings, threadPool: NIOThreadPool.singleton, logger: harness.logs.logger)
        let delivery = try harness.delivery(
            users: ["alice@example.com": harness.user("alice@example.com")], plugins: [plugin])
        return (harness, delivery)
    }

    let small = "Subject: small\r\n\r\nhi\r\n"
    let large = "Subject: large\r\n\r\n" + String(repeating: "x", count: 2000) + "\r\n"

    @Test("a message that does not fit is refused for good as mailbox full, and nothing is written or counted")
    func overQuota() async throws {
        let (harness, delivery) = try setUp()
        defer { harness.scratch.remove() }
        #expect(try await harness.run(delivery, message: small, to: ["alice@example.com"]).outcomes == [.stored(mailboxes: ["INBOX"])])
        #expect(
            try await harness.run(delivery, message: large, to: ["alice@example.com"]).outcomes == [
                .failed(.refused(.mailboxFull(message: "Quota exceeded (mailbox for user is full)")))
            ])
        #expect(harness.files(of: "alice@example.com").count == 1)
    }

    @Test("quota_full_tempfail turns mailbox full into a deferral")
    func tempfail() async throws {
        let (harness, delivery) = try setUp { $0.quotaFullTempfail = true }
        defer { harness.scratch.remove() }
        #expect(
            try await harness.run(delivery, message: large, to: ["alice@example.com"]).outcomes == [
                .failed(.deferred(.mailboxFull(message: "Quota exceeded (mailbox for user is full)")))
            ])
    }

    @Test("quota_max_mail_size: too large, with Dovecot's explanation")
    func maxMailSize() async throws {
        let (harness, delivery) = try setUp { $0.plugin["quota_rule"] = "*:storage=1M"; $0.plugin["quota_max_mail_size"] = "1k" }
        defer { harness.scratch.remove() }
        #expect(
            try await harness.run(delivery, message: large, to: ["alice@example.com"]).outcomes == [
                .failed(.refused(.messageTooLarge(message: QuotaPlugin.maxMailSizeMessage)))
            ])
    }

    @Test("lmtp_rcpt_check_quota refuses a user already over quota at RCPT; a bad userdb rule defers")
    func rcptCheck() async throws {
        let (harness, delivery) = try setUp { $0.lmtpRcptCheckQuota = true; $0.plugin["quota_grace"] = "10k" }
        defer { harness.scratch.remove() }
        #expect(try await harness.run(delivery, message: large, to: ["alice@example.com"]).outcomes == [.stored(mailboxes: ["INBOX"])])
        let (verdicts, _) = try await harness.run(delivery, message: small, to: ["alice@example.com"])
        guard case .failed(let failure) = verdicts[0] else { Issue.record("accepted over quota"); return }
        #expect(failure == .refused(.mailboxFull(message: "Quota exceeded (mailbox for user is full)")))

        let plugin = try QuotaPlugin(settings: harness.settings, threadPool: NIOThreadPool.singleton, logger: harness.logs.logger)
        let bad = try harness.delivery(
            users: ["bob@example.com": harness.user("bob@example.com", extra: [UserdbField("quota_rule", "*:storage=lots")])],
            plugins: [plugin])
        let (badVerdicts, _) = try await harness.run(bad, message: small, to: ["bob@example.com"])
        guard case .failed(let badFailure) = badVerdicts[0] else { Issue.record("accepted"); return }
        #expect(badFailure == .deferred(.unusableUser))
    }
}

@Suite("Quota plugin never writes through a symlink below the home")
struct QuotaPluginSymlinkTests {
    let small = "Subject: small\r\n\r\nhi\r\n"

    /// Alice with a complete Maildir (and a `.lists` folder), bob's maildir as the victim.
    func setUp() throws -> (DeliveryHarness, LocalDelivery, QuotaPlugin, maildir: String, victim: String) {
        let harness = try DeliveryHarness {
            $0.mailPlugins = ["quota"]
            $0.plugin = ["quota": "maildir:User quota", "quota_rule": "*:storage=1M"]
        }
        let maildir = harness.scratch.path + "/alice@example.com/Maildir"
        let victim = harness.scratch.path + "/bob@example.com/Maildir"
        for directory in [maildir, maildir + "/.lists", victim] {
            for sub in ["cur", "new", "tmp"] {
                try FileManager.default.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
            }
        }
        try "2048S\n0 0\n".write(toFile: victim + "/maildirsize", atomically: false, encoding: .utf8)
        let plugin = try QuotaPlugin(settings: harness.settings, threadPool: NIOThreadPool.singleton, logger: harness.logs.logger)
        let delivery = try harness.delivery(
            users: ["alice@example.com": harness.user("alice@example.com")], plugins: [plugin])
        return (harness, delivery, plugin, maildir, victim)
    }

    func link(_ path: String, to target: String) throws {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        #expect(symlink(target, path) == 0)
    }

    func victimState(_ victim: String) -> [String] {
        let names = ((try? FileManager.default.subpathsOfDirectory(atPath: victim)) ?? []).sorted()
        let size = (try? String(contentsOfFile: victim + "/maildirsize", encoding: .utf8)) ?? "-"
        return names + [size]
    }

    @Test(
        "a link at Maildir, maildirsize, tmp/ (for the new maildirsize), a folder or cur/ (for the scan): 4xx, nothing written through it",
        arguments: ["Maildir", "maildirsize", "tmp", "folder", "cur"])
    func links(level: String) async throws {
        let (harness, delivery, _, maildir, victim) = try setUp()
        defer { harness.scratch.remove() }
        switch level {
        case "Maildir": try link(maildir, to: victim)
        case "maildirsize": try link(maildir + "/maildirsize", to: victim + "/maildirsize")
        // No maildirsize yet: the delivery recalculates (a scan, then a new file in tmp/).
        case "tmp": try link(maildir + "/tmp", to: victim + "/tmp")
        case "folder": try link(maildir + "/.lists", to: victim)
        default: try link(maildir + "/cur", to: victim + "/cur")
        }
        let before = victimState(victim)
        let (_, outcomes) = try await harness.run(delivery, message: small, to: ["alice@example.com"])
        #expect(outcomes == [.failed(.deferred(.internalError))])
        #expect(victimState(victim) == before)
        #expect(harness.logs.lines.contains { $0.message.contains("symlink not allowed") }, "\(harness.logs.lines)")
    }

    @Test("homing quota get and recalc (status, recalculate) refuse a linked Maildir and write nothing")
    func quotaCommands() async throws {
        let (harness, delivery, plugin, maildir, victim) = try setUp()
        defer { harness.scratch.remove() }
        try link(maildir, to: victim)
        let before = victimState(victim)
        let user = try await delivery.resolver.resolve(address: "alice@example.com")
        let config = try plugin.configuration(for: user)
        #expect(throws: (any Error).self) { _ = try QuotaPlugin.status(of: user, config: config) }
        #expect(throws: (any Error).self) { _ = try QuotaPlugin.recalculate(user, config: config) }
        #expect(victimState(victim) == before)
    }
}
