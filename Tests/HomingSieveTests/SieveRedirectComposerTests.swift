import Foundation
import Testing

@testable import HomingSieve
import HomingTestSupport

private let envelope = SieveEnvelope(from: "sender@example.org", to: "bob@example.com")
private let fields = [
    SieveHeaderField(name: "Subject", rawValue: "hello"), SieveHeaderField(name: "Message-ID", rawValue: " <m1@example.org> "),
]

@Suite("Sieve redirect composer")
struct SieveRedirectComposerTests {
    @Test("a redirect prepends X-Sieve and X-Sieve-Redirected-From and keeps the envelope sender")
    func prefix() {
        let decision = SieveRedirectComposer().prepare(headerFields: fields, envelope: envelope, target: "carol@example.org")
        #expect(
            decision
                == .send(
                    SieveOutgoingMail(
                        sender: "sender@example.org", recipients: ["carol@example.org"],
                        content: Array("X-Sieve: Homing Sieve\r\nX-Sieve-Redirected-From: bob@example.com\r\n".utf8),
                        appendOriginal: true),
                    duplicateKey: "redirect\u{0}<m1@example.org>\u{0}bob@example.com\u{0}carol@example.org"))
        #expect(decision.description == "forwarded to <carol@example.org>")
    }

    @Test("the null sender stays null")
    func nullSender() {
        let decision = SieveRedirectComposer().prepare(
            headerFields: fields, envelope: SieveEnvelope(from: "", to: "bob@example.com"), target: "c@x")
        guard case .send(let mail, _) = decision else {
            Issue.record("expected send")
            return
        }
        #expect(mail.sender == "")
    }

    @Test("a message this user already redirected is a loop; another user's redirect is not")
    func loop() {
        let looped = fields + [SieveHeaderField(name: "x-sieve-redirected-from", rawValue: "BOB@example.com")]
        let decision = SieveRedirectComposer().prepare(headerFields: looped, envelope: envelope, target: "carol@example.org")
        #expect(decision == .loop(target: "carol@example.org"))
        #expect(
            decision.description
                == "not forwarding message to <carol@example.org>: the message was already redirected by this user (mail loop)")
        let other = fields + [SieveHeaderField(name: "X-Sieve-Redirected-From", rawValue: "alice@example.com")]
        #expect(SieveRedirectComposer.isLoop(headerFields: other, recipient: "bob@example.com") == false)
    }

    @Test("without a Message-ID there is no duplicate key")
    func noMessageID() {
        #expect(SieveRedirectComposer.duplicateKey(headerFields: [], recipient: "b@x", target: "c@x") == nil)
    }

    @Test("a re-delivered message is not redirected twice: the duplicate key is found in the tracking store")
    func duplicateThroughStore() throws {
        let directory = NSTemporaryDirectory() + "sieve-redirect-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = SieveTrackingStore(home: directory)
        let composer = SieveRedirectComposer()
        let now = Date(timeIntervalSince1970: 10_000)
        guard case .send(_, let key?) = composer.prepare(headerFields: fields, envelope: envelope, target: "c@x") else {
            Issue.record("expected send with a key")
            return
        }
        #expect(try store.contains(key: key, now: now) == false)
        try store.record(key: key, period: composer.duplicatePeriod, now: now)
        #expect(try store.contains(key: key, now: now.addingTimeInterval(3_600)))
        #expect(try store.contains(key: key, now: now.addingTimeInterval(12 * 3_600)) == false)
    }

    @Test("the copy starts after the delivery's Return-Path field, continuation lines included")
    func returnPathSkipped() {
        func offset(_ text: String) -> Int { SieveRedirectComposer.originalOffset(head: Array(text.utf8)) }
        #expect(offset("Return-Path: <s@x>\nDelivered-To: b@x\n") == 19)
        #expect(offset("return-path: <s@x>\r\n\t(folded)\r\nTo: b@x\r\n") == 31)
        #expect(offset("Delivered-To: b@x\nReturn-Path: <s@x>\n") == 0)
        #expect(offset("Return-Path: <s@x") == 0)
        #expect(offset("Return-Path: <s@x>\n") == 19)
    }
}
