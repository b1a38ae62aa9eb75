import Testing
@testable import HomingQuota

@Suite("maildirsize contents")
struct MaildirSizeContentsTests {
    @Test("the limits line and the sum of the usage lines, removals included")
    func parsesSums() {
        let contents = MaildirSizeContents.parse(Array("1073741824S,10000C\n0 0\n444 1\n1000 2\n-444 -1\n".utf8))
        #expect(contents == MaildirSizeContents(limits: QuotaLimits(bytes: 1_073_741_824, messages: 10000),
                                                usage: QuotaUsage(bytes: 1000, messages: 2), usageLineCount: 4, isValid: true))
    }

    @Test("either part of the limits line may be missing")
    func limitsLine() {
        #expect(MaildirSizeContents.parseLimitsLine("1048576S") == QuotaLimits(bytes: 1_048_576, messages: 0))
        #expect(MaildirSizeContents.parseLimitsLine("10C") == QuotaLimits(bytes: 0, messages: 10))
        #expect(MaildirSizeContents.parseLimitsLine("10X") == nil)
        #expect(MaildirSizeContents.limitsLine(QuotaLimits(bytes: 1_048_576, messages: 0)) == "1048576S")
        #expect(MaildirSizeContents.limitsLine(QuotaLimits(bytes: 5, messages: 7)) == "5S,7C")
        #expect(MaildirSizeContents.limitsLine(.unlimited) == "0S")
    }

    @Test("a bad line or a missing final newline makes the file invalid")
    func invalid() {
        #expect(!MaildirSizeContents.parse(Array("1024S\n12 x\n".utf8)).isValid)
        #expect(!MaildirSizeContents.parse(Array("1024S\n12 1".utf8)).isValid)
        #expect(!MaildirSizeContents.parse(Array("garbage\n".utf8)).isValid)
        #expect(!MaildirSizeContents.parse([]).isValid)
    }

    @Test("the size comes from S= in the file name's base part")
    func sizeFromName() {
        #expect(MaildirUsageScanner.sizeFromFileName("1700000000.M1P2.host,S=444,W=450:2,S") == 444)
        #expect(MaildirUsageScanner.sizeFromFileName("1700000000.M1P2.host:2,S") == nil)
        #expect(MaildirUsageScanner.sizeFromFileName("1700000000.M1P2.host,W=450") == nil)
    }
}
