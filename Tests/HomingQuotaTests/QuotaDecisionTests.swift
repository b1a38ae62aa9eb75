import Testing
@testable import HomingQuota

@Suite("Grace, maximum mail size and the delivery decision")
struct QuotaDecisionTests {
    @Test("quota_grace: 10%% and 10% of the default limit, or an absolute size; default 10%")
    func graceParsing() throws {
        #expect(try QuotaConfiguration.parseGrace("10%%") == .percent(10))
        #expect(try QuotaConfiguration.parseGrace("10%") == .percent(10))
        #expect(try QuotaConfiguration.parseGrace("10M") == .absolute(10_485_760))
        #expect(try QuotaConfiguration.parseGrace("500") == .absolute(500))
        #expect(try QuotaConfiguration.parseGrace(nil) == .percent(10))
        #expect(throws: QuotaRuleError(setting: "quota_grace", value: "ten", reason: "invalid size 'ten'")) {
            try QuotaConfiguration.parseGrace("ten")
        }
        let config = try QuotaConfiguration(plugin: ["quota_rule": "*:storage=1M", "quota_grace": "10%%"])
        #expect(config.graceBytes == 104_857)
    }

    @Test("quota_max_mail_size takes a size; 0 or unset is no limit")
    func maxMailSize() throws {
        #expect(try QuotaConfiguration.parseMaxMailSize("100M") == 104_857_600)
        #expect(try QuotaConfiguration.parseMaxMailSize("0") == 0)
        #expect(try QuotaConfiguration.parseMaxMailSize(nil) == 0)
        #expect(throws: QuotaRuleError.self) { try QuotaConfiguration.parseMaxMailSize("5%") }
    }

    @Test("a message is accepted as long as it fits; the grace lets the last one overshoot")
    func storageDecision() throws {
        let config = try QuotaConfiguration(plugin: ["quota_rule": "*:storage=1M", "quota_grace": "0"])
        let limit: Int64 = 1_048_576
        #expect(config.decide(messageSize: 1000, usage: QuotaUsage(bytes: limit - 1000, messages: 3)) == .allowed)
        #expect(config.decide(messageSize: 1001, usage: QuotaUsage(bytes: limit - 1000, messages: 3)) == .overQuota)
        // The observed Dovecot case: 602 KiB used of 1024 KiB, a 616 KiB message is refused.
        let withGrace = try QuotaConfiguration(plugin: ["quota_rule": "*:storage=1M"])
        #expect(withGrace.decide(messageSize: 616 * 1024, usage: QuotaUsage(bytes: 602 * 1024, messages: 1)) == .overQuota)
        // Grace 10% = 104857 bytes beyond the limit for the last message.
        #expect(withGrace.decide(messageSize: 1000 + 104_857, usage: QuotaUsage(bytes: limit - 1000, messages: 1)) == .allowed)
        #expect(withGrace.decide(messageSize: 1001 + 104_857, usage: QuotaUsage(bytes: limit - 1000, messages: 1)) == .overQuota)
        // At or over the limit nothing more fits, grace or not.
        #expect(withGrace.decide(messageSize: 1, usage: QuotaUsage(bytes: limit, messages: 1)) == .overQuota)
        #expect(withGrace.decide(messageSize: 2 * limit, usage: QuotaUsage(bytes: limit + 5, messages: 1)) == .largerThanQuota)
    }

    @Test("a message larger than the whole limit is told apart")
    func largerThanQuota() throws {
        let config = try QuotaConfiguration(plugin: ["quota_rule": "*:storage=1M"])
        #expect(config.decide(messageSize: 2_000_000, usage: .zero) == .largerThanQuota)
    }

    @Test("the message count limit refuses once the count is reached")
    func messageCount() throws {
        let config = try QuotaConfiguration(plugin: ["quota_rule": "*:messages=10"])
        #expect(config.decide(messageSize: 5, usage: QuotaUsage(bytes: 0, messages: 9)) == .allowed)
        #expect(config.decide(messageSize: 5, usage: QuotaUsage(bytes: 0, messages: 10)) == .overQuota)
    }

    @Test("quota_max_mail_size refuses first, even in an ignored mailbox")
    func maxSizeDecision() throws {
        let config = try QuotaConfiguration(plugin: [
            "quota_rule": "*:storage=1G", "quota_rule2": "Junk:ignore", "quota_max_mail_size": "10k",
        ])
        #expect(config.decide(messageSize: 10241, usage: .zero) == .overMaxMailSize(limit: 10240))
        #expect(config.decide(messageSize: 10241, usage: .zero, mailbox: "Junk") == .overMaxMailSize(limit: 10240))
        #expect(config.decide(messageSize: 10240, usage: QuotaUsage(bytes: 1 << 40, messages: 1), mailbox: "Junk") == .allowed)
    }

    @Test("the RCPT check refuses only a user strictly over the limit, or at the message limit")
    func rcptCheck() throws {
        let config = try QuotaConfiguration(plugin: ["quota_rule": "*:storage=1M:messages=5"])
        #expect(config.rcptCheck(usage: QuotaUsage(bytes: 1_048_576, messages: 1)) == .allowed)
        #expect(config.rcptCheck(usage: QuotaUsage(bytes: 1_048_577, messages: 1)) == .overQuota)
        #expect(config.rcptCheck(usage: QuotaUsage(bytes: 0, messages: 5)) == .overQuota)
    }

    @Test("the Trash rule raises the limit for saving into Trash only")
    func trashRule() throws {
        let config = try QuotaConfiguration(plugin: ["quota_rule": "*:storage=1M", "quota_rule2": "Trash:storage=+1M", "quota_grace": "0"])
        let usage = QuotaUsage(bytes: 1_048_576, messages: 1)
        #expect(config.decide(messageSize: 100, usage: usage) == .overQuota)
        #expect(config.decide(messageSize: 100, usage: usage, mailbox: "Trash") == .allowed)
    }

    @Test("quota_exceeded_message defaults to Dovecot's text")
    func exceededMessage() throws {
        #expect(try QuotaConfiguration(plugin: [:]).exceededMessage == "Quota exceeded (mailbox for user is full)")
        #expect(try QuotaConfiguration(plugin: ["quota_exceeded_message": "Full."]).exceededMessage == "Full.")
    }
}
