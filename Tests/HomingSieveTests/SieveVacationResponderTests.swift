import Foundation
import Testing

@testable import HomingSieve
import HomingTestSupport

private let envelope = SieveEnvelope(from: "sender@example.org", to: "bob@example.com")
private let request = SieveVacationRequest(reason: "I am away.", period: 7 * 86_400)
private let responder = SieveVacationResponder(hostname: "mx.example.com")

private func fields(_ pairs: [(String, String)]) -> [SieveHeaderField] {
    pairs.map { SieveHeaderField(name: $0.0, rawValue: $0.1) }
}

private let plain = fields([
    ("From", "Sender <sender@example.org>"), ("To", "Bob <bob@example.com>"), ("Subject", "Lunch?"),
    ("Message-ID", "<m1@example.org>"),
])

private func text(_ mail: SieveOutgoingMail) -> String {
    String(decoding: mail.content, as: UTF8.self)
}

/// The content with the lines that change every run (Message-ID, Date) removed.
private func stable(_ mail: SieveOutgoingMail) -> String {
    text(mail).components(separatedBy: "\r\n").filter { !$0.hasPrefix("Message-ID:") && !$0.hasPrefix("Date:") }
        .joined(separator: "\n")
}

@Suite("Sieve vacation responder")
struct SieveVacationResponderTests {
    @Test("an ordinary message addressed to the user gets a reply to the envelope sender")
    func responds() {
        #expect(responder.decide(headerFields: plain, envelope: envelope, request: request) == .respond(to: "sender@example.org"))
    }

    @Test("no reply to the null sender, system addresses or the user's own addresses")
    func senders() {
        func decide(_ from: String, _ request: SieveVacationRequest = request) -> SieveVacationDecision {
            responder.decide(headerFields: plain, envelope: SieveEnvelope(from: from, to: "bob@example.com"), request: request)
        }
        #expect(decide("") == .skip(.nullSender))
        #expect(decide("MAILER-DAEMON@example.org") == .skip(.systemAddress("MAILER-DAEMON@example.org")))
        #expect(decide("listserv@example.org") == .skip(.systemAddress("listserv@example.org")))
        #expect(decide("majordomo@example.org") == .skip(.systemAddress("majordomo@example.org")))
        #expect(decide("owner-dev@example.org") == .skip(.systemAddress("owner-dev@example.org")))
        #expect(decide("dev-request@example.org") == .skip(.systemAddress("dev-request@example.org")))
        #expect(decide("Bob@Example.COM") == .skip(.ownAddress("Bob@Example.COM")))
        #expect(decide("bob+x@example.com") == .skip(.ownAddress("bob+x@example.com")))
        var withAddresses = request
        withAddresses.addresses = ["robert@example.net"]
        #expect(decide("robert@example.net", withAddresses) == .skip(.ownAddress("robert@example.net")))
    }

    @Test("no reply to auto-submitted, bulk, list or junk mail, or mailing list mail")
    func automaticMail() {
        func decide(_ extra: (String, String)) -> SieveVacationDecision {
            responder.decide(headerFields: plain + fields([extra]), envelope: envelope, request: request)
        }
        #expect(decide(("Auto-Submitted", "auto-replied (vacation)")) == .skip(.autoSubmitted("auto-replied")))
        #expect(decide(("Auto-Submitted", "Auto-Generated")) == .skip(.autoSubmitted("auto-generated")))
        #expect(decide(("Auto-Submitted", " no ")) == .respond(to: "sender@example.org"))
        #expect(decide(("Precedence", "Bulk")) == .skip(.precedence("bulk")))
        #expect(decide(("Precedence", "list")) == .skip(.precedence("list")))
        #expect(decide(("Precedence", "junk")) == .skip(.precedence("junk")))
        #expect(decide(("Precedence", "first-class")) == .respond(to: "sender@example.org"))
        for header in SieveVacationResponder.listHeaders {
            #expect(decide((header.uppercased(), "<x>")) == .skip(.mailingList(header: header)))
        }
    }

