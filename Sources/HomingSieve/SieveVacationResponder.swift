import Foundation

/// Decides on and builds vacation replies (RFC 5230, RFC 6131, RFC 3834).
///
/// The delivery code's sequence for one `vacation` action:
/// 1. `decide` → `.skip(reason)`: log `reason`, done.
/// 2. `store.contains(key: trackingKey(...))` → true: log `.alreadyReplied`, done.
/// 3. `reply(...)` → submit it; on success `store.record(key:period: request.period)` and log
///    `sent vacation response to <sender>`.
public struct SieveVacationResponder: Sendable {
    /// The host name used in generated Message-IDs (`hostname` setting).
    public var hostname: String
    /// `recipient_delimiter`: `bob+tag@x` is also matched as `bob@x` in the address checks.
    public var recipientDelimiter: String

    /// Mailing list header fields (RFC 2369, RFC 2919): a message with any of them gets no reply.
    public static let listHeaders = [
        "List-Id", "List-Help", "List-Subscribe", "List-Unsubscribe", "List-Post", "List-Owner", "List-Archive",
    ]

    /// The header fields whose addresses count as "the message was sent to me" (RFC 5230 4.5).
    public static let recipientHeaders = ["To", "Cc", "Bcc", "Resent-To", "Resent-Cc"]

    /// Creates a responder.
    public init(hostname: String, recipientDelimiter: String = "+") {
        self.hostname = hostname
        self.recipientDelimiter = recipientDelimiter
    }

    // MARK: - Deciding

    /// Whether to reply to the message with `headerFields` delivered with `envelope`.
    /// Pure: the period check is the tracking store's (step 2 above).
    public func decide(
        headerFields: [SieveHeaderField], envelope: SieveEnvelope, request: SieveVacationRequest
    ) -> SieveVacationDecision {
        let sender = envelope.from.trimmingCharacters(in: .whitespaces)
        if sender.isEmpty || sender == "<>" { return .skip(.nullSender) }
        if Self.isSystemAddress(sender) { return .skip(.systemAddress(sender)) }
        let mine = myAddresses(envelope: envelope, request: request)
        if isMine(sender, mine) { return .skip(.ownAddress(sender)) }
        for field in headerFields where field.name.lowercased() == "auto-submitted" {
            let value = Self.keyword(field.rawValue)
            if value != "no" { return .skip(.autoSubmitted(value)) }
        }
        for field in headerFields where field.name.lowercased() == "precedence" {
            let value = Self.keyword(field.rawValue)
            if ["bulk", "list", "junk"].contains(value) { return .skip(.precedence(value)) }
        }
        for name in Self.listHeaders {
            if headerFields.contains(where: { $0.name.lowercased() == name.lowercased() }) {
                return .skip(.mailingList(header: name))
            }
        }
        let recipientNames = Set(Self.recipientHeaders.map { $0.lowercased() })
        let addressed = headerFields.contains { field in
            recipientNames.contains(field.name.lowercased())
                && SieveAddressList.parse(field.rawValue).contains { entry in
                    entry.localPart != nil && isMine(entry.address, mine)
                }
        }
        if !addressed { return .skip(.notAddressed(recipient: envelope.to)) }
        return .respond(to: sender)
    }

    /// The key under which a reply to `sender` with this request is remembered: the sender
    /// (case-insensitive) and the `:handle`, or, without one, a handle made of the reason,
    /// subject, `:from` and `:mime` (RFC 5230 section 4.2).
    public static func trackingKey(sender: String, request: SieveVacationRequest) -> String {
        let handle =
            request.handle.map { "handle:" + $0 }
            ?? "implicit:\(request.reason)\u{0}\(request.subject ?? "")\u{0}\(request.from ?? "")\u{0}\(request.mime)"
        return "vacation\u{0}\(sender.lowercased())\u{0}\(handle)"
    }

    /// The addresses that are the user's: the envelope recipient and original recipient (also
    /// without `+detail`), `:addresses` and `:from`. Lowercased.
    func myAddresses(envelope: SieveEnvelope, request: SieveVacationRequest) -> Set<String> {
        var addresses: Set<String> = []
        var candidates = [envelope.to] + request.addresses
        if let original = envelope.originalRecipient { candidates.append(original) }
        if let from = request.from { candidates.append(SieveOutgoingHeaders.bareAddress(from)) }
        for candidate in candidates {
            let address = candidate.trimmingCharacters(in: .whitespaces).lowercased()
            if address.isEmpty { continue }
            addresses.insert(address)
            if let stripped = stripDetail(address) { addresses.insert(stripped) }
        }
        return addresses
    }

    private func isMine(_ address: String, _ mine: Set<String>) -> Bool {
        let lowered = address.lowercased()
        if mine.contains(lowered) { return true }
        if let stripped = stripDetail(lowered) { return mine.contains(stripped) }
        return false
    }

