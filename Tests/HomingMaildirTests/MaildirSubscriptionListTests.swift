import Testing
@testable import HomingMaildir

/// The `subscriptions` file, checked against Dovecot 2.3.19: `lda_mailbox_autosubscribe = yes`
/// and `fileinto :create` into `Junk` and `Lists.Other` wrote `V\t2\n\nJunk\nLists\tOther\n`;
/// `Zäh` was written `Z&AOQ-h`.
@Suite("subscriptions: Dovecot's version 2 list")
struct MaildirSubscriptionListTests {
    @Test("a new list is version 2: the header, then each folder with its levels separated by tabs")
    func newFile() {
        var list = MaildirSubscriptionList()
        let added1 = list.subscribe(MailboxSubscription(levels: ["Junk"], separator: "."))
        #expect(added1)
        let added2 = list.subscribe(MailboxSubscription(levels: ["Lists", "Other"], separator: "."))
        #expect(added2)
        let added3 = list.subscribe(MailboxSubscription(levels: ["Junk"], separator: "."))
        #expect(!added3)
        #expect(String(decoding: list.contents, as: UTF8.self) == "V\t2\n\nJunk\nLists\tOther\n")
    }

    @Test("existing lines stay as written; a name with a tab or control characters is tab-escaped")
    func keepsAndEscapes() {
        var list = MaildirSubscriptionList(parsing: Array("V\t2\n\nZ&AOQ-h\nArchive\t2024\n".utf8))
        let added4 = list.subscribe(MailboxSubscription(levels: ["Archive", "2024"], separator: "."))
        #expect(!added4)
        let added5 = list.subscribe(MailboxSubscription(levels: ["a\tb\u{1}c\nd"], separator: "."))
        #expect(added5)
        #expect(
            list.contents == Array("V\t2\n\nZ&AOQ-h\nArchive\t2024\n".utf8) + Array("a\u{1}tb\u{1}1c\u{1}nd\n".utf8))
    }

    @Test("a file without the header is version 1 and stays so: names joined with the storage separator")
    func versionOne() {
        var list = MaildirSubscriptionList(parsing: Array("INBOX\nLists.News\n".utf8))
        #expect(list.version == 1)
        let added6 = list.subscribe(MailboxSubscription(levels: ["Lists", "Other"], separator: "."))
        #expect(added6)
        let added7 = list.subscribe(MailboxSubscription(levels: ["Lists", "News"], separator: "."))
        #expect(!added7)
        #expect(String(decoding: list.contents, as: UTF8.self) == "INBOX\nLists.News\nLists.Other\n")
    }
}
