import HomingTestSupport
import Testing

/// The main.cf and master.cf TestPostfix writes (pure text, no Postfix needed).
@Suite("Postfix test instance configuration")
struct PostfixConfigurationTests {
    @Test("overrides replace a base setting in place, new settings are appended, an empty value is written as 'key ='")
    func mainCfOverrides() {
        let text = TestPostfix.mainCf(
            directory: "/tmp/pf", hostname: "mx.example.com",
            overrides: [("mydestination", "mx.example.com"), ("local_recipient_maps", ""), ("virtual_transport", "lmtp:inet:127.0.0.1:2424")])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("mydestination ") } == ["mydestination = mx.example.com"])
        #expect(lines.last == "local_recipient_maps =")
        #expect(lines.contains("virtual_transport = lmtp:inet:127.0.0.1:2424"))
        #expect(!lines.contains("virtual_transport = lmtp:unix:private/dovecot-lmtp"))
        #expect(lines.contains("queue_directory = /tmp/pf/queue"))
        #expect(lines.contains("maillog_file = /tmp/pf/maillog"))
        #expect(lines.contains("maillog_file_prefixes = /tmp/pf"))
        #expect(lines.first == "compatibility_level = 3.6")
        #expect(text.hasSuffix("\n"))
    }

    @Test("master.cf: smtpd only on 127.0.0.1:PORT, nothing chrooted, the postlog service present")
    func masterCf() {
        let lines = TestPostfix.masterCf(port: 2525).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines.first == "127.0.0.1:2525 inet n - n - - smtpd")
        #expect(lines.filter { $0.contains(" inet ") }.count == 1)
        #expect(lines.allSatisfy { $0.split(separator: " ", omittingEmptySubsequences: true)[4] == "n" })
        #expect(lines.contains { $0.hasPrefix("postlog ") && $0.hasSuffix("postlogd") })
        #expect(lines.contains { $0.hasPrefix("lmtp ") })
    }
}
