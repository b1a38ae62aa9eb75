import Foundation

/// The outcome of composing a rejection.
public enum SieveRejectOutcome: Sendable, Hashable {
    /// Send this message (envelope sender `<>`, to the original envelope sender).
    case send(SieveOutgoingMail)
    /// Send nothing: the rejected message had the null envelope sender (a bounce must not be
    /// answered). The message is still refused (not stored); log the reason.
    case skipNullSender
}

/// Builds the message `reject` sends (RFC 5429 section 2.1.1): an MDN (RFC 8098, formerly
/// RFC 3798) `multipart/report; report-type=disposition-notification` with a human-readable
/// part, a `message/disposition-notification` part and the original header as
/// `text/rfc822-headers`. Like Pigeonhole, it is sent from the postmaster to the envelope
/// sender, with the null envelope sender, and with Dovecot's `rejection_subject` and
/// `rejection_reason` texts.
public struct SieveRejectComposer: Sendable {
    /// `postmaster_address`: the From address (written `Postmaster <address>`).
    public var postmasterAddress: String
    /// The host name for Message-ID and Reporting-UA (`hostname` setting).
    public var hostname: String
    /// Dovecot's `rejection_subject` (default `Rejected: %s`; `%s` is the original subject).
    public var subjectTemplate: String
    /// Dovecot's `rejection_reason` (default `Your message to <%t> was automatically rejected:%n%r`;
    /// `%t` recipient, `%r` reason, `%s` subject, `%n` line end, `%%` a percent sign).
    public var reasonTemplate: String

    /// Dovecot's default `rejection_subject`.
    public static let defaultSubjectTemplate = "Rejected: %s"
    /// Dovecot's default `rejection_reason`.
    public static let defaultReasonTemplate = "Your message to <%t> was automatically rejected:%n%r"

    /// Creates a composer.
    public init(
        postmasterAddress: String, hostname: String, subjectTemplate: String = Self.defaultSubjectTemplate,
        reasonTemplate: String = Self.defaultReasonTemplate
    ) {
        self.postmasterAddress = postmasterAddress
        self.hostname = hostname
        self.subjectTemplate = subjectTemplate
        self.reasonTemplate = reasonTemplate
    }

    /// The rejection of the message with `headerFields`, delivered to `envelope.to`, for
    /// `reason` (the script's text). `boundary` is for tests; by default a random one is made.
    public func compose(
        reason: String, headerFields: [SieveHeaderField], envelope: SieveEnvelope, now: Date,
        boundary: String? = nil
    ) -> SieveRejectOutcome {
        typealias H = SieveOutgoingHeaders
        let sender = envelope.from.trimmingCharacters(in: .whitespaces)
        if sender.isEmpty || sender == "<>" { return .skipNullSender }
        let originalSubject = H.first("Subject", in: headerFields).map { H.singleLine(SieveHeaderDecoder.decode($0)) } ?? ""
        let separator =
            boundary ?? "homing-sieve-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))-\(SieveTrackingStore.seconds(now))"
        let from =
            postmasterAddress.contains("<") ? H.encodeAddress(postmasterAddress) : "Postmaster <\(H.singleLine(postmasterAddress))>"
        var head = ""
        head += H.field("X-Sieve", H.implementation)
        head += H.field("Message-ID", H.messageID(hostname: hostname, now: now))
        head += H.field("Date", H.date(now))
        head += H.field("From", from)
        head += H.field("To", H.encodeAddress(sender))
        let subject = expand(subjectTemplate, recipient: envelope.to, reason: reason, subject: originalSubject)
        head += H.field("Subject", H.encodeUnstructured(subject))
        head += H.field("Auto-Submitted", "auto-replied (rejected)")
        head += H.field("Precedence", "bulk")
        head += H.field("MIME-Version", "1.0")
        head += "Content-Type: multipart/report; report-type=disposition-notification;\r\n\tboundary=\"\(separator)\"\r\n"
        head += "\r\nThis is a MIME-encapsulated message\r\n\r\n"
        var content = Array(head.utf8)

        content += Array("--\(separator)\r\n".utf8)
        let human = expand(reasonTemplate, recipient: envelope.to, reason: reason, subject: originalSubject)
        content += SieveVacationResponder.textEntity(human, disposition: "inline")

        content += Array("\r\n--\(separator)\r\n".utf8)
        var report = "Content-Type: message/disposition-notification\r\n\r\n"
        report += "Reporting-UA: \(H.singleLine(hostname)); \(H.implementation)\r\n"
        if let original = envelope.originalRecipient, !original.isEmpty {
            report += "Original-Recipient: rfc822; \(H.singleLine(original))\r\n"
        }
        report += "Final-Recipient: rfc822; \(H.singleLine(envelope.to))\r\n"
        if let messageID = H.first("Message-ID", in: headerFields).flatMap(H.firstMessageID) {
            report += "Original-Message-ID: \(messageID)\r\n"
        }
        report += "Disposition: automatic-action/MDN-sent-automatically; deleted\r\n"
        content += Array(report.utf8)

        let eightBit = headerFields.contains { field in field.rawValue.utf8.contains { $0 >= 0x80 } }
        content += Array("\r\n--\(separator)\r\nContent-Type: text/rfc822-headers\r\n".utf8)
        if eightBit { content += Array("Content-Transfer-Encoding: 8bit\r\n".utf8) }
        content += [13, 10]
        for field in headerFields {
            // Values are unfolded; fold them again so no line exceeds SMTP's limit.
            content += Array(H.field(field.name, H.singleLine(field.rawValue)).utf8)
        }
        content += Array("\r\n--\(separator)--\r\n".utf8)
        return .send(SieveOutgoingMail(sender: "", recipients: [sender], content: content))
    }

    /// Expands Dovecot's rejection variables.
    func expand(_ template: String, recipient: String, reason: String, subject: String) -> String {
        var out = ""
        var iterator = template.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else {
                out.append(character)
                continue
            }
            switch iterator.next() {
            case "n": out += "\n"
            case "r": out += reason
            case "s": out += subject
            case "t": out += recipient
            case "%": out += "%"
            case let other?: out += "%" + String(other)
            case nil: out += "%"
            }
        }
        return out
    }
}
