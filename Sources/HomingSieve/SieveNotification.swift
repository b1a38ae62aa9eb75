import Foundation

/// One `notify` action (RFC 5435) with the `mailto` method (RFC 5436), its notification
/// message already composed: delivery only submits `mail` (as it submits a vacation reply).
public struct SieveNotification: Sendable, Hashable {
    /// What delivery does with the notification.
    public enum Delivery: Sendable, Hashable {
        /// Submit this message (envelope and content ready); log
        /// `sent mail notification to <recipients>` once it was accepted.
        case send(SieveOutgoingMail)
        /// Send nothing; log the reason.
        case skip(SieveNotificationSkipReason)
    }

    /// The method URI as the script gave it (`mailto:alice@example.org?subject=...`).
    public var method: String
    /// `:importance`: 1 (high), 2 (normal, the default) or 3 (low).
    public var importance: Int
    /// `:from`, when given.
    public var from: String?
    /// `:message`, when given (the notification's subject).
    public var message: String?
    /// The recipients after duplicates of earlier notifications were removed (RFC 5436
    /// section 2.7: no duplicate notifications to the same address from one script run).
    public var recipients: [SieveMailtoURI.Recipient]
    /// The URI's other header fields.
    public var headers: [SieveHeaderField]
    /// The URI's `subject=`.
    public var subject: String?
    /// The URI's `body=`.
    public var body: String?
    /// What to do.
    public var delivery: Delivery
}

/// Why a notification is not sent.
public enum SieveNotificationSkipReason: Sendable, Hashable, CustomStringConvertible {
    /// The message has `Auto-Submitted` with a value other than `no` (RFC 5436 section 2.7).
    case autoSubmitted(sender: String)
    /// The URI names no recipient.
    case noRecipients

    /// The log line, in Pigeonhole's words.
    public var description: String {
        switch self {
        case .autoSubmitted(let sender):
            return "not sending notification for auto-submitted message"
                + (sender.isEmpty ? "" : " from <\(sender)>")
        case .noRecipients:
            return "notify mailto uri specifies no recipients; action has no effect"
        }
    }
}

/// What a script's `notify` asked for, before duplicates are removed and the message composed.
struct SieveNotifyRequest: Sendable, Hashable {
    var method: String
    var importance: Int
    var from: String?
    var message: String?
    var uri: SieveMailtoURI
}

/// Composes `mailto` notification messages as Pigeonhole does (RFC 5436 section 2.7):
///
/// - no notification for a message with `Auto-Submitted` other than `no` (loop avoidance);
///   a message from the null sender does trigger one, sent with the null sender itself;
/// - envelope sender: `<>` when the triggering message came from `<>`; otherwise `:from`'s
///   address, else `sieve_user_email`, else the postmaster address;
/// - `From:` is `:from` as written, else `<sieve_user_email>`, else the postmaster
///   (`Postmaster <postmaster@host>`);
/// - `Subject:` is `:message`, else the URI's `subject`, else `Notification: ` and the
///   triggering message's subject (decoded), else `Notification: (no subject)`; cut to 256
///   octets;
/// - `Auto-Submitted: auto-notified; owner-email="..."` (the user's address), `Precedence:
///   bulk`, `X-Priority`/`Importance` from `:importance`, the URI's own header fields, and the
///   URI's `body` (or "Notification of new message.") as text/plain.
struct SieveNotifyComposer {
    var hostname: String
    var postmasterAddress: String
    var userEmail: String?

    /// The most octets of a subject (Pigeonhole's `NTFY_MAILTO_MAX_SUBJECT`).
    static let maxSubject = 256

