import Foundation

/// A message header as `addheader` and `deleteheader` (RFC 5293) left it: which of the
/// received header fields remain, in which order, and which fields were added where.
///
/// Original fields are named by their index in the message's `headerFields` (the fields
/// `SieveMessage` parsed), so delivery can write the kept ones byte for byte as they arrived
/// and only encode the added ones: `apply(toMessageStart:)`.
public struct SieveEditedHeader: Sendable, Hashable {
    /// One field of the edited header.
    public enum Field: Sendable, Hashable {
        /// The received field at this index of the message's `headerFields`.
        case original(Int)
        /// A field `addheader` added: name as the script gave it, value unencoded (UTF-8).
        case added(SieveHeaderField)
    }

    /// The fields, in order.
    public var fields: [Field]

    /// Creates an edited header.
    public init(fields: [Field]) {
        self.fields = fields
    }

    /// The header as fields (names and unfolded values): what the script's tests saw.
    public func headerFields(original: [SieveHeaderField]) -> [SieveHeaderField] {
        fields.compactMap { field in
            switch field {
            case .original(let index): return index < original.count ? original[index] : nil
            case .added(let added): return added
            }
        }
    }

    /// The edited header for a stored or forwarded copy. `message` is the start of the message
    /// as received, at least its whole header (the whole message is fine); the result is the
    /// new header section, ending with the empty line, and the offset in `message` where the
    /// body starts (copy the message from there on after the header).
    ///
    /// Kept fields are copied with their own folding and line ends; added fields are written
    /// as Pigeonhole writes them: the name in `Capitalized-Form`, a non-ASCII value as RFC 2047
    /// encoded words, folded before 80 characters with a tab, with the line ends the message
    /// uses. Lines of the received header that are not fields (no colon) go with the field
    /// that follows them.
    public func apply(toMessageStart message: [UInt8]) -> (header: [UInt8], bodyOffset: Int) {
        let layout = SieveRawHeader(message)
        var out: [UInt8] = []
        var emittedOriginal = Set<Int>()
        for field in fields {
            switch field {
            case .original(let index):
                guard index < layout.fields.count else { continue }
                out += message[layout.fields[index].leading]
                out += message[layout.fields[index].range]
                emittedOriginal.insert(index)
            case .added(let added):
                out += SieveHeaderEncoding.field(added.name, added.rawValue, crlf: layout.usesCRLF)
            }
        }
        // Fields past what was parsed (a header above the size bound) stay as they are.
        if layout.fields.count > layout.indexedCount {
            for index in layout.indexedCount..<layout.fields.count {
                out += message[layout.fields[index].leading]
                out += message[layout.fields[index].range]
            }
        }
        out += message[layout.trailing]
        return (out, layout.bodyOffset)
    }
}

/// The field layout of a raw header: where each field (with its continuation lines) lies,
/// numbered as `SieveMessageHeaderParser` numbers fields.
struct SieveRawHeader {
    struct Field {
        /// Non-field lines just before the field.
        var leading: Range<Int>
        /// The field's lines, line ends included.
        var range: Range<Int>
    }

    var fields: [Field] = []
    /// How many fields `SieveMessage` indexed (all of them, unless the header was truncated).
    var indexedCount = 0
    /// Non-field lines after the last field, and the empty line ending the header.
    var trailing: Range<Int> = 0..<0
    var bodyOffset = 0
    var usesCRLF = true

    init(_ bytes: [UInt8], maxHeaderSize: Int = 1 << 20) {
        var lineStart = 0
        var pendingJunk: Int?
        var current: Range<Int>?
        var sawFirstLine = false
        func finishField(at end: Int) {
            if let start = current?.lowerBound {
                fields.append(Field(leading: (pendingJunk ?? start)..<start, range: start..<end))
                pendingJunk = nil
            }
            current = nil
        }
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd < bytes.count ? lineEnd + 1 : lineEnd
            var contentEnd = lineEnd
            if contentEnd > lineStart, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            if !sawFirstLine {
                usesCRLF = contentEnd < lineEnd
                sawFirstLine = true
            }
            if contentEnd == lineStart {
                finishField(at: lineStart)
                trailing = (pendingJunk ?? lineStart)..<next
                bodyOffset = next
                indexedCount = min(fields.count, SieveMessageHeaderParser.fieldCount(bytes, maxHeaderSize: maxHeaderSize))
                return
            }
            let first = bytes[lineStart]
            if first == 0x20 || first == 0x09 {
                if let start = current?.lowerBound {
                    current = start..<next
                } else if pendingJunk == nil {
                    pendingJunk = lineStart
                }
            } else {
                finishField(at: lineStart)
                if SieveMessageHeaderParser.makeField(Array(bytes[lineStart..<contentEnd])) != nil {
                    current = lineStart..<next
                } else if pendingJunk == nil {
                    pendingJunk = lineStart
                }
            }
            lineStart = next
        }
        finishField(at: bytes.count)
        trailing = (pendingJunk ?? bytes.count)..<bytes.count
        bodyOffset = bytes.count
        indexedCount = min(fields.count, SieveMessageHeaderParser.fieldCount(bytes, maxHeaderSize: maxHeaderSize))
    }
}

