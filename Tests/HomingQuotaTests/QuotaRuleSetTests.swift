import Testing
@testable import HomingQuota

@Suite("Quota rule sets")
struct QuotaRuleSetTests {
    let plugin = [
        "quota": "maildir:User quota",
        "quota_rule": "*:storage=1G",
        "quota_rule2": "Trash:storage=+100M",
        "quota_rule3": "Junk:ignore",
        "quota_rule4": "Archive*:storage=+10%",
        "quota_rule6": "Never:storage=+1G",
    ]

    @Test("the default rule gives the user's limits; mailbox rules add to it")
    func effectiveLimits() throws {
        let set = try QuotaRuleSet(plugin: plugin)
        #expect(set.userLimits == QuotaLimits(bytes: 1_073_741_824, messages: 0))
        #expect(set.limits(forMailbox: "INBOX") == QuotaLimits(bytes: 1_073_741_824, messages: 0))
        #expect(set.limits(forMailbox: "Trash") == QuotaLimits(bytes: 1_073_741_824 + 104_857_600, messages: 0))
        #expect(set.limits(forMailbox: "Junk") == QuotaLimits(bytes: 0, messages: 0, ignored: true))
        #expect(set.isIgnored(mailbox: "Junk"))
        #expect(set.limits(forMailbox: "Archive/2024").bytes == 1_073_741_824 + 107_374_182)
    }

    @Test("rule numbering stops at the first gap, as in Dovecot")
    func stopsAtGap() throws {
        let set = try QuotaRuleSet(plugin: plugin)
        #expect(set.limits(forMailbox: "Never").bytes == 1_073_741_824)
        #expect(set.mailboxRules.map(\.mask) == ["Trash", "Junk", "Archive*"])
    }

    @Test("a userdb quota_rule replaces the configured default rule only")
    func perUserOverride() throws {
        let set = try QuotaRuleSet(plugin: plugin, userFields: ["quota_rule": "*:storage=1M"])
        #expect(set.userLimits == QuotaLimits(bytes: 1_048_576, messages: 0))
        #expect(set.limits(forMailbox: "Trash").bytes == 1_048_576 + 104_857_600)
    }

    @Test("unlimited users: storage=0, *:ignore, or no rule; mailbox rules then do nothing")
    func unlimited() throws {
        for value in ["*:storage=0", "*:ignore"] {
            let set = try QuotaRuleSet(plugin: plugin, userFields: ["quota_rule": value])
            #expect(set.userLimits.isUnlimited)
            #expect(set.limits(forMailbox: "Trash").isUnlimited)
        }
        #expect(try QuotaRuleSet(plugin: [:]).userLimits == .unlimited)
    }

    @Test("rules with the same mask merge, later limits replacing earlier ones")
    func merging() throws {
        let set = try QuotaRuleSet(plugin: ["quota_rule": "*:storage=1G", "quota_rule2": "*:messages=10000"])
        #expect(set.userLimits == QuotaLimits(bytes: 1_073_741_824, messages: 10000))
        #expect(set.defaultRuleIsForced)
        let lazy = try QuotaRuleSet(plugin: ["quota_rule": "?:storage=1G"])
        #expect(!lazy.defaultRuleIsForced)
    }

    @Test("a bad userdb rule names the userdb field")
    func badUserRule() {
        #expect(throws: QuotaRuleError(setting: "quota_rule", value: "*:storage=lots", reason: "invalid size 'lots'")) {
            try QuotaRuleSet(plugin: plugin, userFields: ["quota_rule": "*:storage=lots"])
        }
    }

    @Test("mailbox masks take * and ? wildcards and INBOX in any case")
    func masks() {
        #expect(MailboxMask.matches("Archive/2024", mask: "Archive*"))
        #expect(MailboxMask.matches("Lists", mask: "L?sts"))
        #expect(!MailboxMask.matches("Lists", mask: "L?st"))
        #expect(MailboxMask.matches("inbox", mask: "INBOX"))
        #expect(!MailboxMask.matches("trash", mask: "Trash"))
        #expect(MailboxMask.matches("a.b.c", mask: "*.c"))
    }
}
