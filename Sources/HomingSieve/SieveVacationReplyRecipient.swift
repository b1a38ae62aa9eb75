/// The `To:` of a vacation reply, as Pigeonhole writes it (`cmd-vacation.c`,
/// `_get_full_reply_recipient`): the sender's address with the display name the message gave
/// it, `Sender <sender@example.org>`.
///
/// The first field of each of `Sender`, `Resent-From` and `From`, in that order, is searched
/// for the address the reply goes to (compared case-insensitively); the first match gives the
/// name (for `addr-spec (Comment)`, the comment) and the address as written there. Without a
/// match the reply goes to `<address>`. A name is written as it is when it is one atom or
/// holds encoded words, else quoted (`"The Sender"`), with `"`, `\` and `'` escaped.
enum SieveVacationReplyRecipient {
    /// The fields searched, in order.
    static let senderHeaders = ["Sender", "Resent-From", "From"]

    /// The `To:` value for a reply to `recipient` (a bare address).
    static func field(for recipient: String, headerFields: [SieveHeaderField]) -> String {
        let wanted = recipient.trimmingCharacters(in: .whitespaces).lowercased()
        for name in senderHeaders {
            guard let value = SieveOutgoingHeaders.first(name, in: headerFields) else { continue }
            var cursor = value.startIndex
            for entry in SieveAddressList.parse(value) {
                // The entry's text up to the next comma: comments after an addr-spec are not
                // part of `raw` but may hold the name.
                let segment = Self.segment(of: entry.raw, in: value, from: &cursor)
                guard let local = entry.localPart, let domain = entry.domain, !local.isEmpty else { continue }
                guard "\(local)@\(domain)".lowercased() == wanted else { continue }
                let address = "<\(quotedIfNeeded(local, dotIsAtext: true))@\(domain)>"
                let name = displayName(of: segment)
                return name.isEmpty ? address : "\(phrase(name)) \(address)"
            }
        }
        return "<\(SieveOutgoingHeaders.singleLine(recipient))>"
    }

    /// `raw` as found in `value` from `cursor` on, extended to the next comma outside quotes
    /// and comments; `cursor` moves past it. `raw` itself when it cannot be found.
    static func segment(of raw: String, in value: String, from cursor: inout String.Index) -> String {
        guard let found = value.range(of: raw, range: cursor..<value.endIndex) else { return raw }
        var index = found.upperBound
        var depth = 0
        var inQuotes = false
        var escaped = false
        while index < value.endIndex {
            let character = value[index]
            if escaped {
                escaped = false
            } else if character == "\\" && (depth > 0 || inQuotes) {
                escaped = true
            } else if inQuotes {
                if character == "\"" { inQuotes = false }
            } else if character == "(" {
                depth += 1
            } else if character == ")" && depth > 0 {
                depth -= 1
            } else if depth == 0 && character == "\"" {
                inQuotes = true
            } else if depth == 0 && character == "," {
                break
            }
            index = value.index(after: index)
        }
        cursor = index
        return String(value[found.lowerBound..<index])
    }

    /// The display name in one address (`The "Real" Sender <x@y>` → `The Real Sender`), or
    /// the last comment of an `addr-spec (Comment)`, or empty.
    static func displayName(of raw: String) -> String {
        let bytes = Array(raw.utf8)
        let tokens = AddressTokenizer.tokenize(bytes)
        if let open = tokens.firstIndex(where: { $0.isSpecial("<") }) {
            var name = ""
            for token in tokens[..<open] {
                switch token.kind {
                case .atom(let text), .quoted(let text):
                    if !name.isEmpty { name += " " }
                    name += text
                case .special(let byte) where byte == UInt8(ascii: "."):
                    name += "."
                default:
                    continue
                }
            }
            return clean(name)
        }
        return clean(lastComment(in: bytes))
    }

    /// The text of the last top-level comment (nested parentheses kept, quoted pairs resolved).
    private static func lastComment(in bytes: [UInt8]) -> String {
        var last: [UInt8] = []
        var current: [UInt8] = []
        var depth = 0
        var inQuotes = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count, depth > 0 || inQuotes {
                if depth > 0 { current.append(bytes[index + 1]) }
                index += 2
                continue
            }
            if inQuotes {
                if byte == UInt8(ascii: "\"") { inQuotes = false }
            } else if byte == UInt8(ascii: "(") {
                if depth > 0 { current.append(byte) }
                depth += 1
            } else if byte == UInt8(ascii: ")") && depth > 0 {
                depth -= 1
                if depth == 0 {
                    last = current
                    current = []
                } else {
                    current.append(byte)
                }
            } else if depth > 0 {
                current.append(byte)
            } else if byte == UInt8(ascii: "\"") {
                inQuotes = true
            }
            index += 1
        }
        return String(decoding: last, as: UTF8.self)
    }

    /// No line breaks or NULs in a header value; outer white space trimmed.
    private static func clean(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar == "\r" || scalar == "\n" || scalar.value == 0 {
                out.unicodeScalars.append(" ")
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    /// A display name as Dovecot's `message_address_write` puts it: encoded words as they are.
    private static func phrase(_ name: String) -> String {
        name.contains("=?") ? name : quotedIfNeeded(name, dotIsAtext: false)
    }

    /// `text` as is when every byte is atext (non-ASCII counts as atext, `.` only in a local
    /// part), else in quotes with `"`, `\` and `'` escaped (Dovecot's `str_append_maybe_escape`).
    private static func quotedIfNeeded(_ text: String, dotIsAtext: Bool) -> String {
        let specials = Set("()<>@,;:\\\".[]".utf8)
        let isAtoms = text.utf8.allSatisfy { byte in
            if byte >= 0x80 { return true }
            if byte == UInt8(ascii: ".") { return dotIsAtext }
            return byte > 0x20 && byte < 0x7f && !specials.contains(byte)
        }
        if isAtoms && !text.isEmpty { return text }
        var out = "\""
        for character in text {
            if character == "\"" || character == "\\" || character == "'" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }
}
