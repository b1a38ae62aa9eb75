import HomingQuota
import Testing

@Suite("the quota setting: back end, root name, options")
struct QuotaRootSettingTests {
    @Test("maildir:User quota names the root; noenforcing tracks without refusing")
    func maildirBackend() throws {
        #expect(try QuotaRootSetting.parse("maildir:User quota") == QuotaRootSetting(name: "User quota", enforcing: true))
        #expect(try QuotaRootSetting.parse("maildir") == QuotaRootSetting(name: "User quota", enforcing: true))
        #expect(try QuotaRootSetting.parse("maildir:Mine:noenforcing") == QuotaRootSetting(name: "Mine", enforcing: false))
        #expect(try QuotaRootSetting.parse("maildir:User quota:ignoreunlimited").enforcing)
    }

    @Test("other back ends and unknown options are refused with the reason")
    func refusals() {
        func reason(_ value: String) -> String? {
            do {
                _ = try QuotaRootSetting.parse(value)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(reason("count:User quota") == "quota: the 'count' quota back end is not supported by Homing (use 'maildir', the Maildir++ back end) (in 'count:User quota')")
        #expect(reason("bogus:x") == "quota: unknown quota back end 'bogus' (in 'bogus:x')")
        #expect(reason(":x") == "quota: missing quota back end (expected 'maildir:User quota') (in ':x')")
        #expect(reason("maildir:x:sometimes") == "quota: unknown quota option 'sometimes' (in 'maildir:x:sometimes')")
    }
}
