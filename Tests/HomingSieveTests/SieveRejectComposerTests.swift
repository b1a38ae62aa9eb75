import Foundation
import Testing

@testable import HomingSieve

private let original = [
    SieveHeaderField(name: "From", rawValue: "Sender <sender@example.org>"),
    SieveHeaderField(name: "To", rawValue: "bob@example.com"),
    SieveHeaderField(name: "Subject", rawValue: "Buy now"),
    SieveHeaderField(name: "Message-ID", rawValue: "<spam1@example.org>"),
]

private let composer = SieveRejectComposer(postmasterAddress: "postmaster@example.com", hostname: "mx.example.com")

@Suite("Sieve reject composer")
struct SieveRejectComposerTests {
    @Test("the rejection is an MDN from the postmaster to the envelope sender with the null sender")
    func mdn() throws {
        let outcome = composer.compose(
            reason: "I don't want it.", headerFields: original,
            envelope: SieveEnvelope(from: "sender@example.org", to: "bob@example.com", originalRecipient: "b@example.com"),
            now: Date(timeIntervalSince1970: 1_764_070_927), boundary: "BOUNDARY")
        guard case .send(let mail) = outcome else {
            Issue.record("expected a message, got \(outcome)")
            return
        }
        #expect(mail.sender == "")
        #expect(mail.recipients == ["sender@example.org"])
        #expect(mail.appendOriginal == false)
        let lines = String(decoding: mail.content, as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines[0] == "X-Sieve: Homing Sieve")
        #expect(lines[1].hasPrefix("Message-ID: <homing-sieve.1764070927.") && lines[1].hasSuffix("@mx.example.com>"))
        #expect(
            Array(lines[2...]) == [
                "Date: Tue, 25 Nov 2025 11:42:07 +0000",
                "From: Postmaster <postmaster@example.com>",
                "To: <sender@example.org>",
                "Subject: Rejected: Buy now",
                "Auto-Submitted: auto-replied (rejected)",
                "Precedence: bulk",
                "MIME-Version: 1.0",
                "Content-Type: multipart/report; report-type=disposition-notification;",
                "\tboundary=\"BOUNDARY\"",
                "",
                "This is a MIME-encapsulated message",
                "",
                "--BOUNDARY",
                "Content-Type: text/plain; charset=utf-8",
                "Content-Disposition: inline",
                "Content-Transfer-Encoding: 8bit",
                "",
                "Your message to <bob@example.com> was automatically rejected:",
                "I don't want it.",
                "",
                "--BOUNDARY",
                "Content-Type: message/disposition-notification",
                "",
                "Reporting-UA: mx.example.com; Homing Sieve",
                "Original-Recipient: rfc822; b@example.com",
                "Final-Recipient: rfc822; bob@example.com",
                "Original-Message-ID: <spam1@example.org>",
                "Disposition: automatic-action/MDN-sent-automatically; deleted",
                "",
                "--BOUNDARY",
                "Content-Type: text/rfc822-headers",
                "",
                "From: Sender <sender@example.org>",
                "To: bob@example.com",
                "Subject: Buy now",
                "Message-ID: <spam1@example.org>",
                "",
                "--BOUNDARY--",
                "",
            ])
    }

    @Test("no rejection is sent to the null sender")
    func nullSender() {
        let outcome = composer.compose(
            reason: "x", headerFields: original, envelope: SieveEnvelope(from: "", to: "bob@example.com"), now: Date())
        #expect(outcome == .skipNullSender)
    }

    @Test("templates expand %s %t %r %n and %%, non-ASCII subjects are encoded")
    func templates() throws {
        let custom = SieveRejectComposer(
            postmasterAddress: "Mail Admin <admin@example.com>", hostname: "h", subjectTemplate: "Refusé: %s (100%%)",
            reasonTemplate: "%t: %r%n-- %s %x")
        #expect(custom.expand(custom.reasonTemplate, recipient: "r@x", reason: "no", subject: "S") == "r@x: no\n-- S %x")
        guard
            case .send(let mail) = custom.compose(
                reason: "no", headerFields: original, envelope: SieveEnvelope(from: "s@x", to: "r@x"),
                now: Date(timeIntervalSince1970: 0), boundary: "B")
        else {
            Issue.record("expected a message")
            return
        }
        let text = String(decoding: mail.content, as: UTF8.self)
        #expect(text.contains("\r\nFrom: Mail Admin <admin@example.com>\r\n"))
        #expect(text.contains("\r\nSubject: =?utf-8?q?Refus=C3=A9:_Buy_now_(100%)?=\r\n"))
        #expect(text.contains("\r\n\r\nr@x: no\r\n-- Buy now %x\r\n\r\n--B\r\n"))
        #expect(!text.contains("Original-Recipient"))
    }

    @Test("original headers with 8-bit text are declared 8bit and long values are folded")
    func originalHeaders() {
        let long = Array(repeating: "word", count: 40).joined(separator: " ")
        let headers = [SieveHeaderField(name: "Subject", rawValue: "Grüße"), SieveHeaderField(name: "X-Long", rawValue: long)]
        guard
            case .send(let mail) = composer.compose(
                reason: "r", headerFields: headers, envelope: SieveEnvelope(from: "s@x", to: "b@x"), now: Date(timeIntervalSince1970: 0),
                boundary: "B")
        else {
            Issue.record("expected a message")
            return
        }
        let text = String(decoding: mail.content, as: UTF8.self)
        #expect(text.contains("--B\r\nContent-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSubject: Grüße\r\nX-Long: word"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(text.contains("Subject: =?utf-8?q?Rejected:_Gr=C3=BC=C3=9Fe?="))
    }
}
