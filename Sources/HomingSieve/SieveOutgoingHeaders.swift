import Foundation

/// Building header fields of generated messages: RFC 2047 encoding of non-ASCII text, folding,
/// RFC 5322 dates and message ids. Shared by vacation replies and rejections.
enum SieveOutgoingHeaders {
    /// The product name in `X-Sieve` and `Reporting-UA` (Homing is not Pigeonhole).
    static let implementation = "Homing Sieve"

    /// One header field `Name: value` with CRLF, folded at white space to lines of at most 78
    /// characters where possible. `value` must already be encoded (ASCII).
    static func field(_ name: String, _ value: String) -> String {
        let words = value.split(separator: " ", omittingEmptySubsequences: false)
        var out = name + ":"
        var lineLength = out.count
        var first = true
        for word in words {
            let wordLength = word.count
            if !first && lineLength + 1 + wordLength > 78 && lineLength > name.count + 1 {
                out += "\r\n " + word
                lineLength = 1 + wordLength
            } else {
                out += " " + word
                lineLength += 1 + wordLength
            }
            first = false
        }
        return out + "\r\n"
    }

    /// `text` with control characters (line ends, tabs) turned into spaces: a header value
    /// from a script or a message must not be able to start a new header line.
    static func singleLine(_ text: String) -> String {
        var out = ""
        var lastWasSpace = false
        for scalar in text.unicodeScalars {
            let isControl = scalar.value < 0x20 || scalar.value == 0x7f
            if isControl || scalar == " " {
                if !lastWasSpace { out.unicodeScalars.append(" ") }
                lastWasSpace = true
            } else {
                out.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    /// Whether `text` is printable ASCII (spaces included) without anything that looks like an
    /// encoded word.
    static func isPlainASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7f } && !text.contains("=?")
    }

    /// An unstructured value (Subject): as is when plain ASCII, else RFC 2047 `Q` encoded
    /// words in UTF-8, each at most 75 characters, separated by spaces (so `field` folds them).
    static func encodeUnstructured(_ text: String) -> String {
        let clean = singleLine(text)
        if isPlainASCII(clean) { return clean }
        return encodedWords(clean, phrase: false)
    }

    /// A display name: an atom sequence as is, a quoted string when it has specials, encoded
    /// words when it is not ASCII.
    static func encodePhrase(_ text: String) -> String {
        let clean = singleLine(text)
        if clean.isEmpty { return "" }
        if !isPlainASCII(clean) { return encodedWords(clean, phrase: true) }
        let atomExtras = Set("!#$%&'*+-/=?^_`{|}~ ".utf8)
        let isAtoms = clean.utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || atomExtras.contains($0)
        }
        if isAtoms { return clean }
        var quoted = "\""
        for character in clean {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }

    private static func encodedWords(_ text: String, phrase: Bool) -> String {
        let prefix = "=?utf-8?q?"
        let suffix = "?="
        let room = 75 - prefix.count - suffix.count
        var words: [String] = []
        var current = ""
        for character in text {
            var encoded = ""
            for byte in String(character).utf8 {
                encoded += encodeQ(byte, phrase: phrase)
            }
            if current.count + encoded.count > room && !current.isEmpty {
                words.append(prefix + current + suffix)
                current = ""
            }
            current += encoded
        }
        if !current.isEmpty { words.append(prefix + current + suffix) }
        return words.joined(separator: " ")
    }

    private static func encodeQ(_ byte: UInt8, phrase: Bool) -> String {
        if byte == UInt8(ascii: " ") { return "_" }
        let isAlphanumeric =
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        let safe: Bool
        if phrase {
            safe = isAlphanumeric || "!*+-/".utf8.contains(byte)
        } else {
            safe = byte > 0x20 && byte < 0x7f && byte != UInt8(ascii: "=") && byte != UInt8(ascii: "?")
                && byte != UInt8(ascii: "_")
        }
        if safe { return String(UnicodeScalar(byte)) }
        return "=" + hex(byte)
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }

    /// An address header value `Display <address>` or `<address>`: `text` is either a bare
    /// address or `Name <address>` as scripts write `:from`.
    static func encodeAddress(_ text: String) -> String {
        let clean = singleLine(text)
        if let open = clean.lastIndex(of: "<"), clean.hasSuffix(">") {
            let display = clean[..<open].trimmingCharacters(in: .whitespaces)
            let address = clean[clean.index(after: open)..<clean.index(before: clean.endIndex)]
            let name = encodePhrase(unquote(display))
            return name.isEmpty ? "<\(address)>" : "\(name) <\(address)>"
        }
        return "<\(clean)>"
    }

    /// The address inside `text` (`Name <a@b>` → `a@b`, `a@b` → `a@b`).
    static func bareAddress(_ text: String) -> String {
        let clean = singleLine(text)
        if let open = clean.lastIndex(of: "<"), clean.hasSuffix(">") {
            return String(clean[clean.index(after: open)..<clean.index(before: clean.endIndex)])
        }
        return clean
    }

    private static func unquote(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        var out = ""
        var escaped = false
        for character in text.dropFirst().dropLast() {
            if !escaped && character == "\\" {
                escaped = true
                continue
            }
            escaped = false
            out.append(character)
        }
        return out
    }

    /// An RFC 5322 date in UTC: `Tue, 25 Nov 2025 11:42:07 +0000`.
    static func date(_ date: Date) -> String {
        let seconds = Int(SieveTrackingStore.seconds(date))
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let weekday = (days % 7 + 7 + 4) % 7  // 1970-01-01 was a Thursday
        let (year, month, day) = civilFromDays(days)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekdays[weekday]), \(day) \(months[month - 1]) \(year) "
            + "\(two(secondOfDay / 3_600)):\(two(secondOfDay % 3_600 / 60)):\(two(secondOfDay % 60)) +0000"
    }

    /// A new, unique message id `<homing-sieve.<seconds>.<random>@<hostname>>`.
    static func messageID(hostname: String, now: Date) -> String {
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let host = singleLine(hostname).replacingOccurrences(of: " ", with: "")
        return "<homing-sieve.\(SieveTrackingStore.seconds(now)).\(random)@\(host.isEmpty ? "localhost" : host)>"
    }

    /// The first `<...>` message id in a header value, or `nil`.
    static func firstMessageID(_ value: String) -> String? {
        guard let open = value.firstIndex(of: "<"),
            let close = value[open...].firstIndex(of: ">")
        else { return nil }
        let id = String(value[open...close])
        return id.count > 2 && !id.contains(" ") ? id : nil
    }

    /// All `<...>` message ids in a header value, in order.
    static func messageIDs(_ value: String) -> [String] {
        var ids: [String] = []
        var rest = Substring(value)
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let id = String(rest[open...close])
            if id.count > 2 && !id.contains(" ") { ids.append(id) }
            rest = rest[rest.index(after: close)...]
        }
        return ids
    }

    /// The text with every line end made CRLF and a final CRLF added when missing.
    static func crlf(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\n") && previous != UInt8(ascii: "\r") { out.append(UInt8(ascii: "\r")) }
            if previous == UInt8(ascii: "\r") && byte != UInt8(ascii: "\n") { out.append(UInt8(ascii: "\n")) }
            out.append(byte)
            previous = byte
        }
        if previous == UInt8(ascii: "\r") { out.append(UInt8(ascii: "\n")) }
        if !out.isEmpty && out.last != UInt8(ascii: "\n") { out.append(contentsOf: [13, 10]) }
        return out
    }

    /// The value of the first header field named `name` (case-insensitive), or `nil`.
    static func first(_ name: String, in fields: [SieveHeaderField]) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.rawValue
    }
}
