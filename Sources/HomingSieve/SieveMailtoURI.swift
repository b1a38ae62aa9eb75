/// A `mailto:` notification URI (RFC 5436 section 2.1, URI syntax of RFC 2368/6068), parsed as
/// Pigeonhole parses it:
///
/// - recipients before `?`, separated by `%2C` (a literal `,` `:` or `;` there is an error), and
///   from `to=` and `cc=` headers (separated by `,`); at most `maxRecipients`, the rest ignored
///   with a warning; a repeated address is ignored with a warning (address comparison: local
///   part exact, domain case-insensitive);
/// - headers after `?` as `name=value&...`, percent-encoded, only the characters of RFC 2368's
///   `qchar` literal; `subject` and `body` are kept apart, the first of each wins; header
///   fields RFC 5436 calls unsafe (`Auto-Submitted`, `Received`, `Message-ID`, `From`...) are
///   ignored with a warning, as is a second `Reply-To`; at most `maxHeaders` headers.
public struct SieveMailtoURI: Sendable, Hashable {
    /// One recipient.
    public struct Recipient: Sendable, Hashable {
        /// The recipient as written in the URI (decoded), for `To:`/`Cc:`.
        public var full: String
        /// The `local@domain` address to send to.
        public var address: String
        /// Whether it came from a `cc=` header.
        public var carbonCopy: Bool
    }

    /// The recipients, in order.
    public var recipients: [Recipient]
    /// The other URI headers to put into the notification, in order (name as written).
    public var headers: [SieveHeaderField]
    /// The `subject=` header.
    public var subject: String?
    /// The `body=` header.
    public var body: String?

    /// Pigeonhole's limit on recipients.
    public static let maxRecipients = 8
    /// Pigeonhole's limit on URI headers.
    public static let maxHeaders = 16

    /// Header fields that cannot come from the URI (RFC 5436 section 2.7).
    static let reservedHeaders: Set<String> = [
        "auto-submitted", "received", "message-id", "data", "bcc", "in-reply-to", "references", "resent-date",
        "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc", "resent-msg-id", "from", "sender",
    ]

    /// Header fields the notification may carry once.
    static let uniqueHeaders: Set<String> = ["reply-to"]

    /// A URI that cannot be used; `message` follows Pigeonhole's wording.
    public struct Problem: Error, Sendable, Hashable {
        /// What is wrong.
        public var message: String
    }

    /// Parses the part of the URI after `mailto:`. Returns the URI with the warnings parsing
    /// gave, or throws the first error.
    public static func parse(_ uriBody: String) throws(Problem) -> (uri: SieveMailtoURI, warnings: [String]) {
        var parser = Parser(bytes: Array(uriBody.utf8))
        try parser.parse()
        if parser.uri.recipients.isEmpty {
            parser.warnings.append("notification URI specifies no recipients")
        }
        return (parser.uri, parser.warnings)
    }

