import Testing
@testable import HomingQuota

@Suite("Quota rule parsing")
struct QuotaRuleTests {
    @Test("storage= is in kilobytes without a unit and takes B k M G T units")
    func storageUnits() throws {
        #expect(try QuotaRule.parse("*:storage=1024").bytes == .absolute(1024 * 1024))
        #expect(try QuotaRule.parse("*:storage=512B").bytes == .absolute(512))
        #expect(try QuotaRule.parse("*:storage=100k").bytes == .absolute(100 * 1024))
        #expect(try QuotaRule.parse("*:storage=1M").bytes == .absolute(1_048_576))
        #expect(try QuotaRule.parse("*:storage=1G").bytes == .absolute(1_073_741_824))
        #expect(try QuotaRule.parse("*:storage=2T").bytes == .absolute(2 * 1_099_511_627_776))
        #expect(try QuotaRule.parse("*:storage=1gb").bytes == .absolute(1_073_741_824))
    }

    @Test("bytes= is in bytes and messages= counts messages")
    func bytesAndMessages() throws {
        #expect(try QuotaRule.parse("*:bytes=1048576").bytes == .absolute(1_048_576))
        #expect(try QuotaRule.parse("*:bytes=1M").bytes == .absolute(1_048_576))
        let rule = try QuotaRule.parse("*:messages=10000")
        #expect(rule.messages == .absolute(10000))
        #expect(rule.bytes == nil)
    }

    @Test("several limits join with a colon")
    func combined() throws {
        let rule = try QuotaRule.parse("*:storage=1G:messages=100")
        #expect(rule == QuotaRule(mask: "*", bytes: .absolute(1_073_741_824), messages: .absolute(100)))
    }

    @Test("mailbox rules are relative, with + - or a percentage")
    func mailboxRules() throws {
        #expect(try QuotaRule.parse("Trash:storage=+100M") == QuotaRule(mask: "Trash", bytes: .absolute(104_857_600)))
        #expect(try QuotaRule.parse("Trash:storage=-1M").bytes == .absolute(-1_048_576))
        #expect(try QuotaRule.parse("Trash:storage=+10%").bytes == .percent(10))
        #expect(try QuotaRule.parse("Sent:messages=50%%").messages == .percent(50))
        #expect(try QuotaRule.parse("inbox:storage=+1M").mask == "INBOX")
    }

    @Test("ignore on a mailbox or on the default rule")
    func ignore() throws {
        #expect(try QuotaRule.parse("Junk:ignore") == QuotaRule(mask: "Junk", ignore: true))
        #expect(try QuotaRule.parse("*:ignore") == QuotaRule(mask: "*", ignore: true))
    }

    @Test("errors name the setting, the value and the problem")
    func errors() {
        func reason(_ value: String) -> String? {
            do {
                _ = try QuotaRule.parse(value, setting: "quota_rule2")
                return nil
            } catch {
                return error.description
            }
        }
        #expect(reason("*:storage=abc") == "quota_rule2: invalid size 'abc' (in '*:storage=abc')")
        #expect(reason("*:storage=1X") == "quota_rule2: unknown unit 'X' in size '1X' (in '*:storage=1X')")
        #expect(reason("unlimited") == "quota_rule2: invalid rule: expected '<mailbox>:<limits>', e.g. '*:storage=1G' (in 'unlimited')")
        #expect(reason("*:size=1G") == "quota_rule2: unknown limit 'size' (expected storage, bytes, messages or ignore) (in '*:size=1G')")
        #expect(reason("*:storage=10%") == "quota_rule2: the default rule cannot be a percentage ('storage=10%') (in '*:storage=10%')")
        #expect(reason("*:storage=+1G") == "quota_rule2: the default rule cannot have '+' in 'storage=+1G' (in '*:storage=+1G')")
        #expect(reason("*:storage=-1") == "quota_rule2: the default rule's storage limit cannot be negative (in '*:storage=-1')")
        #expect(reason("Trash:storage=-100%") == "quota_rule2: invalid percentage '-100%' (in 'Trash:storage=-100%')")
        #expect(reason("*:storage=") == "quota_rule2: invalid size '' (in '*:storage=')")
        #expect(reason("*:backend=1G") == "quota_rule2: backend rules are not supported by the maildir quota back end (in '*:backend=1G')")
        #expect(reason(":storage=1G") != nil)
        #expect(reason("*:storage=99999999999999T") == "quota_rule2: size '99999999999999T' is too large (in '*:storage=99999999999999T')")
    }
}

@Test("noquota is read as *:ignore: the user has no quota at all")
func noquotaMeansIgnore() throws {
    let rule = try QuotaRule.parse("noquota")
    #expect(rule == QuotaRule(mask: "*", ignore: true))
    let set = try QuotaRuleSet(plugin: ["quota_rule": "*:storage=1G"], userFields: ["quota_rule": "noquota"])
    #expect(set.userLimits.ignored)
    #expect(set.limits(forMailbox: "INBOX").isUnlimited)
}
