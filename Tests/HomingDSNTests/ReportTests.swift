import Foundation
import Glibc
import HomingDSN
import HomingDelivery
import HomingMaildir
import HomingSubmission
import HomingTestSupport
import NIOPosix
import Testing

/// A minimal MIME reader for the reports: the top header and the parts between boundaries.
struct ParsedReport {
    var header: [String: String] = [:]
    var parts: [(header: [String: String], body: String)] = []

    init(_ bytes: [UInt8]) throws {
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("\n") || !text.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "bare LF in the report")
        let unix = text.replacingOccurrences(of: "\r\n", with: "\n")
        let split = try #require(unix.range(of: "\n\n"))
        header = Self.fields(String(unix[..<split.lowerBound]))
        let contentType = try #require(header["content-type"])
        let boundary = try #require(contentType.components(separatedBy: "boundary=\"").last?.split(separator: "\"").first)
        let body = String(unix[split.upperBound...])
        let chunks = body.components(separatedBy: "--\(boundary)")
        #expect(chunks.last?.hasPrefix("--") == true, "no closing boundary")
        for chunk in chunks.dropFirst().dropLast() {
            let part = chunk.hasPrefix("\n") ? String(chunk.dropFirst()) : chunk
            let end = part.range(of: "\n\n") ?? part.range(of: "\n")
            let partHeader = end.map { String(part[..<$0.lowerBound]) } ?? ""
            let partBody = end.map { String(part[$0.upperBound...]) } ?? part
            parts.append((Self.fields(partHeader), partBody))
        }
    }

    /// Header fields, names lower-cased, folded lines joined.
    static func fields(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var last: String?
        for line in text.split(separator: "\n") {
            if line.first == " " || line.first == "\t", let name = last {
                result[name, default: ""] += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            result[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            last = name
        }
        return result
    }
}

@Suite("Homing's reports: the success DSN and dovecot-lda's rejection")
struct ReportTests {
    static let header = Array("From: Sender <sender@example.org>\nTo: all@example.com\nSubject: hi\nMessage-ID: <m1@example.org>\nContent-Type: text/plain\n".utf8)

    @Test("the success report is a well-formed RFC 3464 multipart/report: delivered, 2.0.0, original and final recipient, the header only")
    func successReport() throws {
        let report = SuccessReport(
            hostname: "mx.example.com", fromAddress: "postmaster@example.com", sender: "sender@example.org",
            envelopeID: "QQ314159", arrivalDate: Date(timeIntervalSince1970: 1_800_000_000),
            recipients: [.init(originalAddress: "all@example.com", finalAddress: "alice@example.com", detail: "delivered to mailbox")],
            originalHeader: Self.header)
        let parsed = try ParsedReport(report.compose(now: Date(timeIntervalSince1970: 1_800_000_001)))
        #expect(parsed.header["to"] == "<sender@example.org>")
        #expect(parsed.header["from"] == "Mail Delivery System <postmaster@example.com>")
        #expect(parsed.header["auto-submitted"] == "auto-replied")
        #expect(parsed.header["mime-version"] == "1.0")
        #expect(parsed.header["content-type"]?.hasPrefix("multipart/report; report-type=delivery-status;") == true)
        #expect(parsed.header["message-id"]?.hasSuffix("@mx.example.com>") == true)
        try #require(parsed.parts.count == 3)
        #expect(parsed.parts[0].header["content-type"] == "text/plain; charset=utf-8")
        #expect(parsed.parts[0].body.contains("<all@example.com>: delivered to mailbox"))
        #expect(parsed.parts[1].header["content-type"] == "message/delivery-status")
        let groups = parsed.parts[1].body.components(separatedBy: "\n\n").filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        try #require(groups.count == 2, "\(groups)")
        let message = ParsedReport.fields(groups[0])
        #expect(message["reporting-mta"] == "dns; mx.example.com")
        #expect(message["original-envelope-id"] == "QQ314159")
        #expect(message["arrival-date"] != nil)
        let recipient = ParsedReport.fields(groups[1])
        #expect(recipient["original-recipient"] == "rfc822; all@example.com")
        #expect(recipient["final-recipient"] == "rfc822; alice@example.com")
        #expect(recipient["action"] == "delivered")
        #expect(recipient["status"] == "2.0.0")
        #expect(parsed.parts[2].header["content-type"] == "text/rfc822-headers")
        #expect(parsed.parts[2].body.contains("Message-ID: <m1@example.org>\n"))
        #expect(parsed.parts[2].body.contains("Subject: hi\n"))
    }

    @Test("without ORCPT or ENVID the report has no Original-Recipient or Original-Envelope-Id; 8-bit headers are marked 8bit")
    func successReportMinimal() throws {
        let report = SuccessReport(
            hostname: "mx.example.com", fromAddress: "postmaster@example.com", sender: "s@example.org", envelopeID: nil,
            arrivalDate: Date(), recipients: [.init(originalAddress: nil, finalAddress: "bob@example.com", detail: "delivered to mailbox")],
            originalHeader: Array("Subject: Grüße\n".utf8))
        let text = String(decoding: report.compose(now: Date()), as: UTF8.self)
        #expect(!text.contains("Original-Recipient"))
        #expect(!text.contains("Original-Envelope-Id"))
        #expect(text.contains("Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 8bit\r\n"))
    }

    @Test("the rejection report is laid out as dovecot-lda 2.3.19.1's, Content-Type dropped from the quoted header")
    func rejectionReport() {
        let report = RejectionReport(
            hostname: "mx.example.com", postmasterAddress: "postmaster@example.com", sender: "sender@example.org",
            recipient: "small@example.com", reason: "Quota exceeded (mailbox for user is full)", mailboxFull: true,
            originalHeader: Self.header)
        #expect(report.skipReason == nil)
        let text = String(decoding: report.compose(now: Date(), boundary: "31015/mx.example.com", messageID: "<id@vm>"), as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n").filter { !$0.hasPrefix("Date: ") }
        #expect(lines == [
            "Message-ID: <id@vm>",
            "From: Postmaster <postmaster@example.com>",
            "To: <sender@example.org>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=delivery-status;",
            "\tboundary=\"31015/mx.example.com\"",
            "Subject: Rejected: hi",
            "Auto-Submitted: auto-replied (rejected)",
            "Precedence: bulk",
            "",
            "This is a MIME-encapsulated message",
            "",
            "--31015/mx.example.com",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Disposition: inline",
            "Content-Transfer-Encoding: 8bit",
            "",
            "Your message to <small@example.com> was automatically rejected:",
            "Quota exceeded (mailbox for user is full)",
            "--31015/mx.example.com",
            "Content-Type: message/delivery-status",
            "",
            "Reporting-MTA: dns; mx.example.com",
            "Final-Recipient: rfc822; small@example.com",
            "Action: failed",
            "Status: 5.2.2",
            "",
            "--31015/mx.example.com",
            "Content-Type: message/rfc822",
            "",
            "From: Sender <sender@example.org>",
            "To: all@example.com",
            "Subject: hi",
            "Message-ID: <m1@example.org>",
            "",
            "",
            "",
            "--31015/mx.example.com--",
            "",
        ])
    }

    @Test("no rejection goes to the null sender or answers an automatic message; 5.2.0 when the mailbox is not full")
    func rejectionSkips() {
        func report(sender: String, header: String, full: Bool = true) -> RejectionReport {
            RejectionReport(hostname: "h", postmasterAddress: "p@h", sender: sender, recipient: "r@h", reason: "no", mailboxFull: full,
                            originalHeader: Array(header.utf8))
        }
        #expect(report(sender: "", header: "Subject: x\n").skipReason == "Return-Path missing")
        #expect(report(sender: "<>", header: "Subject: x\n").skipReason == "Return-Path missing")
        #expect(report(sender: "a@b", header: "Auto-Submitted: auto-replied\n").skipReason == "Auto-submitted message discarded")
        #expect(report(sender: "a@b", header: "Auto-Submitted: no\n").skipReason == nil)
        let text = String(decoding: report(sender: "a@b", header: "Subject: x\n", full: false).compose(now: Date()), as: UTF8.self)
        #expect(text.contains("\r\nStatus: 5.2.0\r\n"))
    }

    @Test("the header of a spooled message is read up to its empty line, whole lines within the limit")
    func headerBlock() throws {
        let scratch = try ScratchDirectory("homing-dsn")
        defer { scratch.remove() }
        let path = try scratch.write("spool", "Subject: a\nX-Long: b\n c\n\nbody\n\nmore\n")
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let spool = SpooledMessage(fileDescriptor: fd, size: 35, lineFeeds: 7)
        #expect(String(decoding: MessageHeaderBlock.read(from: spool), as: UTF8.self) == "Subject: a\nX-Long: b\n c\n")
        #expect(String(decoding: MessageHeaderBlock.read(from: spool, limit: 15), as: UTF8.self) == "Subject: a\n")
        #expect(MessageHeaderBlock.firstField("x-long", in: MessageHeaderBlock.read(from: spool)) == "b c")
        #expect(MessageHeaderBlock.firstField("To", in: MessageHeaderBlock.read(from: spool)) == nil)
    }
}

