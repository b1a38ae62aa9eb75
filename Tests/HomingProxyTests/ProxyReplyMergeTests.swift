import HomingDelivery
import HomingLMTP
import HomingMaildir
import HomingUserdb
import Testing

@testable import HomingProxy

@Suite("Proxy reply merging")
struct ProxyReplyMergeTests {
    private func user(_ name: String) throws -> DeliveryUser {
        DeliveryUser(
            user: name, record: UserRecord(user: name), identity: nil, home: "/h",
            mailLocationText: "maildir:/h/Maildir", mailLocation: try MailLocation.parse("maildir:/h/Maildir", home: "/h"),
            detail: nil, mailbox: "INBOX")
    }

    private func accepted(_ path: String, _ index: Int, _ resolved: ProxyRecipient) -> LMTPAcceptedRecipient<ProxyRecipient> {
        LMTPAcceptedRecipient(
            command: LMTPRecipient(path: path, address: path, originalRecipient: nil, index: index, replyID: "ID:R\(index)"),
            resolved: resolved)
    }

    @Test("local outcomes and each destination's replies are interleaved in RCPT order")
    func interleaved() throws {
        let a = ProxyDestination(host: "10.0.0.1", port: 24)
        let b = ProxyDestination(host: "10.0.0.2", port: 24)
        let recipients = [
            accepted("x@a", 1, .relayed(destination: a, position: 0)),
            accepted("l@a", 2, .local(try user("l@a"))),
            accepted("y@b", 3, .relayed(destination: b, position: 0)),
            accepted("z@a", 4, .relayed(destination: a, position: 1)),
            accepted("l@a", 5, .local(try user("l@a"))),
        ]
        let ra0 = LMTPReply(250, "2.0.0", "<x@a> ID Saved")
        let ra1 = LMTPReply(552, "5.2.2", "<z@a> Quota exceeded")
        let rb0 = LMTPReply(451, "4.4.0", "Proxy failed (connect, session=ID:R3)")
        let outcomes = LMTPProxyBackend.merge(
            recipients: recipients, localPositions: [1, 4], localOutcomes: [.saved, .duplicate(ofRecipientAt: 0)],
            relayed: [a: [ra0, ra1], b: [rb0]])
        #expect(outcomes == [.replied(ra0), .saved, .replied(rb0), .replied(ra1), .duplicate(ofRecipientAt: 1)])
    }

    @Test("a relayed recipient without a reply is deferred, never reported as delivered")
    func missingReply() throws {
        let a = ProxyDestination(host: "10.0.0.1", port: 24)
        let outcomes = LMTPProxyBackend.merge(
            recipients: [accepted("x@a", 1, .relayed(destination: a, position: 0))], localPositions: [], localOutcomes: [],
            relayed: [:])
        guard case .failed(let reply) = outcomes.first else {
            Issue.record("\(outcomes)")
            return
        }
        #expect(reply.code == 451)
    }

    @Test("destuser keeps the client's detail and delimiter")
    func detail() {
        let recipient = LMTPRecipient(
            path: "bob-news@a", address: "bob-news@a", originalRecipient: nil, index: 1, replyID: "ID")
        let split = RecipientAddress("bob-news@a", delimiters: "+-")
        #expect(LMTPProxyBackend.address(for: recipient, changedUser: "robert@b", split: split) == "robert-news@b")
        #expect(LMTPProxyBackend.address(for: recipient, changedUser: nil, split: split) == "bob-news@a")
        let plain = RecipientAddress("bob@a", delimiters: "+")
        #expect(LMTPProxyBackend.address(for: recipient, changedUser: "robert@b", split: plain) == "robert@b")
    }
}
