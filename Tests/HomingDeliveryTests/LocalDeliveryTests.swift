import Glibc
import HomingConfig
import HomingMaildir
import HomingTestSupport
import HomingUserdb
import Synchronization
import Testing

@testable import HomingDelivery

/// A plugin that records the order of the hooks and can refuse, redirect or discard.
private struct RecordingPlugin: DeliveryPlugin {
    let name: String
    let calls: Locked<[String]>
    var refuseAtRCPT: DeliveryFailure?
    var planTo: [StoreAction]?
    var rejection: DeliveryPlan.Rejection?
    var refuseCopy: DeliveryFailure?

    func checkRecipient(_ recipient: EnvelopeRecipient, user: DeliveryUser) async -> DeliveryFailure? {
        calls.append("\(name).check(\(recipient.address))")
        return refuseAtRCPT
    }

    func plan(
        _ plan: DeliveryPlan, for user: DeliveryUser, recipient: EnvelopeRecipient, message: DeliveryMessage
    ) async -> DeliveryPlan {
        calls.append("\(name).plan(\(plan.actions.map(\.mailbox).joined(separator: ",")))")
        var plan = plan
        if let planTo { plan.actions = planTo }
        plan.rejection = rejection
        return plan
    }

    func storeCopy(
        _ action: StoreAction, size: Int, for user: DeliveryUser, recipient: EnvelopeRecipient,
        store: () throws(StoreFailure) -> StoreCopyOutcome
    ) throws(StoreFailure) -> StoreCopyOutcome {
        calls.append("\(name).store(\(action.mailbox))>")
        defer { calls.append("<\(name).store") }
        if let refuseCopy { return .notStored(refuseCopy, reason: "refused by \(name)") }
        return try store()
    }
}

/// A plugin that records the envelope address each copy is planned for (what Sieve's
/// `envelope "to"` sees).
private struct EnvelopeRecordingPlugin: DeliveryPlugin {
    let name = "envelope"
    let calls: Locked<[String]>

    func plan(
        _ plan: DeliveryPlan, for user: DeliveryUser, recipient: EnvelopeRecipient, message: DeliveryMessage
    ) async -> DeliveryPlan {
        calls.append(recipient.address)
        return plan
    }
}

@Suite("Local delivery core (no protocol, no process)")
struct LocalDeliveryTests {
    let message = "Message-ID: <m1@example.org>\r\nSubject: hello\r\n\r\nbody\r\n"