/// Records submissions.
final class RecordingSubmitter: MailSubmitter, Sendable {
    let sent = Locked<[(message: [UInt8], from: String, to: [String])]>([])
    func submit(_ message: OutgoingMessage, from sender: String, to recipients: [String]) throws(SubmissionError) {
        sent.withValue { $0.append((message.prefix, sender, recipients)) }
    }
}

@Suite("SuccessNotifier")
struct SuccessNotifierTests {
    @Test("a NOTIFY=SUCCESS delivery sends one report from the null sender to the envelope sender, quoting the spooled header")
    func sendsReport() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let submitter = RecordingSubmitter()
        let notifier = SuccessNotifier(
            hostname: "mx.example.com", fromAddress: "postmaster@example.com",
            submitter: NotificationSubmitter(submitter: submitter), threadPool: NIOThreadPool.singleton, logger: harness.logs.logger)
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")], notifier: notifier)
        let envelope = DeliveryEnvelope(sessionID: "S", sender: "sender@example.org", envelopeID: "E1")
        let recipient = EnvelopeRecipient(address: "alice@example.com", originalAddress: "all@example.com", logID: "S", notify: [.success])
        guard case .accepted(let user) = await delivery.checkRecipient(recipient, envelope: envelope) else {
            Issue.record("not accepted")
            return
        }
        let spool = try await delivery.makeSpool(for: envelope)
        try await spool.write(.init(string: "Subject: hello\r\nMessage-ID: <x@y>\r\n\r\nsecret body\r\n"))
        #expect(await delivery.deliver(spool, to: [.init(recipient: recipient, user: user)], envelope: envelope) == [.stored(mailboxes: ["INBOX"])])
        let sent = submitter.sent.current
        try #require(sent.count == 1)
        #expect(sent[0].from == "")
        #expect(sent[0].to == ["sender@example.org"])
        let parsed = try ParsedReport(sent[0].message)
        #expect(parsed.parts.last?.body.contains("Subject: hello\n") == true)
        #expect(parsed.parts.last?.body.contains("secret body") == false)
        #expect(parsed.parts[1].body.contains("Original-Envelope-Id: E1"))
        #expect(parsed.parts[1].body.contains("Original-Recipient: rfc822; all@example.com"))
    }

    @Test("a message from the null sender gets no report")
    func nullSender() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let submitter = RecordingSubmitter()
        let notifier = SuccessNotifier(
            hostname: "mx.example.com", fromAddress: "postmaster@example.com",
            submitter: NotificationSubmitter(submitter: submitter), threadPool: NIOThreadPool.singleton, logger: harness.logs.logger)
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")], notifier: notifier)
        let envelope = DeliveryEnvelope(sessionID: "S", sender: "")
        let recipient = EnvelopeRecipient(address: "alice@example.com", logID: "S", notify: [.success])
        guard case .accepted(let user) = await delivery.checkRecipient(recipient, envelope: envelope) else { return }
        let spool = try await delivery.makeSpool(for: envelope)
        try await spool.write(.init(string: "Subject: bounce\r\n\r\nx\r\n"))
        _ = await delivery.deliver(spool, to: [.init(recipient: recipient, user: user)], envelope: envelope)
        #expect(submitter.sent.current.isEmpty)
    }
}
