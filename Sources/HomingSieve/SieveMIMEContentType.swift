/// A parsed `Content-Type` field value (RFC 2045 section 5.1, parameters per RFC 2231).
public struct SieveMIMEContentType: Sendable, Hashable {
    /// The top-level type, lower case (`text`).
    public var type: String
    /// The subtype, lower case (`plain`).
    public var subtype: String
    /// Parameters by lower-case name, values unquoted; RFC 2231 continuations joined and
    /// `name*=charset'lang'%XX` values decoded.
    public var parameters: [String: String]

    /// Creates a content type.
    public init(type: String, subtype: String, parameters: [String: String] = [:]) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    /// `text/plain; charset=us-ascii`, the default of RFC 2045 section 5.2.
    public static let textPlain = SieveMIMEContentType(type: "text", subtype: "plain", parameters: ["charset": "us-ascii"])
    /// `message/rfc822`, the default inside `multipart/digest` (RFC 2046 section 5.1.5).
    public static let messageRFC822 = SieveMIMEContentType(type: "message", subtype: "rfc822")

    /// `type/subtype`.
    public var mimeType: String { "\(type)/\(subtype)" }

    /// Whether a `:content` type string selects this type: `""` selects everything,
    /// `"text"` every `text/*`, `"text/plain"` exactly that (case-insensitive).
    public func matches(_ selector: String) -> Bool {
        let lowered = selector.lowercased()
        if lowered.isEmpty { return true }
        if let slash = lowered.firstIndex(of: "/") {
            let selectorType = lowered[..<slash]
            let selectorSubtype = lowered[lowered.index(after: slash)...]
            guard !selectorType.isEmpty, !selectorSubtype.isEmpty else { return false }
            return selectorType == type && selectorSubtype == subtype
        }
        return lowered == type
    }

    /// Parses a field value; `nil` when it has no valid `type/subtype` (the caller then uses
    /// the default, as RFC 2045 section 5.2 says).
    public static func parse(_ value: String) -> SieveMIMEContentType? {
        let bytes = Array(value.utf8)
        var index = 0
        skipSpaceAndComments(bytes, &index)
        let type = readToken(bytes, &index)
        skipSpaceAndComments(bytes, &index)
        guard !type.isEmpty, index < bytes.count, bytes[index] == UInt8(ascii: "/") else { return nil }
        index += 1
        skipSpaceAndComments(bytes, &index)
        let subtype = readToken(bytes, &index)
        guard !subtype.isEmpty else { return nil }
        return SieveMIMEContentType(
            type: type.lowercased(), subtype: subtype.lowercased(), parameters: parseParameters(bytes, from: index))
    }

    /// Parameters after the type (`; name=value ...`), as for `Content-Type` and
    /// `Content-Disposition`.
    static func parseParameters(_ bytes: [UInt8], from start: Int) -> [String: String] {
        var index = start
        var plain: [String: String] = [:]
        // RFC 2231: name -> [section: (value, extended)]
        var sections: [String: [Int: (String, Bool)]] = [:]
        while index < bytes.count {
            skipSpaceAndComments(bytes, &index)
            guard index < bytes.count else { break }
            if bytes[index] == UInt8(ascii: ";") {
                index += 1
                continue
            }
            let name = readToken(bytes, &index).lowercased()
            skipSpaceAndComments(bytes, &index)
            guard !name.isEmpty, index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                // Junk: skip to the next parameter.
                while index < bytes.count && bytes[index] != UInt8(ascii: ";") { index += 1 }
                continue
            }
            index += 1
            skipSpaceAndComments(bytes, &index)
            let value: String
            if index < bytes.count && bytes[index] == UInt8(ascii: "\"") {
                value = readQuoted(bytes, &index)
            } else {
                // Lenient: unquoted values run to `;` or white space (`boundary=----=_Part_1`).
                let valueStart = index
                while index < bytes.count, bytes[index] > 0x20, bytes[index] != UInt8(ascii: ";") { index += 1 }
                value = String(decoding: bytes[valueStart..<index], as: UTF8.self)
            }
            // RFC 2231 forms: name*, name*0, name*0*.
            var baseName = name
            var extended = false
            if baseName.hasSuffix("*") {
                extended = true
                baseName.removeLast()
            }
            if let star = baseName.lastIndex(of: "*"), let section = Int(baseName[baseName.index(after: star)...]) {
                sections[String(baseName[..<star]), default: [:]][section] = (value, extended)
            } else if extended {
                sections[baseName, default: [:]][0] = (value, true)
            } else if plain[baseName] == nil {
                plain[baseName] = value
            }
        }
        for (name, parts) in sections {
            var bytesOut: [UInt8] = []
            var charset: String?
            var section = 0
            while let (value, extended) = parts[section] {
                var text = Substring(value)
                if section == 0 && extended {
                    // charset'language'value
                    let pieces = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                    if pieces.count == 3 {
                        charset = String(pieces[0])
                        text = pieces[2]
                    }
                }
                bytesOut += extended ? percentDecode(text) : Array(text.utf8)
                section += 1
            }
            guard section > 0 else { continue }
            let decoded = SieveCharset.decodeOrUTF8(bytesOut, charset: charset?.isEmpty == false ? charset : nil)
            plain[name] = decoded
        }
        return plain
    }

    private static func percentDecode(_ text: Substring) -> [UInt8] {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = SieveTransferDecoding.hexValue(bytes[index + 1]),
                let low = SieveTransferDecoding.hexValue(bytes[index + 2])
            {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }

    static func skipSpaceAndComments(_ bytes: [UInt8], _ index: inout Int) {
        var depth = 0
        while index < bytes.count {
            let byte = bytes[index]
            if depth > 0 {
                if byte == UInt8(ascii: "\\") {
                    // A quoted pair skips the next byte; a backslash at the very end has none
                    // (stepping past it would leave `index` beyond the end of `bytes`).
                    if index + 1 < bytes.count { index += 1 }
                } else if byte == UInt8(ascii: "(") {
                    depth += 1
                } else if byte == UInt8(ascii: ")") {
                    depth -= 1
                }
            } else if byte == UInt8(ascii: "(") {
                depth = 1
            } else if !(byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A) {
                return
            }
            index += 1
        }
    }

    /// An RFC 2045 token (no tspecials, space or controls).
    static func readToken(_ bytes: [UInt8], _ index: inout Int) -> String {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte <= 0x20 || byte == 0x7F || "()<>@,;:\\\"/[]?=".utf8.contains(byte) { break }
            index += 1
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    static func readQuoted(_ bytes: [UInt8], _ index: inout Int) -> String {
        var output: [UInt8] = []
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                output.append(bytes[index + 1])
                index += 2
                continue
            }
            index += 1
            if byte == UInt8(ascii: "\"") { break }
            output.append(byte)
        }
        return String(decoding: output, as: UTF8.self)
    }
}
