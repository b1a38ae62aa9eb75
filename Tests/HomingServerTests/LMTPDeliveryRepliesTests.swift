import HomingDelivery
import HomingLMTP
import HomingTestSupport
import Logging
import NIOCore
import Testing

@testable import HomingServer

@Suite("Delivery outcomes as LMTP replies (Dovecot's texts)")
struct LMTPDeliveryRepliesTests {
    @Test("each failure maps to the reply Dovecot's lmtp-local sends", arguments: [
        (DeliveryFailure.refused(.noSuchUser(lookedUp: "Nosuch@example.com")),
         "550 5.1.1 <nosuch+x@example.com> User doesn't exist: Nosuch@example.com"),
        (.refused(.mailboxFull(message: "Quota exceeded (mailbox for user is full)")),
         "552 5.2.2 <nosuch+x@example.com> Quota exceeded (mailbox for user is full)"),
        (.deferred(.mailboxFull(message: "Quota exceeded (mailbox for user is full)")),
         "452 4.2.2 <nosuch+x@example.com> Quota exceeded (mailbox for user is full)"),
        (.refused(.messageTooLarge(message: "Mail size is larger than the maximum size allowed by server configuration")),
         "552 5.2.3 <nosuch+x@example.com> Mail size is larger than the maximum size allowed by server configuration"),
        (.refused(.rejected(reason: "I don't want it")), "550 5.7.1 <nosuch+x@example.com> I don't want it"),
        (.deferred(.diskFull), "452 4.3.1 <nosuch+x@example.com> Insufficient system storage"),
        (.deferred(.concurrencyLimit), "451 4.3.0 <nosuch+x@example.com> Too many concurrent deliveries for user"),
        (.deferred(.userdbUnavailable), "451 4.3.0 <nosuch+x@example.com> Temporary internal error"),
        (.deferred(.unusableUser), "451 4.3.0 <nosuch+x@example.com> Temporary internal error"),
        (.deferred(.internalError), "451 4.3.0 <nosuch+x@example.com> Temporary internal error"),
    ])
    func mapping(failure: DeliveryFailure, expected: String) {
        let reply = LMTPDeliveryReplies.reply(for: failure, path: "nosuch+x@example.com")
        #expect(reply.wireFormat == expected + "\r\n")
        // Temporary failures are 4xx, permanent ones 5xx: never the other way round.
        #expect(reply.isTransient == failure.isTemporary)
    }

    @Test("stored and duplicate outcomes are 250 Saved, a discarded message too")
    func successes() {
        #expect(LMTPDeliveryReplies.outcome(for: .stored(mailboxes: ["INBOX"]), path: "a@b") == .saved)
        #expect(LMTPDeliveryReplies.outcome(for: .stored(mailboxes: []), path: "a@b") == .saved)
        #expect(LMTPDeliveryReplies.outcome(for: .duplicate(ofRecipientAt: 0), path: "a@b") == .duplicate(ofRecipientAt: 0))
    }
}

/// Collects a session's output lines.
private final class Collector: LMTPReplyWriter, Sendable {
    let replies = Locked<[LMTPReply]>([])
    func write(_ batch: [LMTPReply], waitingAfterReads: Int?) async throws { replies.withValue { $0 += batch } }
    var lines: [String] {
        replies.current.map(\.wireFormat).joined().split(separator: "\r\n").map(String.init)
    }
}

@Suite("The LMTP backend over the delivery core, in process")
struct LMTPLocalBackendTests {
    @Test("a whole session: 550 for the unknown user, ORCPT decoded into Delivered-To, one 250 per accepted recipient")
    func session() async throws {
        let harness = try DeliveryHarness { $0.lmtpHdrDeliveryAddress = .original }
        defer { harness.scratch.remove() }
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")])
        let (input, continuation) = AsyncStream<ByteBuffer>.makeStream()
        continuation.yield(ByteBuffer(string: """
            LHLO client.example.org\r
            MAIL FROM:<sender@example.org>\r
            RCPT TO:<nosuch@example.com>\r
            RCPT TO:<alice@example.com> ORCPT=rfc822;all+2Bstaff@example.com\r
            DATA\r
            Subject: hi\r
            \r
            body\r
            .\r
            QUIT\r

            """))
        continuation.finish()
        let output = Collector()
        await runLMTPSession(
            input: input, output: output, backend: LMTPLocalBackend(delivery: delivery), connection: LMTPConnectionInfo(),
            logger: harness.logs.logger, sessionID: "WKD+DRILBmv+TQAAg+zDdQ")
        #expect(
            Array(output.lines.suffix(6)) == [
                "250 2.1.0 OK",
                "550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com",
                "250 2.1.5 OK",
                "354 OK",
                "250 2.0.0 <alice@example.com> WKD+DRILBmv+TQAAg+zDdQ:R2 Saved",
                "221 2.0.0 Bye",
            ])
        let files = harness.files(of: "alice@example.com")
        try #require(files.count == 1)
        #expect(harness.text(files[0]).contains("Delivered-To: all+staff@example.com\n"))
    }
}
