import Foundation
import HomingDelivery
import HomingMaildir
import HomingTestSupport
import NIOCore
import Testing

/// Records what the notifier is told.
private final class RecordingNotifier: DeliveryNotifier, Sendable {
    let calls = Locked<[(recipient: String, original: String?, mailboxes: [String], sender: String)]>([])

    func delivered(_ message: DeliveryMessage, to recipient: EnvelopeRecipient, user: DeliveryUser, mailboxes: [String]) async {
        calls.withValue {
            $0.append((recipient.address, recipient.originalAddress, mailboxes, message.envelope.sender))
        }
    }
}

/// Refuses every copy: the mailbox is full.
private struct FullMailbox: DeliveryPlugin {
    let name = "full"
    func storeCopy(
        _ action: StoreAction, size: Int, for user: DeliveryUser, recipient: EnvelopeRecipient,
        store: () throws(StoreFailure) -> StoreCopyOutcome
    ) throws(StoreFailure) -> StoreCopyOutcome {
        .notStored(.refused(.mailboxFull(message: "Quota exceeded (mailbox for user is full)")), reason: "full")
    }
}

/// Stores nothing (Sieve's `discard`).
private struct DiscardAll: DeliveryPlugin {
    let name = "discard"
    func plan(_ plan: DeliveryPlan, for user: DeliveryUser, recipient: EnvelopeRecipient, message: DeliveryMessage) async -> DeliveryPlan {
        DeliveryPlan(actions: [])
    }
}

@Suite("Delivery notifications, the original recipient and LDA-style envelopes in the delivery core")
struct DeliveryNotificationTests {
    static func deliver(
        _ delivery: LocalDelivery, harness: DeliveryHarness, recipients: [EnvelopeRecipient],
        envelope: DeliveryEnvelope? = nil, message: String = "Subject: hi\r\n\r\nbody\r\n"
    ) async throws -> [DeliveryOutcome] {
        let envelope = envelope ?? harness.envelope()
        var accepted: [AcceptedRecipient] = []
        for recipient in recipients {
            guard case .accepted(let user) = await delivery.checkRecipient(recipient, envelope: envelope) else {
                Issue.record("\(recipient.address) not accepted")
                continue
            }
            accepted.append(AcceptedRecipient(recipient: recipient, user: user))
        }
        let spool = try await delivery.makeSpool(for: envelope)
        try await spool.write(ByteBuffer(string: message))
        return await delivery.deliver(spool, to: accepted, envelope: envelope)
    }

    @Test("only a stored recipient that asked NOTIFY=SUCCESS is reported, with its original recipient and mailboxes")
    func notifiesSuccessOnly() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let notifier = RecordingNotifier()
        let users = ["alice@example.com": harness.user("alice@example.com"), "bob@example.com": harness.user("bob@example.com"),
                     "carol@example.com": harness.user("carol@example.com")]
        let delivery = try harness.delivery(users: users, notifier: notifier)
        let outcomes = try await Self.deliver(
            delivery, harness: harness,
            recipients: [
                EnvelopeRecipient(address: "alice@example.com", originalAddress: "all@example.com", logID: "a", notify: [.success, .failure]),
                EnvelopeRecipient(address: "bob@example.com", logID: "b", notify: [.failure]),
                EnvelopeRecipient(address: "carol@example.com", logID: "c"),
            ])
        #expect(outcomes == [.stored(mailboxes: ["INBOX"]), .stored(mailboxes: ["INBOX"]), .stored(mailboxes: ["INBOX"])])
        let calls = notifier.calls.current
        #expect(calls.count == 1)
        #expect(calls.first?.recipient == "alice@example.com")
        #expect(calls.first?.original == "all@example.com")
        #expect(calls.first?.mailboxes == ["INBOX"])
        #expect(calls.first?.sender == "sender@example.org")
    }

    @Test("a refused copy is never reported as delivered; a discarded message is (it was accepted for good)")
    func refusedAndDiscarded() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let users = ["alice@example.com": harness.user("alice@example.com")]
        let recipient = EnvelopeRecipient(address: "alice@example.com", logID: "a", notify: [.success])
        let refusing = RecordingNotifier()
        let full = try harness.delivery(users: users, plugins: [FullMailbox()], notifier: refusing)
        let refused = try await Self.deliver(full, harness: harness, recipients: [recipient])
        #expect(refused == [.failed(.refused(.mailboxFull(message: "Quota exceeded (mailbox for user is full)")))])
        #expect(refusing.calls.current.isEmpty)
        let discarding = RecordingNotifier()
        let discard = try harness.delivery(users: users, plugins: [DiscardAll()], notifier: discarding)
        #expect(try await Self.deliver(discard, harness: harness, recipients: [recipient]) == [.stored(mailboxes: [])])
        #expect(discarding.calls.current.map(\.mailboxes) == [[]])
    }

    @Test("an envelope without trace headers stores the message as sent, with no Return-Path, Delivered-To or Received")
    func noTraceHeaders() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")])
        let envelope = DeliveryEnvelope(sessionID: "S", sender: "sender@example.org", receivedProtocol: "LDA", addsTraceHeaders: false)
        _ = try await Self.deliver(
            delivery, harness: harness, recipients: [EnvelopeRecipient(address: "alice@example.com", logID: "S")],
            envelope: envelope)
        let files = harness.files(of: "alice@example.com")
        try #require(files.count == 1)
        #expect(harness.text(files[0]) == "Subject: hi\n\nbody\n")
        #expect(files[0].hasSuffix(",S=18,W=21"))
    }

    @Test("two RCPTs of one address with different NOTIFY= are two recipients, not duplicates")
    func notifyMakesRecipientsDistinct() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")])
        let outcomes = try await Self.deliver(
            delivery, harness: harness,
            recipients: [
                EnvelopeRecipient(address: "alice@example.com", logID: "a", notify: [.success]),
                EnvelopeRecipient(address: "alice@example.com", logID: "b", notify: []),
                EnvelopeRecipient(address: "alice@example.com", logID: "c", notify: []),
            ])
        #expect(outcomes == [.stored(mailboxes: ["INBOX"]), .stored(mailboxes: ["INBOX"]), .duplicate(ofRecipientAt: 1)])
    }

    @Test("deliver_log_format's %{to_envelope} is the original recipient, else the recipient")
    func toEnvelope() {
        let format = DeliveryLogFormat("%{to_envelope}: %$")
        let values = DeliveryLogFormat.Values(
            status: "saved mail to INBOX", messageID: nil, subject: nil, from: nil, envelopeFrom: "", size: nil,
            virtualSize: nil, toEnvelope: "all@example.com")
        #expect(format.render(values) == "all@example.com: saved mail to INBOX")
        #expect(DeliveryLogFormat("%{to_envelope}", syntax: .dovecot24).render(values) == "all@example.com")
        #expect(EnvelopeRecipient(address: "a@b", logID: "x").originalOrFinalAddress == "a@b")
        #expect(EnvelopeRecipient(address: "a@b", originalAddress: "o@b", logID: "x").originalOrFinalAddress == "o@b")
    }
}
