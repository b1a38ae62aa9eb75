import Foundation

/// The "delivered" delivery status notification (RFC 3464) a final delivery agent sends when
/// the sender asked `NOTIFY=SUCCESS` (RFC 3461): a `multipart/report;
/// report-type=delivery-status` with a human-readable part, the `message/delivery-status`
/// report, and the original message's header (`text/rfc822-headers`: RFC 3461 section 4.3
/// asks for no more than the header in a report of success, whatever `RET=` says). Pure:
/// the caller reads the header and sends the result with the null envelope sender.
public struct SuccessReport: Sendable, Hashable {
    /// One recipient the message was delivered to.
    public struct Recipient: Sendable, Hashable {
        /// The recipient as the sender addressed it (`ORCPT=`), with its type, when known.
        public var originalAddress: String?
        public var originalAddressType: String?
        /// The recipient the message was delivered to (the RCPT address).
        public var finalAddress: String
        /// Where it went, for the human-readable part (`delivered to mailbox INBOX`).
        public var detail: String

        public init(originalAddress: String?, originalAddressType: String? = nil, finalAddress: String, detail: String) {
            self.originalAddress = originalAddress
            self.originalAddressType = originalAddressType
            self.finalAddress = finalAddress
            self.detail = detail
        }
    }

    /// `Reporting-MTA` and the Message-ID's domain: the `hostname` setting.
    public var hostname: String
    /// The From address (`postmaster_address`), written `Mail Delivery System <address>`.
    public var fromAddress: String
    /// The envelope sender the report goes to.
    public var sender: String
    /// `ENVID=`, quoted as `Original-Envelope-Id`.
    public var envelopeID: String?
    /// When the message arrived.
    public var arrivalDate: Date
    public var recipients: [Recipient]
    /// The original message's header (LF or CRLF line ends).
    public var originalHeader: [UInt8]

    public init(
        hostname: String, fromAddress: String, sender: String, envelopeID: String?, arrivalDate: Date,
        recipients: [Recipient], originalHeader: [UInt8]
    ) {
        self.hostname = hostname
        self.fromAddress = fromAddress
        self.sender = sender
        self.envelopeID = envelopeID
        self.arrivalDate = arrivalDate
        self.recipients = recipients
        self.originalHeader = originalHeader
    }

    /// The report, CRLF line ends. `boundary` and `messageID` are for tests.
    public func compose(now: Date, boundary: String? = nil, messageID: String? = nil) -> [UInt8] {
        typealias F = ReportFormatting
        let separator = boundary ?? "homing-dsn-\(F.token())"
        var head = ""
        head += "Message-ID: \(messageID ?? F.messageID(hostname: hostname, now: now))\r\n"
        head += "Date: \(F.date(now))\r\n"
        head += "From: Mail Delivery System <\(F.singleLine(fromAddress))>\r\n"
        head += "To: <\(F.singleLine(sender))>\r\n"
        head += "Subject: Successful Mail Delivery Report\r\n"
        head += "Auto-Submitted: auto-replied\r\n"
        head += "MIME-Version: 1.0\r\n"
        head += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"\(separator)\"\r\n"
        head += "\r\nThis is a MIME-encapsulated message.\r\n\r\n"

        head += "--\(separator)\r\n"
        head += "Content-Description: Notification\r\n"
        head += "Content-Type: text/plain; charset=utf-8\r\n"
        head += "Content-Transfer-Encoding: 8bit\r\n\r\n"
        head += "This is the mail delivery agent at \(F.singleLine(hostname)).\r\n\r\n"
        head += "Your message was delivered to the following recipient\(recipients.count == 1 ? "" : "s"),\r\n"
        head += "as you asked to be told. No further notification will follow.\r\n\r\n"
        for recipient in recipients {
            head += "<\(F.singleLine(recipient.originalAddress ?? recipient.finalAddress))>: \(F.singleLine(recipient.detail))\r\n"
        }
        head += "\r\n--\(separator)\r\n"
        head += "Content-Description: Delivery report\r\n"
        head += "Content-Type: message/delivery-status\r\n\r\n"
        head += "Reporting-MTA: dns; \(F.singleLine(hostname))\r\n"
        if let envelopeID { head += "Original-Envelope-Id: \(F.singleLine(envelopeID))\r\n" }
        head += "Arrival-Date: \(F.date(arrivalDate))\r\n"
        for recipient in recipients {
            head += "\r\n"
            if let original = recipient.originalAddress {
                head += "Original-Recipient: \(F.typedAddress(original, type: recipient.originalAddressType))\r\n"
            }
            head += "Final-Recipient: \(F.typedAddress(recipient.finalAddress))\r\n"
            head += "Action: delivered\r\n"
            head += "Status: 2.0.0\r\n"
        }
        head += "\r\n--\(separator)\r\n"
        var content = Array(head.utf8)
        content += F.headersPart(originalHeader, description: "Message Headers")
        content += Array("\r\n--\(separator)--\r\n".utf8)
        return content
    }
}
