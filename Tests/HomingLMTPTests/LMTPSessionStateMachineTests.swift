import NIOCore
import Testing

@testable import HomingLMTP

@Suite("LMTP session state machine")
struct LMTPSessionStateMachineTests {
    typealias Machine = LMTPSessionStateMachine<String>

    func parse(_ line: String) -> Result<LMTPCommand, LMTPCommandError> { LMTPCommandParser.parse(line) }

    func replies(_ action: Machine.Action) -> [String]? {
        if case .send(let replies) = action { return replies.map(\.description) }
        return nil
    }

    @Test("the greeting and the LHLO reply, with capabilities in a fixed order")
    func greetingAndLHLO() {
        var machine = Machine(sessionID: "S", hostname: "mx.example.com", maxMessageSize: 104_857_600)
        #expect(machine.greeting().wireFormat == "220 mx.example.com Homing ready.\r\n")
        guard case .send(let lhlo) = machine.commandReceived(parse("LHLO client")) else {
            Issue.record("no reply")
            return
        }
        #expect(
            lhlo.first?.wireFormat
                == "250-mx.example.com\r\n250-8BITMIME\r\n250-CHUNKING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-SIZE 104857600\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n"
        )
        #expect(machine.lhloName == "client")
    }

    @Test("the DSN parameters reach the backend: RET and ENVID with the transaction, NOTIFY and ORCPT with the recipient")
    func dsnParameters() {
        var machine = Machine(sessionID: "S", hostname: "h")
        #expect(replies(machine.commandReceived(parse("MAIL FROM:<a@b> RET=HDRS ENVID=id+2B1"))) == ["250 2.1.0 OK"])
        guard
            case .verifyRecipient(let recipient, let context) = machine.commandReceived(
                parse("RCPT TO:<bob@x> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;all@x"))
        else {
            Issue.record("no verification")
            return
        }
        #expect(context.notificationReturn == .headers)
        #expect(context.envelopeID == "id+1")
        #expect(recipient.notify == [.success, .failure])
        #expect(recipient.originalRecipient?.address == "all@x")
    }

    @Test("RCPT asks the backend with the transaction's ids, failed RCPTs counted")
    func rcptIDs() {
        var machine = Machine(sessionID: "S", hostname: "h")
        #expect(replies(machine.commandReceived(parse("MAIL FROM:<a@b>"))) == ["250 2.1.0 OK"])
        var ids: [String] = []
        for (address, accept) in [("alice@x", true), ("nosuch@x", false), ("bob@x", true)] {
            guard case .verifyRecipient(let recipient, let context) = machine.commandReceived(parse("RCPT TO:<\(address)>"))
            else {
                Issue.record("no verification")
                return
            }
            #expect(context.transactionID == "S")
            ids.append(recipient.replyID)
            let verdict: LMTPRecipientVerdict<String> =
                accept ? .accept(address) : .reject(LMTPReply(550, "5.1.1", "no"))
            #expect(replies(machine.recipientVerified(verdict)) == [accept ? "250 2.1.5 OK" : "550 5.1.1 no"])
        }
        #expect(ids == ["S", "S:R2", "S:R3"])
        guard case .makeSink(let context) = machine.commandReceived(parse("DATA")) else {
            Issue.record("no sink request")
            return
        }
        #expect(context.mailFrom == "a@b")
        guard case .beginData(let reply) = machine.sinkCreated() else {
            Issue.record("no 354")
            return
        }
        #expect(reply.description == "354 OK")
        guard case .write = machine.messageBytesReceived(ByteBuffer(string: "x\r\n")) else {
            Issue.record("no write")
            return
        }
        guard case .deliver(let recipients, _) = machine.endOfDataReceived() else {
            Issue.record("no delivery")
            return
        }
        #expect(recipients.map(\.resolved) == ["alice@x", "bob@x"])
        #expect(
            replies(machine.delivered([.saved, .saved]))
                == ["250 2.0.0 <alice@x> S Saved", "250 2.0.0 <bob@x> S:R3 Saved"])
        #expect(replies(machine.commandReceived(parse("MAIL FROM:<>"))) == ["250 2.1.0 OK"])
        guard case .verifyRecipient(let next, let context2) = machine.commandReceived(parse("RCPT TO:<c@x>")) else {
            Issue.record("no verification")
            return
        }
        #expect(context2.transactionID == "S:T2")
        #expect(next.replyID == "S:T2")
        #expect(context2.mailFrom == "")
    }

    @Test("a duplicate recipient is answered with the first one's reply word for word: its address as written, its id, its failure")
    func duplicateGetsFirstReply() {
        var machine = Machine(sessionID: "S", hostname: "h")
        _ = machine.commandReceived(parse("MAIL FROM:<a@b>"))
        for (address, resolved) in [
            ("bob@example.com", "bob"), ("bob@EXAMPLE.com", "bob"), ("carol@x", "carol"), ("carol@x", "carol"),
        ] {
            guard case .verifyRecipient = machine.commandReceived(parse("RCPT TO:<\(address)>")) else {
                Issue.record("no verification")
                return
            }
            _ = machine.recipientVerified(.accept(resolved))
        }
        _ = machine.commandReceived(parse("DATA"))
        _ = machine.sinkCreated()
        _ = machine.endOfDataReceived()
        let full = LMTPReply(552, "5.2.2", "<carol@x> Quota exceeded (mailbox for user is full)")
        #expect(
            replies(machine.delivered([.saved, .duplicate(ofRecipientAt: 0), .failed(full), .duplicate(ofRecipientAt: 2)]))
                == [
                    "250 2.0.0 <bob@example.com> S Saved", "250 2.0.0 <bob@example.com> S Saved",
                    "552 5.2.2 <carol@x> Quota exceeded (mailbox for user is full)",
                    "552 5.2.2 <carol@x> Quota exceeded (mailbox for user is full)",
                ])
    }

    @Test("passing the size limit discards the sink once and drops the rest")
    func oversize() {
        var machine = Machine(sessionID: "S", hostname: "h", maxMessageSize: 4)
        _ = machine.commandReceived(parse("MAIL FROM:<a@b>"))
        _ = machine.commandReceived(parse("RCPT TO:<a@x>"))
        _ = machine.recipientVerified(.accept("a"))
        _ = machine.commandReceived(parse("DATA"))
        _ = machine.sinkCreated()
        guard case .write = machine.messageBytesReceived(ByteBuffer(string: "1234")) else {
            Issue.record("no write")
            return
        }
        guard case .discardSink = machine.messageBytesReceived(ByteBuffer(string: "5")) else {
            Issue.record("no discard")
            return
        }
        guard case .none = machine.messageBytesReceived(ByteBuffer(string: "6")) else {
            Issue.record("bytes not dropped")
            return
        }
        #expect(replies(machine.endOfDataReceived()) == ["552 5.3.4 Message too big for system"])
        #expect(machine.stateName == "READY")
    }

    @Test("a failed BDAT chunk refuses data commands until RSET, which clears it")
    func failedChunk() {
        var machine = Machine(sessionID: "S", hostname: "h")
        _ = machine.commandReceived(parse("MAIL FROM:<a@b>"))
        _ = machine.commandReceived(parse("RCPT TO:<a@x>"))
        _ = machine.recipientVerified(.accept("a"))
        guard case .makeSink = machine.commandReceived(parse("BDAT 3")) else {
            Issue.record("no sink request")
            return
        }
        guard case .beginBDAT(3) = machine.sinkCreationFailed() else {
            Issue.record("chunk not consumed")
            return
        }
        #expect(replies(machine.endOfChunkReceived()) == ["451 4.3.0 Temporary internal error"])
        #expect(replies(machine.commandReceived(parse("DATA"))) == ["503 5.5.0 Previous data chunk failed, issue RSET first"])
        guard case .beginBDAT(2) = machine.commandReceived(parse("BDAT 2 LAST")) else {
            Issue.record("chunk not consumed")
            return
        }
        #expect(replies(machine.endOfChunkReceived()) == ["503 5.5.0 Previous data chunk failed, issue RSET first"])
        #expect(replies(machine.commandReceived(parse("RSET"))) == ["250 2.0.0 OK"])
        #expect(replies(machine.commandReceived(parse("MAIL FROM:<a@b>"))) == ["250 2.1.0 OK"])
    }

    @Test("closing the input during a BDAT transaction asks to discard the sink")
    func closeDuringBDAT() {
        var machine = Machine(sessionID: "S", hostname: "h")
        _ = machine.commandReceived(parse("MAIL FROM:<a@b>"))
        _ = machine.commandReceived(parse("RCPT TO:<a@x>"))
        _ = machine.recipientVerified(.accept("a"))
        _ = machine.commandReceived(parse("BDAT 1"))
        _ = machine.sinkCreated()
        _ = machine.messageBytesReceived(ByteBuffer(string: "x"))
        #expect(replies(machine.endOfChunkReceived()) == ["250 2.0.0 Added 1 octets"])
        #expect(machine.isReceivingMessage)
        guard case .discardSink = machine.inputClosed() else {
            Issue.record("sink kept")
            return
        }
        #expect(machine.stateName == "CLOSED")
    }

    @Test("LHLO in a transaction resets it")
    func lhloResets() {
        var machine = Machine(sessionID: "S", hostname: "h")
        _ = machine.commandReceived(parse("MAIL FROM:<a@b>"))
        _ = machine.commandReceived(parse("LHLO again"))
        #expect(replies(machine.commandReceived(parse("RCPT TO:<a@x>"))) == ["503 5.5.0 MAIL needed first"])
    }
}

@Suite("LMTP session ids")
struct LMTPSessionIDTests {
    @Test("a session id is 22 base64 characters")
    func shape() {
        let id = LMTPSessionID.random()
        #expect(id.count == 22)
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        #expect(id.allSatisfy { alphabet.contains($0) })
        #expect(LMTPSessionID.random() != id)
    }

    @Test("base64 without padding matches the standard encoding")
    func encoding() {
        #expect(LMTPSessionID.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(LMTPSessionID.encode(Array("fooba".utf8)) == "Zm9vYmE")
        #expect(LMTPSessionID.encode(Array("foob".utf8)) == "Zm9vYg")
        #expect(LMTPSessionID.encode([0xFB, 0xFF]) == "+/8")
        #expect(LMTPSessionID.encode([UInt8](repeating: 0, count: 16)) == "AAAAAAAAAAAAAAAAAAAAAA")
    }
}
