import Glibc
import Testing
@testable import HomingMaildir

@Suite("maildir file names")
struct MaildirFileNameTests {
    @Test("the base name is <time>.M<usec>P<pid>.<host>")
    func baseName() {
        #expect(MaildirFileName.base(seconds: 1795558161, microseconds: 877960, pid: 19966, host: "vm") == "1795558161.M877960P19966.vm")
        #expect(MaildirFileName.withSizes("1.M2P3.vm", size: 450, virtualSize: 464) == "1.M2P3.vm,S=450,W=464")
    }

    @Test("/ and : in the host name are escaped as \\057 and \\072")
    func hostEscaping() {
        #expect(MaildirFileName.escapeHost("mx.example.com") == "mx.example.com")
        #expect(MaildirFileName.escapeHost("a/b:c") == "a\\057b\\072c")
        #expect(!MaildirFileName.host.contains("/") && !MaildirFileName.host.contains(":"))
    }

    @Test("flags are sorted, deduplicated and prefixed with :2,")
    func flags() throws {
        #expect(try MaildirFileName.info(flags: "") == "")
        #expect(try MaildirFileName.info(flags: "S") == ":2,S")
        #expect(try MaildirFileName.info(flags: "SF") == ":2,FS")
        #expect(try MaildirFileName.info(flags: "SFSa") == ":2,FSa")
        #expect(throws: MaildirError.invalidFlags("S1")) { try MaildirFileName.info(flags: "S1") }
        #expect(throws: MaildirError.invalidFlags("S/")) { try MaildirFileName.info(flags: "S/") }
    }

    @Test("unique base names increase strictly, also when asked faster than the clock")
    func uniqueness() throws {
        var previous: (Int, Int) = (0, 0)
        var names = Set<String>()
        for _ in 0..<2000 {
            let name = MaildirFileName.nextUniqueBase()
            names.insert(name)
            let match = try #require(name.wholeMatch(of: #/([0-9]+)\.M([0-9]+)P([0-9]+)\..+/#))
            let stamp = (Int(match.1) ?? -1, Int(match.2) ?? -1)
            #expect(stamp > previous)
            #expect(stamp.1 < 1_000_000)
            #expect(Int32(match.3) == getpid())
            previous = stamp
        }
        #expect(names.count == 2000)
    }
}