    @Test("no reply when none of the user's addresses is in To, Cc, Bcc, Resent-To or Resent-Cc")
    func addressed() {
        let notMine = fields([("From", "sender@example.org"), ("To", "all@example.com"), ("Subject", "x")])
        #expect(
            responder.decide(headerFields: notMine, envelope: envelope, request: request)
                == .skip(.notAddressed(recipient: "bob@example.com")))
        for header in SieveVacationResponder.recipientHeaders {
            let mine = notMine + fields([(header, "\"Bob\" <BOB@example.com>, other@example.com")])
            #expect(responder.decide(headerFields: mine, envelope: envelope, request: request) == .respond(to: "sender@example.org"))
        }
        var withAddresses = request
        withAddresses.addresses = ["all@example.com"]
        #expect(responder.decide(headerFields: notMine, envelope: envelope, request: withAddresses) == .respond(to: "sender@example.org"))
        var withFrom = request
        withFrom.from = "Team <all@example.com>"
        #expect(responder.decide(headerFields: notMine, envelope: envelope, request: withFrom) == .respond(to: "sender@example.org"))
        let detailed = SieveEnvelope(from: "sender@example.org", to: "bob+lists@example.com")
        #expect(responder.decide(headerFields: plain, envelope: detailed, request: request) == .respond(to: "sender@example.org"))
        let viaOriginal = SieveEnvelope(from: "sender@example.org", to: "bob@example.com", originalRecipient: "all@example.com")
        #expect(responder.decide(headerFields: notMine, envelope: viaOriginal, request: request) == .respond(to: "sender@example.org"))
    }

    @Test("the tracking key depends on the sender and the handle, and defaults to the reply's content")
    func trackingKeys() {
        let a = SieveVacationResponder.trackingKey(sender: "S@x", request: request)
        #expect(a == SieveVacationResponder.trackingKey(sender: "s@x", request: request))
        #expect(a != SieveVacationResponder.trackingKey(sender: "t@x", request: request))
        var otherReason = request
        otherReason.reason = "Back Monday."
        #expect(a != SieveVacationResponder.trackingKey(sender: "s@x", request: otherReason))
        var handled = request
        handled.handle = "h"
        var handledOtherReason = otherReason
        handledOtherReason.handle = "h"
        #expect(
            SieveVacationResponder.trackingKey(sender: "s@x", request: handled)
                == SieveVacationResponder.trackingKey(sender: "s@x", request: handledOtherReason))
        #expect(SieveVacationResponder.trackingKey(sender: "s@x", request: handled) == "vacation\u{0}s@x\u{0}handle:h")
    }

    @Test("the reply has Pigeonhole's header fields, a null envelope sender and the reason as text")
    func replyMessage() {
        var withSubject = request
        withSubject.subject = "Out of office"
        let mail = responder.reply(
            to: "sender@example.org", headerFields: plain + fields([("References", "<r0@x> <r1@x>")]),
            envelope: envelope, request: withSubject, now: Date(timeIntervalSince1970: 1_764_070_927))
        #expect(mail.sender == "")
        #expect(mail.recipients == ["sender@example.org"])
        #expect(mail.appendOriginal == false)
        #expect(
            stable(mail) == """
                X-Sieve: Homing Sieve
                From: <bob@example.com>
                To: Sender <sender@example.org>
                Subject: Out of office
                In-Reply-To: <m1@example.org>
                References: <r0@x> <r1@x> <m1@example.org>
                Auto-Submitted: auto-replied (vacation)
                Precedence: bulk
                X-Auto-Response-Suppress: All
                MIME-Version: 1.0
                Content-Type: text/plain; charset=utf-8
                Content-Transfer-Encoding: 8bit

                I am away.

                """)
        #expect(text(mail).contains("\r\nDate: Tue, 25 Nov 2025 11:42:07 +0000\r\n"))
        let id = text(mail).components(separatedBy: "\r\n").first { $0.hasPrefix("Message-ID: ") } ?? ""
        #expect(id.hasPrefix("Message-ID: <homing-sieve.1764070927."))
        #expect(id.hasSuffix("@mx.example.com>"))
    }

    @Test("the default subject is 'Auto: ' and the decoded original subject, or 'Automated reply'")
    func defaultSubject() {
        #expect(responder.subject(headerFields: plain, request: request) == "Auto: Lunch?")
        #expect(responder.subject(headerFields: fields([("To", "bob@example.com")]), request: request) == "Automated reply")
        let encoded = fields([("Subject", "=?utf-8?q?Caf=C3=A9?=")])
        #expect(responder.subject(headerFields: encoded, request: request) == "Auto: Café")
    }

    @Test("non-ASCII subject and :from display name are RFC 2047 encoded, References falls back to In-Reply-To")
    func encodedHeaders() {
        let original = fields([
            ("To", "bob@example.com"), ("Subject", "Ça va?"), ("Message-ID", "<m2@x>"), ("In-Reply-To", "<p@x>"),
        ])
        var fancy = request
        fancy.from = "Bób Smith <bob@example.com>"
        let mail = responder.reply(
            to: "sender@example.org", headerFields: original, envelope: envelope, request: fancy,
            now: Date(timeIntervalSince1970: 0))
        let lines = text(mail).components(separatedBy: "\r\n")
        #expect(lines.contains("From: =?utf-8?q?B=C3=B3b_Smith?= <bob@example.com>"))
        #expect(lines.contains("Subject: =?utf-8?q?Auto:_=C3=87a_va=3F?="))
        #expect(lines.contains("References: <p@x> <m2@x>"))
        #expect(lines.contains("Date: Thu, 1 Jan 1970 00:00:00 +0000"))
    }

    @Test("without a Message-ID there is no In-Reply-To or References")
    func noMessageID() {
        let mail = responder.reply(
            to: "sender@example.org", headerFields: fields([("To", "bob@example.com")]), envelope: envelope,
            request: request, now: Date(timeIntervalSince1970: 0))
        #expect(!text(mail).contains("In-Reply-To"))
        #expect(!text(mail).contains("References"))
    }

    @Test("a header value cannot inject a header line")
    func noInjection() {
        var evil = request
        evil.subject = "Hi\r\nBcc: victim@example.net"
        let mail = responder.reply(
            to: "sender@example.org", headerFields: plain, envelope: envelope, request: evil, now: Date(timeIntervalSince1970: 0))
        #expect(text(mail).contains("\r\nSubject: Hi Bcc: victim@example.net\r\n"))
    }

    @Test("a long subject is folded at white space")
    func folding() {
        let value = Array(repeating: "word", count: 30).joined(separator: " ")
        #expect(
            SieveOutgoingHeaders.field("Subject", value)
                == "Subject: " + Array(repeating: "word", count: 14).joined(separator: " ") + "\r\n "
                + Array(repeating: "word", count: 15).joined(separator: " ") + "\r\n " + "word\r\n")
    }

    @Test(":mime reasons are used as the entity, with LF turned into CRLF")
    func mimeReason() {
        var mime = request
        mime.mime = true
        mime.reason = "Content-Type: text/html; charset=utf-8\n\n<p>Away</p>\n"
        let mail = responder.reply(
            to: "sender@example.org", headerFields: plain, envelope: envelope, request: mime, now: Date(timeIntervalSince1970: 0))
        #expect(text(mail).hasSuffix("MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Away</p>\r\n"))
        #expect(
            SieveVacationResponder.mimeEntity("Just text\n")
                == Array("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nJust text\r\n".utf8))
    }

    @Test("a reason with a line over 998 octets is sent quoted-printable")
    func quotedPrintableReason() {
        let long = String(repeating: "é", count: 500) + " \nend"
        let entity = String(decoding: SieveVacationResponder.textEntity(long), as: UTF8.self)
        #expect(entity.hasPrefix("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"))
        let body = entity.components(separatedBy: "\r\n\r\n")[1]
        let lines = body.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(lines.first == String(repeating: "=C3=A9", count: 12) + "=")
        #expect(body.hasSuffix("=C3=A9=20\r\nend\r\n"))
        #expect(SieveVacationResponder.quotedPrintable(Array("a=b\r\n".utf8)) == Array("a=3Db\r\n".utf8))
    }

    @Test("prepare replies once per sender and period, remembered in the tracking store")
    func preparedWithStore() throws {
        let directory = NSTemporaryDirectory() + "sieve-vacation-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = SieveTrackingStore(home: directory)
        let now = Date(timeIntervalSince1970: 1_000_000)
        let first = try responder.prepare(headerFields: plain, envelope: envelope, request: request, now: now, store: store)
        guard case .send(let mail, let key) = first else {
            Issue.record("expected a reply, got \(first)")
            return
        }
        #expect(mail.recipients == ["sender@example.org"])
        #expect(key == SieveVacationResponder.trackingKey(sender: "sender@example.org", request: request))
        try store.record(key: key, period: request.period, now: now)
        let second = try responder.prepare(
            headerFields: plain, envelope: envelope, request: request, now: now.addingTimeInterval(86_400), store: store)
        #expect(second == .skip(.alreadyReplied("sender@example.org")))
        #expect(SieveVacationSkipReason.alreadyReplied("sender@example.org").description == "discarded duplicate vacation response to <sender@example.org>")
        let later = try responder.prepare(
            headerFields: plain, envelope: envelope, request: request, now: now.addingTimeInterval(7 * 86_400), store: store)
        guard case .send = later else {
            Issue.record("expected a reply after the period, got \(later)")
            return
        }
        let skipped = try responder.prepare(
            headerFields: plain + [SieveHeaderField(name: "Precedence", rawValue: "bulk")], envelope: envelope,
            request: request, now: now, store: store)
        #expect(skipped == .skip(.precedence("bulk")))
    }
}