    /// The scheme of a notification URI (RFC 3986 `scheme ":"`, as Pigeonhole reads it: at most
    /// 32 characters) and the rest after the colon; `nil` when the URI has no valid scheme.
    public static func scheme(of uri: String) -> (scheme: String, body: String)? {
        let bytes = Array(uri.utf8)
        guard let first = bytes.first, (first | 0x20) >= UInt8(ascii: "a"), (first | 0x20) <= UInt8(ascii: "z")
        else { return nil }
        var index = 1
        while index < bytes.count, index <= 32 {
            let byte = bytes[index]
            let isAlnum =
                ((byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            guard isAlnum || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            else { break }
            index += 1
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
        return (
            String(decoding: bytes[..<index], as: UTF8.self),
            String(decoding: bytes[(index + 1)...], as: UTF8.self)
        )
    }

    /// RFC 2368 `qchar`: unreserved characters and `!$'()*+,;:@` (Pigeonhole's table).
    static func isQChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!$'()*+,-.:;@_~".utf8.contains(byte)
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        var uri = SieveMailtoURI(recipients: [], headers: [], subject: nil, body: nil)
        var warnings: [String] = []
        var recipientLimitWarned = false

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func parse() throws(Problem) {
            try parseRecipients()
            guard index < bytes.count else { return }
            index += 1  // '?'
            var headerCount = 0
            while index < bytes.count {
                try parseHeader(&headerCount)
            }
        }

        /// `%XX` at `index` (after the `%`): the octet, never NUL.
        mutating func hexOctet() throws(Problem) -> UInt8 {
            guard index + 1 < bytes.count, let high = SieveTransferDecoding.hexValue(bytes[index]),
                let low = SieveTransferDecoding.hexValue(bytes[index + 1]), high << 4 | low != 0
            else { throw Problem(message: "invalid % encoding") }
            index += 2
            return high << 4 | low
        }

        mutating func parseRecipients() throws(Problem) {
            guard index < bytes.count, bytes[index] != UInt8(ascii: "?") else { return }
            var current: [UInt8] = []
            while index < bytes.count, bytes[index] != UInt8(ascii: "?") {
                let byte = bytes[index]
                if byte == UInt8(ascii: "%") {
                    index += 1
                    let decoded = try hexOctet()
                    if decoded == UInt8(ascii: ",") {
                        try addRecipient(current, carbonCopy: false)
                        current.removeAll()
                    } else {
                        current.append(decoded)
                    }
                    continue
                }
                if byte == UInt8(ascii: ":") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: ",")
                    || !SieveMailtoURI.isQChar(byte)
                {
                    throw Problem(message: "invalid character '\(Self.character(byte))' in 'to' part")
                }
                current.append(byte)
                index += 1
            }
            try addRecipient(current, carbonCopy: false)
        }

        mutating func addRecipient(_ bytes: [UInt8], carbonCopy: Bool) throws(Problem) {
            let full = String(decoding: bytes, as: UTF8.self)
            if let problem = SieveValidator.addressProblem(full) {
                throw Problem(message: "invalid recipient '\(SieveText.sanitized(full, maxOctets: 80))': \(problem)")
            }
            let address = SieveOutgoingHeaders.bareAddress(full)
            if uri.recipients.count >= SieveMailtoURI.maxRecipients {
                if !recipientLimitWarned {
                    warnings.append(
                        "more than the maximum \(SieveMailtoURI.maxRecipients) recipients specified; rest is discarded")
                    recipientLimitWarned = true
                }
                return
            }
            if let existing = uri.recipients.firstIndex(where: {
                SieveResultBuilder.sameAddress($0.address, address)
            }) {
                uri.recipients[existing].carbonCopy = uri.recipients[existing].carbonCopy && carbonCopy
                warnings.append("ignored duplicate recipient '\(SieveText.sanitized(full, maxOctets: 80))'")
                return
            }
            uri.recipients.append(Recipient(full: full, address: address, carbonCopy: carbonCopy))
        }

        mutating func parseHeader(_ headerCount: inout Int) throws(Problem) {
            var name: [UInt8] = []
            while index < bytes.count, bytes[index] != UInt8(ascii: "=") {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "%") {
                    name.append(try hexOctet())
                } else if SieveMailtoURI.isQChar(byte) {
                    name.append(byte)
                } else {
                    throw Problem(message: "invalid character '\(Self.character(byte))' in header field name part")
                }
            }
            if index < bytes.count { index += 1 }  // '='
            let fieldName = String(decoding: name, as: UTF8.self)
            guard SieveValidator.isHeaderName(fieldName) else { throw Problem(message: "invalid header field name") }
            enum Kind { case ignored, generic, to, cc, subject, body }
            var kind = Kind.generic
            let lowered = fieldName.lowercased()
            if headerCount >= SieveMailtoURI.maxHeaders {
                if headerCount == SieveMailtoURI.maxHeaders {
                    warnings.append(
                        "more than the maximum \(SieveMailtoURI.maxHeaders) headers specified; rest is discarded")
                }
                kind = .ignored
            } else if lowered == "to" {
                kind = .to
            } else if lowered == "cc" {
                kind = .cc
            } else if lowered == "subject" {
                kind = .subject
            } else if lowered == "body" {
                kind = .body
            } else if SieveMailtoURI.reservedHeaders.contains(lowered) {
                warnings.append("ignored reserved header field '\(SieveText.sanitized(fieldName, maxOctets: 32))'")
                kind = .ignored
            } else if SieveMailtoURI.uniqueHeaders.contains(lowered),
                uri.headers.contains(where: { $0.name.lowercased() == lowered })
            {
                warnings.append(
                    "ignored duplicate for unique header field '\(SieveText.sanitized(fieldName, maxOctets: 32))'")
                kind = .ignored
            }
            headerCount += 1
            var value: [UInt8] = []
            while index < bytes.count, bytes[index] != UInt8(ascii: "&") {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "%") {
                    value.append(try hexOctet())
                } else if byte == UInt8(ascii: "=") || SieveMailtoURI.isQChar(byte) {
                    value.append(byte)
                } else {
                    throw Problem(message: "invalid character '\(Self.character(byte))' in header field value part")
                }
            }
            if index < bytes.count { index += 1 }  // '&'
            let text = String(decoding: value, as: UTF8.self)
            if kind != .body, !value.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }) {
                throw Problem(message: "invalid header field body")
            }
            switch kind {
            case .ignored:
                break
            case .to, .cc:
                for piece in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                    try addRecipient(Array(piece), carbonCopy: kind == .cc)
                }
            case .subject:
                if uri.subject == nil { uri.subject = text } else { warnings.append("ignored duplicate subject field") }
            case .body:
                if uri.body == nil { uri.body = text } else { warnings.append("ignored duplicate body field") }
            case .generic:
                uri.headers.append(SieveHeaderField(name: fieldName, rawValue: text))
            }
        }

        static func character(_ byte: UInt8) -> String {
            byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\x" + SieveOutgoingHeaders.hex(byte)
        }
    }
}

/// Text helpers shared by messages and generated headers.
enum SieveText {
    /// `text` as Pigeonhole's `str_sanitize` shows it: control characters replaced by `?`, cut
    /// to at most `maxOctets` UTF-8 octets (at a character boundary) with `...` when cut.
    static func sanitized(_ text: String, maxOctets: Int) -> String {
        var shown = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            shown.append(scalar.value < 0x20 || scalar.value == 0x7F ? "?" : scalar)
        }
        let clean = String(shown)
        guard clean.utf8.count > maxOctets else { return clean }
        var out = ""
        var size = 0
        for scalar in clean.unicodeScalars {
            let length = String(scalar).utf8.count
            if size + length > max(0, maxOctets - 3) { break }
            out.unicodeScalars.append(scalar)
            size += length
        }
        return out + "..."
    }
}
