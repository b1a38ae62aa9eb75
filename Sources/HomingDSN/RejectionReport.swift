import Foundation

/// The report dovecot-lda sends when it refuses a message for good and was not started with
/// `-e` (Dovecot's `mail_send_rejection` in its DSN form, observed from Debian's dovecot-lda
/// 2.3.19.1): a `multipart/report; report-type=delivery-status` from the postmaster to the
/// envelope sender with the null envelope sender, `Subject: Rejected: <subject>`, the text
/// `Your message to <rcpt> was automatically rejected:` and the reason, a
/// `message/delivery-status` part with `Action: failed` and `Status: 5.2.2` for a full mailbox
/// (`5.2.0` otherwise), and the original header (without `Content-Type`). Pure.
public struct RejectionReport: Sendable, Hashable {
    /// `hostname`: `Reporting-MTA` and the boundary.
    public var hostname: String
    /// `postmaster_address`, written `Postmaster <address>`.
    public var postmasterAddress: String
    /// The envelope sender the report goes to.
    public var sender: String
    /// The recipient that refused the message (the final envelope recipient).
    public var recipient: String
    /// Why (the reply text: `Quota exceeded (mailbox for user is full)`).
    public var reason: String
    /// Whether the user's mailbox is full (`Status: 5.2.2`).
    public var mailboxFull: Bool
    /// The original message's header.
    public var originalHeader: [UInt8]

    public init(
        hostname: String, postmasterAddress: String, sender: String, recipient: String, reason: String, mailboxFull: Bool,
        originalHeader: [UInt8]
    ) {
        self.hostname = hostname
        self.postmasterAddress = postmasterAddress
        self.sender = sender
        self.recipient = recipient
        self.reason = reason
        self.mailboxFull = mailboxFull
        self.originalHeader = originalHeader
    }

    /// Why no report is sent, when none may be: the message has the null sender (a report to a
    /// report), or is itself automatic (`Auto-Submitted:` other than `no`), as Dovecot decides.
    public var skipReason: String? {
        let trimmed = sender.trimmingCharacters(in: " <>")
        if trimmed.isEmpty { return "Return-Path missing" }
        if let auto = MessageHeaderBlock.firstField("Auto-Submitted", in: originalHeader), auto.lowercased() != "no" {
            return "Auto-submitted message discarded"
        }
        return nil
    }

    /// The report, CRLF line ends. `boundary` and `messageID` are for tests.
    public func compose(now: Date, boundary: String? = nil, messageID: String? = nil) -> [UInt8] {
        typealias F = ReportFormatting
        let separator = boundary ?? "\(getpid())/\(F.singleLine(hostname))"
        let subject = MessageHeaderBlock.firstField("Subject", in: originalHeader).map(F.singleLine) ?? ""
        var head = ""
        head += "Message-ID: \(messageID ?? F.messageID(hostname: hostname, now: now))\r\n"
        head += "Date: \(F.date(now))\r\n"
        head += "From: Postmaster <\(F.singleLine(postmasterAddress))>\r\n"
        head += "To: <\(F.singleLine(sender))>\r\n"
        head += "MIME-Version: 1.0\r\n"
        head += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"\(separator)\"\r\n"
        head += "Subject: Rejected: \(subject.count > 80 ? String(subject.prefix(80)) : subject)\r\n"
        head += "Auto-Submitted: auto-replied (rejected)\r\n"
        head += "Precedence: bulk\r\n"
        head += "\r\nThis is a MIME-encapsulated message\r\n\r\n"
        head += "--\(separator)\r\n"
        head += "Content-Type: text/plain; charset=utf-8\r\n"
        head += "Content-Disposition: inline\r\n"
        head += "Content-Transfer-Encoding: 8bit\r\n\r\n"
        head += "Your message to <\(F.singleLine(recipient))> was automatically rejected:\r\n"
        head += F.singleLine(reason) + "\r\n"
        head += "--\(separator)\r\n"
        head += "Content-Type: message/delivery-status\r\n\r\n"
        head += "Reporting-MTA: dns; \(F.singleLine(hostname))\r\n"
        if let original = MessageHeaderBlock.firstField("Original-Recipient", in: originalHeader) {
            head += "Original-Recipient: rfc822; \(F.singleLine(original))\r\n"
        }
        head += "Final-Recipient: rfc822; \(F.singleLine(recipient))\r\n"
        head += "Action: failed\r\n"
        head += "Status: \(mailboxFull ? "5.2.2" : "5.2.0")\r\n"
        head += "\r\n--\(separator)\r\nContent-Type: message/rfc822\r\n\r\n"
        var content = Array(head.utf8)
        // The header with its ending empty line, as Dovecot's header stream gives it.
        content += F.crlf(Self.withoutContentType(originalHeader)) + [13, 10]
        content += Array("\r\n\r\n--\(separator)--\r\n".utf8)
        return content
    }

    /// The header without its `Content-Type` field (the body is not included, so a multipart
    /// type would mislead MIME parsers: Dovecot drops it for the same reason).
    static func withoutContentType(_ header: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var skipping = false
        for line in header.split(separator: 10, omittingEmptySubsequences: false).dropLast(header.last == 10 ? 1 : 0) {
            let continuation = line.first == 32 || line.first == 9
            if !continuation {
                let name = line.prefix(13).map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }
                skipping = name == Array("content-type:".utf8)
            }
            if !skipping { out += line + [10] }
        }
        return out
    }
}
