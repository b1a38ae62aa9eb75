import Foundation

/// The trace headers Homing prepends to each stored copy, as Dovecot's LMTP does:
/// `Return-Path`, `Delivered-To` and `Received`, LF line ends.
public struct DeliveryHeaders: Sendable, Hashable {
    /// The envelope sender without brackets; empty for the null sender.
    public var returnPath: String
    /// `Delivered-To:` value, or `nil` to leave it out (several recipients, or
    /// `lmtp_hdr_delivery_address = none`).
    public var deliveredTo: String?
    /// The `Received:` header, or `nil` when `lmtp_add_received_header = no`.
    public var received: Received?

    public init(returnPath: String, deliveredTo: String?, received: Received?) {
        self.returnPath = returnPath
        self.deliveredTo = deliveredTo
        self.received = received
    }

    /// What goes into the `Received:` header.
    public struct Received: Sendable, Hashable {
        /// The LHLO argument (`unknown` when the client sent none).
        public var from: String
        /// The client's IP address for TCP connections.
        public var remoteIP: String?
        /// Our host name (`hostname` setting).
        public var by: String
        /// The protocol the message arrived over (`LMTP`).
        public var with: String
        /// The session id of the transaction.
        public var id: String
        /// The envelope sender, empty for the null sender.
        public var envelopeFrom: String
        /// The recipient for the `for <...>` clause (only with exactly one recipient).
        public var forRecipient: String?
        /// When the message was received.
        public var date: Date

        public init(
            from: String, remoteIP: String?, by: String, with: String = "LMTP", id: String, envelopeFrom: String,
            forRecipient: String?, date: Date
        ) {
            self.from = from
            self.remoteIP = remoteIP
            self.by = by
            self.with = with
            self.id = id
            self.envelopeFrom = envelopeFrom
            self.forRecipient = forRecipient
            self.date = date
        }
    }

    /// The header block, each header ended by LF, ready to prepend to the message.
    public var text: String {
        "Return-Path: <\(returnPath)>\n" + forwardedText
    }

    /// The block without `Return-Path` (`Delivered-To` and `Received`): what a copy passed on
    /// from this delivery carries (Pigeonhole's redirect drops `Return-Path`, which the next
    /// hop sets from its own envelope).
    public var forwardedText: String {
        var out = ""
        if let deliveredTo { out += "Delivered-To: \(deliveredTo)\n" }
        if let received {
            out += "Received: from \(received.from)"
            if let ip = received.remoteIP { out += " ([\(ip)])" }
            out += "\n\tby \(received.by) with \(received.with)\n\tid \(received.id)\n"
            out += "\t(envelope-from <\(received.envelopeFrom)>)"
            if let rcpt = received.forRecipient {
                out += "\n\tfor <\(rcpt)>"
            }
            out += "; \(Self.rfc5322Date(received.date))\n"
        }
        return out
    }

    /// The header block as bytes.
    public var bytes: [UInt8] { Array(text.utf8) }

    /// `Tue, 24 Nov 2026 22:09:21 +0000`, in the local time zone, English names whatever the locale.
    public static func rfc5322Date(_ date: Date, timeZone: TimeZone = .current) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let offset = timeZone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) / 60
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        let weekday = days[((c.weekday ?? 1) - 1) % 7]
        let month = months[((c.month ?? 1) - 1) % 12]
        return "\(weekday), \(two(c.day ?? 1)) \(month) \(c.year ?? 1970) "
            + "\(two(c.hour ?? 0)):\(two(c.minute ?? 0)):\(two(c.second ?? 0)) "
            + "\(sign)\(two(minutes / 60))\(two(minutes % 60))"
    }
}