    @Test("a known user gets one durable copy in INBOX with Dovecot's trace headers")
    func storesIntoInbox() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")])
        let (verdicts, outcomes) = try await harness.run(delivery, message: message, to: ["alice@example.com"])
        guard case .accepted = verdicts[0] else { Issue.record("not accepted: \(verdicts)"); return }
        #expect(outcomes == [.stored(mailboxes: ["INBOX"])])
        let files = harness.files(of: "alice@example.com")
        try #require(files.count == 1)
        let text = harness.text(files[0])
        #expect(text.hasPrefix("Return-Path: <sender@example.org>\nDelivered-To: alice@example.com\nReceived: from client.example.org\n\tby mx.example.com with LMTP\n\tid WKD+DRILBmv+TQAAg+zDdQ\n"))
        #expect(text.hasSuffix("\nMessage-ID: <m1@example.org>\nSubject: hello\n\nbody\n"))
        #expect(harness.logs.messages(at: .info).contains("msgid=<m1@example.org>: saved mail to INBOX"))
    }

    @Test("an unknown user is refused for good, naming the looked-up address without its detail")
    func unknownUser() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let delivery = try harness.delivery(users: [:])
        let (verdicts, _) = try await harness.run(delivery, message: message, to: ["Nosuch+tag@example.com"])
        guard case .failed(let failure) = verdicts[0] else { Issue.record("accepted"); return }
        #expect(failure == .refused(.noSuchUser(lookedUp: "Nosuch@example.com")))
    }

    @Test("a userdb that cannot answer defers the recipient, never refuses it")
    func userdbDown() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let delivery = try harness.delivery(users: ["bob@example.com": .temporaryFailure(reason: "connection refused")])
        let (verdicts, _) = try await harness.run(delivery, message: message, to: ["bob@example.com"])
        guard case .failed(let failure) = verdicts[0] else { Issue.record("accepted"); return }
        #expect(failure == .deferred(.userdbUnavailable))
        #expect(failure.isTemporary)
    }

    @Test("a detail folder that does not exist falls back to INBOX, and the log says why; with lda_mailbox_autocreate it is created")
    func detailFallsBackToInbox() async throws {
        let harness = try DeliveryHarness { $0.lmtpSaveToDetailMailbox = true }
        defer { harness.scratch.remove() }
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")])
        let (_, outcomes) = try await harness.run(delivery, message: message, to: ["alice+lists@example.com"])
        #expect(outcomes == [.stored(mailboxes: ["INBOX"])])
        #expect(harness.files(of: "alice@example.com").count == 1)
        #expect(harness.files(of: "alice@example.com", folder: "lists").isEmpty)
        let why = harness.logs.messages(at: .info).filter { $0.hasPrefix("save to lists is not possible") }
        #expect(why.count == 1, "\(harness.logs.messages(at: .info))")
        #expect(why.first?.contains("lda_mailbox_autocreate = no") == true)
        #expect(why.first?.hasSuffix("storing into INBOX instead") == true)

        let creating = try DeliveryHarness {
            $0.lmtpSaveToDetailMailbox = true
            $0.ldaMailboxAutocreate = true
        }
        defer { creating.scratch.remove() }
        let autocreate = try creating.delivery(users: ["alice@example.com": creating.user("alice@example.com")])
        let (_, created) = try await creating.run(autocreate, message: message, to: ["alice+lists@example.com"])
        #expect(created == [.stored(mailboxes: ["lists"])])
        #expect(creating.files(of: "alice@example.com", folder: "lists").count == 1)
    }

    @Test("only identical addresses are merged, as Dovecot does: alice+news@, alice+@ and Alice@Example.COM are three copies, alice+news@EXAMPLE.com a duplicate")
    func onlyIdenticalRecipientsMerge() async throws {
        let harness = try DeliveryHarness {
            $0.lmtpSaveToDetailMailbox = true
            $0.ldaMailboxAutocreate = true
        }
        defer { harness.scratch.remove() }
        let calls = Locked<[String]>([])
        let envelopeReader = EnvelopeRecordingPlugin(calls: calls)
        let delivery = try harness.delivery(
            users: ["alice@example.com": harness.user("alice@example.com")], plugins: [envelopeReader])
        let (_, outcomes) = try await harness.run(
            delivery, message: message,
            to: ["alice+news@example.com", "alice+@example.com", "Alice@Example.COM", "alice+news@EXAMPLE.com"])
        #expect(
            outcomes == [
                .stored(mailboxes: ["news"]), .stored(mailboxes: ["INBOX"]), .stored(mailboxes: ["INBOX"]),
                .duplicate(ofRecipientAt: 0),
            ])
        // Each copy is planned (Sieve's envelope) with its own address, the duplicate not at all.
        #expect(Set(calls.current) == ["alice+news@example.com", "alice+@example.com", "Alice@Example.COM"])
        #expect(calls.current.count == 3)
        let inbox = harness.files(of: "alice@example.com")
        let news = harness.files(of: "alice@example.com", folder: "news")
        #expect(inbox.count == 2 && news.count == 1)
        // Four accepted recipients: no Delivered-To and no `for <>` in any copy (as Dovecot).
        for file in inbox + news {
            let text = harness.text(file)
            #expect(!text.contains("Delivered-To:"))
            #expect(!text.contains("\tfor <"))
        }
    }

    @Test("duplicates(in:): the local part compares byte for byte, the domain in any case, and the ORCPT must match too")
    func duplicateComparison() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let delivery = try harness.delivery(users: ["bob@example.com": harness.user("bob@example.com")])
        let probe = EnvelopeRecipient(address: "bob@example.com", logID: "x")
        guard case .accepted(let user) = await delivery.checkRecipient(probe, envelope: harness.envelope()) else {
            Issue.record("bob not found")
            return
        }
        func accepted(_ address: String, orcpt: String? = nil) -> AcceptedRecipient {
            AcceptedRecipient(recipient: EnvelopeRecipient(address: address, originalAddress: orcpt, logID: "x"), user: user)
        }
        let recipients = [
            accepted("bob@example.com"), accepted("bob@EXAMPLE.COM"), accepted("Bob@example.com"),
            accepted("bob@example.com", orcpt: "bob@example.net"), accepted("bob@example.com", orcpt: "bob@EXAMPLE.net"),
            accepted("bob@example.com", orcpt: "Bob@example.net"), accepted("bob@example.com"),
        ]
        #expect(LocalDelivery.duplicates(in: recipients) == [1: 0, 4: 3, 6: 0])
    }

    @Test("plugins run in mail_plugins order: each plans on what the previous decided, and each wraps the next's store")
    func pluginOrder() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let calls = Locked<[String]>([])
        let first = RecordingPlugin(name: "first", calls: calls, planTo: [StoreAction(mailbox: "INBOX"), StoreAction(mailbox: "Archive", create: true)])
        let second = RecordingPlugin(name: "second", calls: calls)
        let delivery = try harness.delivery(
            users: ["alice@example.com": harness.user("alice@example.com")], plugins: [first, second])
        let (_, outcomes) = try await harness.run(delivery, message: message, to: ["alice@example.com"])
        #expect(outcomes == [.stored(mailboxes: ["INBOX", "Archive"])])
        #expect(
            calls.current == [
                "first.check(alice@example.com)", "second.check(alice@example.com)",
                "first.plan(INBOX)", "second.plan(INBOX,Archive)",
                "first.store(INBOX)>", "second.store(INBOX)>", "<second.store", "<first.store",
                "first.store(Archive)>", "second.store(Archive)>", "<second.store", "<first.store",
            ])
        #expect(harness.files(of: "alice@example.com", folder: "Archive").count == 1)
    }

    @Test("a plugin refusing at RCPT stops the later plugins and answers the recipient with its failure")
    func pluginRefusesAtRCPT() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let calls = Locked<[String]>([])
        var first = RecordingPlugin(name: "first", calls: calls)
        first.refuseAtRCPT = .refused(.mailboxFull(message: "Quota exceeded (mailbox for user is full)"))
        let delivery = try harness.delivery(
            users: ["alice@example.com": harness.user("alice@example.com")],
            plugins: [first, RecordingPlugin(name: "second", calls: calls)])
        let (verdicts, _) = try await harness.run(delivery, message: message, to: ["alice@example.com"])
        guard case .failed(let failure) = verdicts[0] else { Issue.record("accepted"); return }
        #expect(failure == .refused(.mailboxFull(message: "Quota exceeded (mailbox for user is full)")))
        #expect(calls.current == ["first.check(alice@example.com)"])
    }

    @Test("a plan's rejection, a refused copy and a discard: the outcome says which, and only stored copies exist")
    func planAndCopyOutcomes() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let calls = Locked<[String]>([])
        var rejecting = RecordingPlugin(name: "sieve", calls: calls)
        rejecting.rejection = .init(failure: .refused(.rejected(reason: "go away")), reason: "ereject: go away")
        var refusing = RecordingPlugin(name: "quota", calls: calls)
        refusing.refuseCopy = .deferred(.mailboxFull(message: "full"))
        let discarding = RecordingPlugin(name: "sieve", calls: calls, planTo: [])
        let users = ["alice@example.com": harness.user("alice@example.com")]

        let (_, rejected) = try await harness.run(
            try harness.delivery(users: users, plugins: [rejecting]), message: message, to: ["alice@example.com"])
        #expect(rejected == [.failed(.refused(.rejected(reason: "go away")))])
        let (_, refused) = try await harness.run(
            try harness.delivery(users: users, plugins: [refusing]), message: message, to: ["alice@example.com"])
        #expect(refused == [.failed(.deferred(.mailboxFull(message: "full")))])
        let (_, discarded) = try await harness.run(
            try harness.delivery(users: users, plugins: [discarding]), message: message, to: ["alice@example.com"])
        #expect(discarded == [.stored(mailboxes: [])])
        #expect(harness.files(of: "alice@example.com").isEmpty)
        #expect(harness.logs.messages(at: .info).contains("msgid=<m1@example.org>: refused: ereject: go away"))
        #expect(harness.logs.messages(at: .info).contains("msgid=<m1@example.org>: save failed to INBOX: refused by quota"))
    }

    @Test("a planned copy with keywords and an edited header: stored as planned, the plugins see its real size, a created folder is subscribed")
    func keywordsAndEditedHeader() async throws {
        let harness = try DeliveryHarness { $0.ldaMailboxAutosubscribe = true }
        defer { harness.scratch.remove() }
        struct Editing: DeliveryPlugin {
            let name = "sieve"
            let sizes: Locked<[Int]>
            func plan(
                _ plan: DeliveryPlan, for user: DeliveryUser, recipient: EnvelopeRecipient, message: DeliveryMessage
            ) async -> DeliveryPlan {
                // The spool has LF line ends: "Message-ID: <m1@example.org>\nSubject: hello\n\n" is 45 bytes.
                let header = HeaderReplacement(
                    header: Array("X-Edited: yes\nSubject: hello\n\n".utf8), bodyOffset: 45, replacedLineFeeds: 3)
                return DeliveryPlan(actions: [
                    StoreAction(mailbox: "Work", flags: "S", create: true, keywords: ["$Label1"], header: header)
                ])
            }
            func storeCopy(
                _ action: StoreAction, size: Int, for user: DeliveryUser, recipient: EnvelopeRecipient,
                store: () throws(StoreFailure) -> StoreCopyOutcome
            ) throws(StoreFailure) -> StoreCopyOutcome {
                sizes.append(size)
                return try store()
            }
        }
        let sizes = Locked<[Int]>([])
        let delivery = try harness.delivery(
            users: ["alice@example.com": harness.user("alice@example.com")], plugins: [Editing(sizes: sizes)])
        let (_, outcomes) = try await harness.run(delivery, message: message, to: ["alice@example.com"])
        #expect(outcomes == [.stored(mailboxes: ["Work"])])
        let files = harness.files(of: "alice@example.com", folder: "Work", in: "cur")
        try #require(files.count == 1)
        #expect(files[0].hasSuffix(":2,Sa"))
        let text = harness.text(files[0])
        #expect(text.hasPrefix("Return-Path: <sender@example.org>\n"))
        #expect(text.hasSuffix("\nX-Edited: yes\nSubject: hello\n\nbody\n"), "\(text)")
        #expect(!text.contains("Message-ID"))
        #expect(sizes.current == [text.utf8.count])
        #expect(files[0].contains(",S=\(text.utf8.count),W=\(text.utf8.count + text.filter { $0 == "\n" }.count)"))
        let maildir = harness.scratch.path + "/alice@example.com/Maildir"
        #expect(harness.text(maildir + "/.Work/dovecot-keywords") == "0 $Label1\n")
        #expect(harness.text(maildir + "/subscriptions") == "V\t2\n\nWork\n")
    }

    @Test("a user whose maildir cannot be written is deferred (4xx), never refused")
    func unwritableMaildir() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        // The home is a file: nothing can be created below it.
        try harness.scratch.write("alice@example.com", "not a directory")
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")])
        let (_, outcomes) = try await harness.run(delivery, message: message, to: ["alice@example.com"])
        #expect(outcomes == [.failed(.deferred(.internalError))])
    }

    @Test("lmtp_user_concurrency_limit counts deliveries in progress per user")
    func concurrencyLimit() async throws {
        let harness = try DeliveryHarness { $0.lmtpUserConcurrencyLimit = 1 }
        defer { harness.scratch.remove() }
        let entered = Locked(false)
        struct Blocking: DeliveryPlugin {
            let name = "block"
            let entered: Locked<Bool>
            func storeCopy(
                _ action: StoreAction, size: Int, for user: DeliveryUser, recipient: EnvelopeRecipient,
                store: () throws(StoreFailure) -> StoreCopyOutcome
            ) throws(StoreFailure) -> StoreCopyOutcome {
                entered.withValue { $0 = true }
                while entered.current { usleep(1000) }
                return try store()
            }
        }
        let delivery = try harness.delivery(
            users: ["alice@example.com": harness.user("alice@example.com")], plugins: [Blocking(entered: entered)])
        let running = Task { try await harness.run(delivery, message: message, to: ["alice@example.com"]) }
        while !entered.current { try await Task.sleep(for: .milliseconds(5)) }
        let envelope = harness.envelope()
        let verdict = await delivery.checkRecipient(EnvelopeRecipient(address: "alice@example.com", logID: "x"), envelope: envelope)
        guard case .failed(let failure) = verdict else { Issue.record("accepted during a delivery"); return }
        #expect(failure == .deferred(.concurrencyLimit))
        entered.withValue { $0 = false }
        #expect(try await running.value.outcomes == [.stored(mailboxes: ["INBOX"])])
    }

    @Test("lmtp_user_concurrency_limit counts at RCPT: an accepted recipient holds its place until it is dropped")
    func concurrencyLimitAtRcpt() async throws {
        let harness = try DeliveryHarness { $0.lmtpUserConcurrencyLimit = 2 }
        defer { harness.scratch.remove() }
        let delivery = try harness.delivery(users: [
            "alice@example.com": harness.user("alice@example.com"), "bob@example.com": harness.user("bob@example.com"),
        ])
        let envelope = harness.envelope()
        func check(_ address: String) async -> RecipientVerdict {
            await delivery.checkRecipient(EnvelopeRecipient(address: address, logID: "x"), envelope: envelope)
        }
        // Two sessions' RCPTs for alice, nothing delivered yet: both places are taken.
        var held: [RecipientVerdict] = [await check("alice@example.com"), await check("alice@example.com")]
        for verdict in held {
            guard case .accepted = verdict else { Issue.record("refused: \(verdict)"); return }
        }
        guard case .failed(let failure) = await check("alice@example.com") else {
            Issue.record("a third RCPT slipped past the limit")
            return
        }
        #expect(failure == .deferred(.concurrencyLimit))
        // Other users are not counted against alice.
        guard case .accepted = await check("bob@example.com") else { Issue.record("bob refused"); return }
        // One transaction ends (RSET, QUIT, or its delivery is over): its place is free again.
        held.removeLast()
        guard case .accepted = await check("alice@example.com") else { Issue.record("the freed place was not given back"); return }
        // A refused RCPT held nothing, and a delivery gives its place back when it is done.
        held.removeAll()
        do {
            let (verdicts, outcomes) = try await harness.run(delivery, message: message, to: ["alice@example.com"])
            #expect(outcomes == [.stored(mailboxes: ["INBOX"])], "\(verdicts)")
        }
        let again = [await check("alice@example.com"), await check("alice@example.com")]
        for verdict in again {
            guard case .accepted = verdict else { Issue.record("place not given back after delivery: \(verdict)"); return }
        }
    }
}