    private func stripDetail(_ address: String) -> String? {
        guard !recipientDelimiter.isEmpty, let at = address.lastIndex(of: "@") else { return nil }
        let local = address[..<at]
        guard let cut = local.firstIndex(where: { recipientDelimiter.contains($0) }), cut != local.startIndex
        else { return nil }
        return String(local[..<cut]) + String(address[at...])
    }

    /// Whether `address` is a system address vacation never answers (as Pigeonhole does).
    public static func isSystemAddress(_ address: String) -> Bool {
        let local = (address.lastIndex(of: "@").map { String(address[..<$0]) } ?? address).lowercased()
        return local == "mailer-daemon" || local == "listserv" || local == "majordomo"
            || local.hasPrefix("owner-") || local.contains("-request")
    }

    /// The first word of a header value, lowercased (`Auto-Submitted: Auto-Replied (x)` →
    /// `auto-replied`).
    static func keyword(_ value: String) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let end = trimmed.firstIndex { $0 == ";" || $0 == "(" || $0 == " " || $0 == "\t" } ?? trimmed.endIndex
        return trimmed[..<end].lowercased()
    }

    /// The whole decision for one `vacation` action, the tracking store included: `.send`
    /// the reply (then, once it was submitted, `store.record(key: trackingKey, period:
    /// request.period, now:)`), or `.skip` with the reason to log. A tracking file that cannot
    /// be read throws: do not reply then (a reply loop is worse than a missing reply).
    public func prepare(
        headerFields: [SieveHeaderField], envelope: SieveEnvelope, request: SieveVacationRequest, now: Date,
        store: SieveTrackingStore
    ) throws(SieveTrackingError) -> SieveVacationOutcome {
        switch decide(headerFields: headerFields, envelope: envelope, request: request) {
        case .skip(let reason):
            return .skip(reason)
        case .respond(let recipient):
            let key = Self.trackingKey(sender: recipient, request: request)
            if try store.contains(key: key, now: now) { return .skip(.alreadyReplied(recipient)) }
            let mail = reply(to: recipient, headerFields: headerFields, envelope: envelope, request: request, now: now)
            return .send(mail, trackingKey: key)
        }
    }

    // MARK: - Building

    /// The reply to send to `recipient` (from `decide`): envelope sender `<>`, CRLF line ends.
    public func reply(
        to recipient: String, headerFields: [SieveHeaderField], envelope: SieveEnvelope,
        request: SieveVacationRequest, now: Date
    ) -> SieveOutgoingMail {
        typealias H = SieveOutgoingHeaders
        var head = ""
        head += H.field("X-Sieve", H.implementation)
        head += H.field("Message-ID", H.messageID(hostname: hostname, now: now))
        head += H.field("Date", H.date(now))
        head += H.field("From", H.encodeAddress(request.from ?? replyFrom(headerFields: headerFields, envelope: envelope, request: request)))
        head += H.field("To", SieveVacationReplyRecipient.field(for: recipient, headerFields: headerFields))
        head += H.field("Subject", H.encodeUnstructured(subject(headerFields: headerFields, request: request)))
        if let messageID = H.first("Message-ID", in: headerFields).flatMap(H.firstMessageID) {
            head += H.field("In-Reply-To", messageID)
            var references = H.first("References", in: headerFields).map(H.messageIDs) ?? []
            if references.isEmpty, let inReplyTo = H.first("In-Reply-To", in: headerFields) {
                let parents = H.messageIDs(inReplyTo)
                if parents.count == 1 { references = parents }
            }
            head += H.field("References", (references + [messageID]).joined(separator: " "))
        }
        head += H.field("Auto-Submitted", "auto-replied (vacation)")
        head += H.field("Precedence", "bulk")
        // Outlook and Exchange send no automatic reply to a message with this (Pigeonhole's too).
        head += H.field("X-Auto-Response-Suppress", "All")
        head += H.field("MIME-Version", "1.0")
        var content = Array(head.utf8)
        if request.mime {
            content += Self.mimeEntity(request.reason)
        } else {
            content += Self.textEntity(request.reason)
        }
        return SieveOutgoingMail(sender: "", recipients: [recipient], content: content)
    }

    /// The reply's `From:` without `:from`, as Pigeonhole chooses it: the first of the user's
    /// addresses found in the message's recipient fields (`To`, `Cc`, `Bcc`, `Resent-To`,
    /// `Resent-Cc`, in that order; in each, the envelope recipient, then the original
    /// recipient, then the `:addresses` in their order). So a message sent to an alias listed
    /// in `:addresses` is answered from that alias. Without any, the envelope recipient.
    public func replyFrom(headerFields: [SieveHeaderField], envelope: SieveEnvelope, request: SieveVacationRequest)
        -> String
    {
        var candidates = [envelope.to]
        if let original = envelope.originalRecipient { candidates.append(original) }
        candidates += request.addresses
        for name in Self.recipientHeaders {
            let listed = headerFields.filter { $0.name.lowercased() == name.lowercased() }
                .flatMap { SieveAddressList.parse($0.rawValue) }
                .filter { $0.localPart != nil }
            guard !listed.isEmpty else { continue }
            for candidate in candidates {
                let address = candidate.trimmingCharacters(in: .whitespaces)
                guard !address.isEmpty else { continue }
                let mine = myAddresses(
                    envelope: SieveEnvelope(from: "", to: address), request: SieveVacationRequest(reason: "", period: 0))
                if listed.contains(where: { isMine($0.address, mine) }) { return address }
            }
        }
        return envelope.to
    }

    /// `:subject`, else `Auto: <original subject>` (decoded), else `Automated reply`.
    func subject(headerFields: [SieveHeaderField], request: SieveVacationRequest) -> String {
        if let subject = request.subject, !SieveOutgoingHeaders.singleLine(subject).isEmpty { return subject }
        if let original = SieveOutgoingHeaders.first("Subject", in: headerFields) {
            let decoded = SieveOutgoingHeaders.singleLine(SieveHeaderDecoder.decode(original))
            if !decoded.isEmpty { return "Auto: " + decoded }
        }
        return "Automated reply"
    }

    /// A text/plain UTF-8 entity (headers from Content-Type on, blank line, body): 8bit, or
    /// quoted-printable when a line is too long for SMTP (998 octets) or has a bare CR or NUL.
    static func textEntity(_ text: String, disposition: String? = nil) -> [UInt8] {
        let body = SieveOutgoingHeaders.crlf(text)
        var needsQuotedPrintable = body.contains(0)
        var lineLength = 0
        var index = 0
        while index < body.count {
            let byte = body[index]
            if byte == 13 {
                if index + 1 < body.count && body[index + 1] == 10 {
                    lineLength = 0
                    index += 2
                    continue
                }
                needsQuotedPrintable = true
            }
            lineLength += 1
            if lineLength > 998 { needsQuotedPrintable = true }
            index += 1
        }
        var out = Array("Content-Type: text/plain; charset=utf-8\r\n".utf8)
        if let disposition { out += Array("Content-Disposition: \(disposition)\r\n".utf8) }
        if needsQuotedPrintable {
            out += Array("Content-Transfer-Encoding: quoted-printable\r\n\r\n".utf8)
            out += quotedPrintable(body)
        } else {
            out += Array("Content-Transfer-Encoding: 8bit\r\n\r\n".utf8)
            out += body
        }
        return out
    }

    /// `:mime`: `reason` is a MIME entity (its own header fields, a blank line, a body).
    /// Text without a header section is sent as text/plain.
    static func mimeEntity(_ reason: String) -> [UInt8] {
        let entity = SieveOutgoingHeaders.crlf(reason)
        let blank: [UInt8] = [13, 10, 13, 10]
        if entity.starts(with: [13, 10]) { return entity }  // empty header section
        if let range = entity.firstRange(of: blank), looksLikeHeader(entity[..<range.lowerBound]) {
            return entity
        }
        if looksLikeHeader(entity[...]) { return entity + [13, 10] }
        return textEntity(reason)
    }

    private static func looksLikeHeader(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > bytes.startIndex else { return false }
        return bytes[..<colon].allSatisfy { $0 > 0x20 && $0 < 0x7f }
    }

    /// Quoted-printable (RFC 2045 6.7) of CRLF text, soft line breaks at 76 characters.
    static func quotedPrintable(_ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var lineLength = 0
        func emit(_ piece: [UInt8]) {
            if lineLength + piece.count > 75 {
                out += [UInt8(ascii: "="), 13, 10]
                lineLength = 0
            }
            out += piece
            lineLength += piece.count
        }
        var index = 0
        while index < body.count {
            let byte = body[index]
            if byte == 13 && index + 1 < body.count && body[index + 1] == 10 {
                // Trailing white space before a line end must be encoded.
                if let last = out.last, last == 0x20 || last == 0x09, lineLength > 0 {
                    out.removeLast()
                    lineLength -= 1
                    emit(Array("=\(SieveOutgoingHeaders.hex(last))".utf8))
                }
                out += [13, 10]
                lineLength = 0
                index += 2
                continue
            }
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || byte == 0x20 || byte == 0x09
            if literal {
                emit([byte])
                index += 1
                continue
            }
            // Keep a UTF-8 character's escapes on one line: the lead octet and its continuations.
            var piece = Array("=\(SieveOutgoingHeaders.hex(byte))".utf8)
            index += 1
            while byte >= 0xc0, index < body.count, body[index] & 0xc0 == 0x80 {
                piece += Array("=\(SieveOutgoingHeaders.hex(body[index]))".utf8)
                index += 1
            }
            emit(piece)
        }
        return out
    }
}
