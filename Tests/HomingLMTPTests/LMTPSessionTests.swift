import HomingLMTP
import NIOCore
import Testing

@Suite("LMTP session driver")
struct LMTPSessionTests {
    static let delivery = [
        "LHLO client.example.org\r\n",
        "MAIL FROM:<sender@example.org>\r\n",
        "RCPT TO:<alice@example.com>\r\n",
        "RCPT TO:<nosuch@example.com>\r\n",
        "RCPT TO:<bob@example.com>\r\n",
        "DATA\r\n",
        "Subject: hi\r\n\r\nbody\r\n..dot\r\n.\r\n",
        "QUIT\r\n",
    ]

    static let deliveryReplies =
        ["220 mx.example.com Homing ready."] + lhloLines + [
            "250 2.1.0 OK",
            "250 2.1.5 OK",
            "550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com",
            "250 2.1.5 OK",
            "354 OK",
            "250 2.0.0 <alice@example.com> WKD+DRILBmv+TQAAg+zDdQ Saved",
            "250 2.0.0 <bob@example.com> WKD+DRILBmv+TQAAg+zDdQ:R3 Saved",
            "221 2.0.0 Bye",
        ]

    @Test("a delivery to two known and one unknown recipient gives Dovecot's replies and ids")
    func delivery() async {
        let run = await runSession(Self.delivery)
        #expect(run.lines == Self.deliveryReplies)
        #expect(run.record.delivered.count == 1)
        #expect(run.record.delivered.first?.bytes == Array("Subject: hi\r\n\r\nbody\r\n.dot\r\n".utf8))
        #expect(run.record.delivered.first?.recipients == ["alice@example.com", "bob@example.com"])
        let context = run.record.delivered.first?.context
        #expect(context?.sessionID == testSessionID)
        #expect(context?.transactionID == testSessionID)
        #expect(context?.lhloName == "client.example.org")
        #expect(context?.mailFrom == "sender@example.org")
        #expect(run.record.verified.map(\.index) == [1, 2, 3])
        #expect(
            run.record.verified.map(\.replyID) == [testSessionID, "\(testSessionID):R2", "\(testSessionID):R3"])
        #expect(run.record.discarded.isEmpty)
    }

    @Test("pipelined input in one buffer gives the same replies in order, in one write after the greeting")
    func pipelined() async {
        let run = await runSession([Self.delivery.joined()])
        #expect(run.lines == Self.deliveryReplies)
        #expect(run.batches.count == 2)
        #expect(run.batches.first == [.greeting(hostname: "mx.example.com")])
    }

    @Test("input split at every byte position of the pipelined delivery gives the same replies")
    func everySplit() async {
        let whole = Array(Self.delivery.joined().utf8)
        for cut in stride(from: 1, to: whole.count, by: 3) {
            let run = await runSession([ByteBuffer(bytes: whole[..<cut]), ByteBuffer(bytes: whole[cut...])])
            #expect(run.lines == Self.deliveryReplies, "split at \(cut)")
            #expect(run.record.delivered.first?.bytes == Array("Subject: hi\r\n\r\nbody\r\n.dot\r\n".utf8))
        }
    }

    @Test("a second transaction gets :T2 ids")
    func secondTransaction() async {
        let run = await runSession([
            "MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nx\r\n.\r\n",
            "MAIL FROM:<a@b>\r\nRCPT TO:<nosuch@example.com>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\ny\r\n.\r\n",
        ])
        #expect(
            Array(run.lines.suffix(3)) == [
                "354 OK",
                "250 2.0.0 <bob@example.com> \(testSessionID):T2:R2 Saved",
                "250 2.0.0 <alice@example.com> \(testSessionID):T2:R3 Saved",
            ])
        #expect(run.lines.contains("250 2.0.0 <alice@example.com> \(testSessionID) Saved"))
        #expect(run.record.delivered.map(\.context.transactionID) == [testSessionID, "\(testSessionID):T2"])
    }

    @Test("the same recipient twice: both get the first one's id")
    func duplicateRecipient() async {
        let run = await runSession([
            "MAIL FROM:<a@b>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\nx\r\n.\r\n"
        ])
        #expect(
            Array(run.lines.suffix(2)) == [
                "250 2.0.0 <bob@example.com> \(testSessionID) Saved",
                "250 2.0.0 <bob@example.com> \(testSessionID) Saved",
            ])
    }

    @Test("a failed delivery answers that recipient with the backend's reply only")
    func perRecipientFailure() async {
        var backend = TestBackend()
        backend.failures = ["bob@example.com": LMTPReply(552, "5.2.2", "<bob@example.com> Quota exceeded (mailbox for user is full)")]
        let run = await runSession(
            ["MAIL FROM:<a@b>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nx\r\n.\r\n"],
            backend: backend)
        #expect(
            Array(run.lines.suffix(2)) == [
                "552 5.2.2 <bob@example.com> Quota exceeded (mailbox for user is full)",
                "250 2.0.0 <alice@example.com> \(testSessionID):R2 Saved",
            ])
    }

    @Test("BDAT chunks are added, BDAT LAST delivers with per-recipient replies")
    func bdat() async {
        let run = await runSession([
            "MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\n",
            "BDAT 7\r\nSubj", "ect", "BDAT 10 LAST\r\n: x\r\n\r\n.\r\n", "QUIT\r\n",
        ])
        #expect(
            Array(run.lines.dropFirst()) == [
                "250 2.1.0 OK", "250 2.1.5 OK", "250 2.1.5 OK",
                "250 2.0.0 Added 7 octets",
                "250 2.0.0 <alice@example.com> \(testSessionID) Saved",
                "250 2.0.0 <bob@example.com> \(testSessionID):R2 Saved",
                "221 2.0.0 Bye",
            ])
        #expect(run.record.delivered.first?.bytes == Array("Subject: x\r\n\r\n.\r\n".utf8))
        #expect(run.record.sinksCreated == 1)
    }

    @Test("BDAT before MAIL consumes its bytes, refuses, and leaves no poisoned state")
    func bdatBeforeMail() async {
        let run = await runSession([
            "BDAT 6\r\nRSET\r\nDATA\r\n",
            "MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\nx\r\n.\r\n",
        ])
        #expect(
            Array(run.lines.dropFirst()) == [
                "503 5.5.0 MAIL needed first",
                "503 5.5.0 MAIL needed first",
                "250 2.1.0 OK", "250 2.1.5 OK", "250 2.1.5 OK", "354 OK",
                "250 2.0.0 <alice@example.com> \(testSessionID) Saved",
                "250 2.0.0 <bob@example.com> \(testSessionID):R2 Saved",
            ])
    }

    @Test("BDAT with no valid recipient consumes its bytes and answers 503 No valid recipients")
    func bdatNoRecipients() async {
        let run = await runSession(["MAIL FROM:<a@b>\r\nRCPT TO:<nosuch@example.com>\r\nBDAT 4 LAST\r\nQUITNOOP\r\n"])
        #expect(Array(run.lines.suffix(2)) == ["503 5.5.0 No valid recipients", "250 2.0.0 OK"])
        #expect(run.record.sinksCreated == 0)
    }

    @Test("DATA during a BDAT transfer is refused and the BDAT transaction goes on")
    func dataDuringBDAT() async {
        let run = await runSession([
            "MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nBDAT 2\r\nab",
            "DATA\r\nBDAT 1 LAST\r\nc",
        ])
        #expect(
            Array(run.lines.suffix(4)) == [
                "250 2.0.0 Added 2 octets",
                "503 5.5.1 DATA not permitted during BDAT transfer",
                "250 2.0.0 <alice@example.com> \(testSessionID) Saved",
                "250 2.0.0 <bob@example.com> \(testSessionID):R2 Saved",
            ])
        #expect(run.record.delivered.first?.bytes == Array("abc".utf8))
    }

    @Test("RSET ends the transaction and discards a BDAT message in progress")
    func rset() async {
        let run = await runSession([
            "MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nBDAT 3\r\nabcRSET\r\nRCPT TO:<alice@example.com>\r\n"
        ])
        #expect(
            Array(run.lines.suffix(3)) == ["250 2.0.0 Added 3 octets", "250 2.0.0 OK", "503 5.5.0 MAIL needed first"])
        #expect(run.record.discarded == [Array("abc".utf8)])
        #expect(run.record.delivered.isEmpty)
    }

    @Test("Postfix's verify probe gets the RCPT verdict and a clean RSET")
    func verifyProbe() async {
        let run = await runSession([
            "LHLO mx.example.com\r\nMAIL FROM:<double-bounce@example.com>\r\nRCPT TO:<nosuch1@example.com>\r\nRSET\r\nQUIT\r\n"
        ])
        #expect(
            Array(run.lines.suffix(4)) == [
                "250 2.1.0 OK", "550 5.1.1 <nosuch1@example.com> User doesn't exist: nosuch1@example.com", "250 2.0.0 OK",
                "221 2.0.0 Bye",
            ])
    }

    @Test("a message over the size limit is read to the end, then refused for every recipient")
    func sizeLimit() async {
        let configuration = LMTPSessionConfiguration(maxMessageSize: 10)
        let run = await runSession(
            [
                "LHLO x\r\nMAIL FROM:<a@b> SIZE=11\r\nMAIL FROM:<a@b> SIZE=10\r\n",
                "RCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n0123456789\r\n", "more\r\n.\r\nNOOP\r\n",
            ], configuration: configuration)
        #expect(run.lines.contains("250-SIZE 10"))
        #expect(run.lines.contains("552 5.3.4 Message size exceeds fixed maximum message size"))
        #expect(
            Array(run.lines.suffix(3)) == [
                "552 5.3.4 Message too big for system", "552 5.3.4 Message too big for system", "250 2.0.0 OK",
            ])
        #expect(run.record.delivered.isEmpty)
        #expect(run.record.discarded.count == 1)
    }

    @Test("a message exactly at the size limit is delivered")
    func sizeLimitExact() async {
        let run = await runSession(
            ["MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n12345678\r\n.\r\n"],
            configuration: LMTPSessionConfiguration(maxMessageSize: 10))
        #expect(run.lines.last == "250 2.0.0 <alice@example.com> \(testSessionID) Saved")
    }

    @Test("a sink write failure answers 451 4.3.0 for every recipient after the end of data")
    func sinkFailure() async {
        var backend = TestBackend()
        backend.failSinkAfterWrites = 0
        let run = await runSession(
            ["MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n", "x\r\n", "y\r\n.\r\nNOOP\r\n"],
            backend: backend)
        #expect(
            Array(run.lines.suffix(3)) == [
                "451 4.3.0 Temporary internal error", "451 4.3.0 Temporary internal error", "250 2.0.0 OK",
            ])
        #expect(run.record.delivered.isEmpty)
        #expect(run.record.discarded.count == 1)
    }

    @Test("a sink that cannot be created refuses DATA with 451 and keeps the transaction")
    func sinkCreationFailure() async {
        var backend = TestBackend()
        backend.failSinkCreation = true
        let run = await runSession(
            ["MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nRCPT TO:<bob@example.com>\r\n"], backend: backend)
        #expect(Array(run.lines.suffix(2)) == ["451 4.3.0 Temporary internal error", "250 2.1.5 OK"])
    }

    @Test("a backend returning too few outcomes makes the missing recipients 451")
    func missingOutcomes() async {
        var backend = TestBackend()
        backend.truncateOutcomes = 1
        let run = await runSession(
            ["MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\nx\r\n.\r\n"],
            backend: backend)
        #expect(
            Array(run.lines.suffix(2)) == [
                "250 2.0.0 <alice@example.com> \(testSessionID) Saved", "451 4.3.0 Temporary internal error",
            ])
    }

    @Test("a client disconnecting inside DATA: the message is discarded, not delivered, and logged")
    func disconnectMidData() async {
        let run = await runSession(["MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n", "partial"])
        #expect(run.lines.last == "354 OK")
        #expect(run.record.delivered.isEmpty)
        #expect(run.record.discarded == [Array("partial".utf8)])
        #expect(
            run.logs.contains("Disconnect from local: Connection closed (unfinished DATA command) (state=DATA)"))
    }

    @Test("QUIT inside a BDAT transaction discards the message")
    func quitDuringBDAT() async {
        let run = await runSession(["MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nBDAT 2\r\nxyQUIT\r\nNOOP\r\n"])
        #expect(Array(run.lines.suffix(2)) == ["250 2.0.0 Added 2 octets", "221 2.0.0 Bye"])
        #expect(run.record.discarded == [Array("xy".utf8)])
    }

    @Test("too many recipients get 452 4.5.3 and still count for :R ids")
    func tooManyRecipients() async {
        let run = await runSession(
            [
                "MAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<carol@example.org>\r\n"
            ], configuration: LMTPSessionConfiguration(maxRecipients: 2))
        #expect(Array(run.lines.suffix(3)) == ["250 2.1.5 OK", "250 2.1.5 OK", "452 4.5.3 Too many recipients"])
        #expect(run.record.verified.count == 2)
    }

    @Test("a too long command line is answered and the next command works")
    func lineTooLong() async {
        let run = await runSession(["NOOP " + String(repeating: "a", count: 5000) + "\r\nNOOP\r\n"])
        #expect(Array(run.lines.dropFirst()) == ["500 5.5.2 Line too long", "250 2.0.0 OK"])
    }

    @Test("the configured host name wins over the backend's")
    func configuredHostname() async {
        let run = await runSession(["QUIT\r\n"], configuration: LMTPSessionConfiguration(hostname: "lmtp.example.net"))
        #expect(run.lines == ["220 lmtp.example.net Homing ready.", "221 2.0.0 Bye"])
    }

    @Test("nothing after QUIT is read or answered")
    func quitEndsSession() async {
        let run = await runSession(["quit\r\nNOOP\r\n", "NOOP\r\n"])
        #expect(run.lines == ["220 mx.example.com Homing ready.", "221 2.0.0 Bye"])
    }

    @Test("refusals of the parser reach the client and the session continues")
    func refusals() async {
        let run = await runSession(["EHLO x\r\nSTARTTLS\r\nDATA\r\nRCPT TO:<a@b>\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\nDATA\r\nVRFY alice\r\n"])
        #expect(
            Array(run.lines.dropFirst()) == [
                "500 5.5.1 Unknown command", "502 5.5.1 TLS support is not enabled.", "503 5.5.0 MAIL needed first",
                "503 5.5.0 MAIL needed first", "250 2.1.0 OK", "503 5.5.0 MAIL already given",
                "503 5.5.0 No valid recipients", "252 2.3.3 Try RCPT instead",
            ])
    }
}
