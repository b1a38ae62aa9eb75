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