/// Writing added header fields as Pigeonhole does.
enum SieveHeaderEncoding {
    /// `Name: value` with the line end, name sanitized, value encoded and folded.
    static func field(_ name: String, _ value: String, crlf: Bool) -> [UInt8] {
        fold(name: sanitizedName(name), body: encodedValue(value), crlf: crlf)
    }

    /// `x-spam-FLAG` → `X-Spam-Flag`: lower case but the first letter and those after `-`.
    static func sanitizedName(_ name: String) -> String {
        var out = ""
        var upper = true
        for scalar in name.unicodeScalars {
            let character = Character(scalar)
            out += upper ? character.uppercased() : character.lowercased()
            upper = scalar == "-"
        }
        return out
    }

    /// The value with line breaks unfolded to spaces when ASCII; otherwise the words from the
    /// first to the last that contain non-ASCII characters as UTF-8 `B` encoded words.
    static func encodedValue(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 >= 0x80 }) else { return value }
        let words = value.split(separator: " ", omittingEmptySubsequences: false)
        guard let first = words.firstIndex(where: { $0.utf8.contains { $0 >= 0x80 } }),
            let last = words.lastIndex(where: { $0.utf8.contains { $0 >= 0x80 } })
        else { return value }
        let plainBefore = words[..<first].joined(separator: " ")
        let plainAfter = words[(last + 1)...].joined(separator: " ")
        let encoded = encodedWords(words[first...last].joined(separator: " "))
        return [plainBefore, encoded, plainAfter].filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// `=?utf-8?b?...?=` words of at most 75 characters, split at character boundaries.
    static func encodedWords(_ text: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45, !chunk.isEmpty {
                words.append("=?utf-8?b?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?utf-8?b?" + Data(chunk).base64EncodedString() + "?=") }
        return words.joined(separator: " ")
    }

    /// `name: body` folded at the last white space before 80 characters (and at the line
    /// breaks the body has), continuation lines starting with one tab.
    static func fold(name: String, body: String, crlf: Bool) -> [UInt8] {
        let lineEnd: [UInt8] = crlf ? [13, 10] : [10]
        var out = Array(name.utf8) + Array(": ".utf8)
        let bytes = Array(body.utf8)
        var lineLength = out.count
        var start = 0
        var index = 0
        var lastSpace: Int?
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0D || byte == 0x0A {
                // An existing line break: fold here, dropping the white space around it.
                var end = index
                while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
                out += bytes[start..<end]
                while index < bytes.count, [0x20, 0x09, 0x0D, 0x0A].contains(bytes[index]) { index += 1 }
                out += lineEnd
                if index < bytes.count { out.append(0x09) }
                start = index
                lineLength = 1
                lastSpace = nil
                continue
            }
            if byte == 0x20 || byte == 0x09 {
                if lastSpace == nil || bytes[index - 1] != 0x20 && bytes[index - 1] != 0x09 { lastSpace = index }
            }
            lineLength += 1
            index += 1
            if lineLength >= 80, let space = lastSpace, space > start {
                out += bytes[start..<space]
                var resume = space
                while resume < bytes.count, bytes[resume] == 0x20 || bytes[resume] == 0x09 { resume += 1 }
                out += lineEnd
                out.append(0x09)
                start = resume
                index = max(index, resume)
                lineLength = 1 + (index - start)
                lastSpace = nil
            }
        }
        out += bytes[start..<bytes.count]
        out += lineEnd
        return out
    }

    /// RFC 5322 `unstructured` (with folding white space) in UTF-8: no controls but tab and
    /// line breaks.
    static func isFieldBody(_ value: String) -> Bool {
        value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F || $0 == "\t" || $0 == "\r" || $0 == "\n" }
    }
}
