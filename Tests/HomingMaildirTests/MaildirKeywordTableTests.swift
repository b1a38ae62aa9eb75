import Testing
@testable import HomingMaildir

/// The `dovecot-keywords` table, checked against what Dovecot 2.3.19 writes: after
/// `addflag ["$Label1", "Work", "\\Seen"]` Dovecot's LDA wrote `0 $Label1\n1 Work\n` and named
/// the file `...:2,Sab`.
@Suite("dovecot-keywords: keyword letters a to z")
struct MaildirKeywordTableTests {
    @Test("Dovecot's file reads back; names match in any case; new keywords take the first free index")
    func readAndAssign() {
        var table = MaildirKeywordTable(parsing: Array("0 $Label1\n2 Work\n".utf8))
        #expect(table.names == [0: "$Label1", 2: "Work"])
        #expect(table.index(of: "work") == 2)
        let first = table.letters(for: ["work", "$label1"])
        #expect(first.letters == "ac" && !first.changed && first.unassigned.isEmpty)
        let second = table.letters(for: ["Project", "Later"])
        #expect(second.letters == "bd" && second.changed)
        #expect(String(decoding: table.contents, as: UTF8.self) == "0 $Label1\n1 Project\n2 Work\n3 Later\n")
    }

    @Test("an empty table gives $Label1 and Work the letters a and b, written as Dovecot writes them")
    func asDovecotWritesIt() {
        var table = MaildirKeywordTable()
        let assigned = table.letters(for: ["$Label1", "Work"])
        #expect(assigned.letters == "ab")
        #expect(String(decoding: table.contents, as: UTF8.self) == "0 $Label1\n1 Work\n")
    }

    @Test("lines that are not <index> <name> are skipped, as are indexes past z and repeated names")
    func skipsBadLines() {
        let table = MaildirKeywordTable(parsing: Array("garbage\n26 Late\n1 Work\n3 work\nx Y\n4 \n5 Fine\n".utf8))
        #expect(table.names == [1: "Work", 5: "Fine"])
    }

    @Test("26 keywords fill a folder: the 27th gets no letter; keywords that are not IMAP atoms get none either")
    func fullAndInvalid() {
        var table = MaildirKeywordTable()
        let many = (0..<26).map { "k\($0)" }
        #expect(table.letters(for: many).letters == "abcdefghijklmnopqrstuvwxyz")
        let more = table.letters(for: ["k3", "extra", "two words", "(paren"])
        #expect(more.letters == "d")
        #expect(more.unassigned == ["extra", "two words", "(paren"])
        #expect(!MaildirKeywordTable.isValidKeyword("\\Seen"))
        #expect(MaildirKeywordTable.isValidKeyword("$Label1"))
    }
}