    func notification(
        for request: SieveNotifyRequest, headerFields: [SieveHeaderField], envelope: SieveEnvelope, now: Date
    ) -> SieveNotification {
        var result = SieveNotification(
            method: request.method, importance: request.importance, from: request.from, message: request.message,
            recipients: request.uri.recipients, headers: request.uri.headers, subject: request.uri.subject,
            body: request.uri.body, delivery: .skip(.noRecipients))
        let sender = envelope.from.trimmingCharacters(in: .whitespaces)
        let nullSender = sender.isEmpty || sender == "<>"
        for field in headerFields where field.name.lowercased() == "auto-submitted" {
            if field.rawValue.trimmingCharacters(in: .whitespaces).lowercased() != "no" {
                result.delivery = .skip(.autoSubmitted(sender: nullSender ? "" : sender))
                return result
            }
        }
        guard !request.uri.recipients.isEmpty else { return result }
        result.delivery = .send(mail(for: request, headerFields: headerFields, envelope: envelope, now: now))
        return result
    }

    private func mail(
        for request: SieveNotifyRequest, headerFields: [SieveHeaderField], envelope: SieveEnvelope, now: Date
    ) -> SieveOutgoingMail {
        typealias H = SieveOutgoingHeaders
        let sender = envelope.from.trimmingCharacters(in: .whitespaces)
        let nullSender = sender.isEmpty || sender == "<>"
        let fromAddress = request.from.map(H.bareAddress)
        let envelopeSender = nullSender ? "" : (fromAddress ?? userEmail ?? postmasterAddress)
        let fromHeader: String
        if let from = request.from {
            fromHeader = H.encodeAddress(from)
        } else if let userEmail {
            fromHeader = "<\(userEmail)>"
        } else {
            fromHeader = "Postmaster <\(postmasterAddress)>"
        }
        let subject: String
        if let message = request.message {
            subject = SieveText.sanitized(message, maxOctets: Self.maxSubject)
        } else if let uriSubject = request.uri.subject {
            subject = uriSubject
        } else if let original = H.first("Subject", in: headerFields) {
            subject = SieveText.sanitized("Notification: " + SieveHeaderDecoder.decode(original), maxOctets: Self.maxSubject)
        } else {
            subject = "Notification: (no subject)"
        }
        let to = request.uri.recipients.filter { !$0.carbonCopy }.map(\.full)
        let cc = request.uri.recipients.filter(\.carbonCopy).map(\.full)
        let owner = userEmail ?? (envelope.to.isEmpty ? postmasterAddress : envelope.to)
        var head = ""
        head += H.field("X-Sieve", H.implementation)
        head += H.field("Message-ID", H.messageID(hostname: hostname, now: now))
        head += H.field("Date", H.date(now))
        head += H.field("Subject", H.encodeUnstructured(subject))
        head += H.field("From", fromHeader)
        if !to.isEmpty { head += H.field("To", to.map(H.singleLine).joined(separator: ", ")) }
        if !cc.isEmpty { head += H.field("Cc", cc.map(H.singleLine).joined(separator: ", ")) }
        head += H.field("Auto-Submitted", "auto-notified; owner-email=\"\(H.singleLine(owner))\"")
        head += H.field("Precedence", "bulk")
        switch request.importance {
        case 1:
            head += H.field("X-Priority", "1 (Highest)") + H.field("Importance", "High")
        case 3:
            head += H.field("X-Priority", "5 (Lowest)") + H.field("Importance", "Low")
        default:
            head += H.field("X-Priority", "3 (Normal)") + H.field("Importance", "Normal")
        }
        for field in request.uri.headers {
            head += H.field(SieveHeaderEncoding.sanitizedName(field.name), H.singleLine(field.rawValue))
        }
        head += H.field("MIME-Version", "1.0")
        var content = Array(head.utf8)
        if let body = request.uri.body {
            let eightBit = body.utf8.contains { $0 >= 0x80 }
            content += Array(
                (eightBit
                    ? "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
                    : "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n").utf8)
            content += [13, 10] + H.crlf(body)
        } else {
            content += Array(
                "Content-Type: text/plain; charset=US-ASCII\r\nContent-Transfer-Encoding: 7bit\r\n\r\nNotification of new message.\r\n"
                    .utf8)
        }
        return SieveOutgoingMail(
            sender: envelopeSender, recipients: request.uri.recipients.map(\.address), content: content)
    }
}
