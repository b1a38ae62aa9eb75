/// A MIME entity (RFC 2045/2046): a message or body part, with its header and body.
///
/// Ranges are indices into the byte buffer the entity was parsed from.
public struct SieveMIMEEntity: Sendable {
    /// What the body of an entity holds.
    public enum Content: Sendable {
        /// A single part: the body range.
        case leaf
        /// `multipart/*`: prologue, the parts, epilogue.
        case multipart(prologue: Range<Int>, parts: [SieveMIMEEntity], epilogue: Range<Int>)
        /// `message/rfc822` (and `message/global`): the enclosed message.
        indirect case message(SieveMIMEEntity)
    }

    /// The header fields of the entity.
    public var headerFields: [SieveHeaderField]
    /// The header as written (for `:content "message/rfc822"`, RFC 5173 section 5.2).
    public var headerRange: Range<Int>
    /// The body as written.
    public var bodyRange: Range<Int>
    /// The content type (default `text/plain`, or `message/rfc822` in `multipart/digest`).
    public var contentType: SieveMIMEContentType
    /// The Content-Transfer-Encoding, lower case, `nil` when absent.
    public var transferEncoding: String?
    /// The structure of the body.
    public var content: Content
}

/// Parses the MIME structure of a message (RFC 2046): multipart bodies split at their
/// boundaries (a missing close delimiter ends the part at the end of the data), nested
/// multiparts and `message/rfc822` parts parsed recursively up to `maxDepth` levels (deeper
/// parts are kept as single parts).
public enum SieveMIMEParser {
    /// The nesting depth beyond which parts are not split any more.
    public static let maxDepth = 32

    /// Parses the entity in `bytes` (header, empty line, body).
    public static func parse(_ bytes: ArraySlice<UInt8>, defaultType: SieveMIMEContentType = .textPlain) -> SieveMIMEEntity {
        parse(bytes, defaultType: defaultType, depth: 0)
    }

    /// Parses an entity whose header was parsed already (the top-level message).
    public static func parse(
        body: ArraySlice<UInt8>, headerFields: [SieveHeaderField], headerRange: Range<Int>
    ) -> SieveMIMEEntity {
        makeEntity(body: body, headerFields: headerFields, headerRange: headerRange, defaultType: .textPlain, depth: 0)
    }

    private static func parse(_ bytes: ArraySlice<UInt8>, defaultType: SieveMIMEContentType, depth: Int) -> SieveMIMEEntity {
        let header = SieveMessageHeaderParser.parse(bytes)
        let body = bytes[header.bodyOffset..<bytes.endIndex]
        return makeEntity(
            body: body, headerFields: header.fields, headerRange: bytes.startIndex..<header.bodyOffset,
            defaultType: defaultType, depth: depth)
    }

    private static func makeEntity(
        body: ArraySlice<UInt8>, headerFields: [SieveHeaderField], headerRange: Range<Int>,
        defaultType: SieveMIMEContentType, depth: Int
    ) -> SieveMIMEEntity {
        var contentType = defaultType
        var transferEncoding: String?
        for field in headerFields {
            let name = field.name.lowercased()
            if name == "content-type", let parsed = SieveMIMEContentType.parse(field.rawValue) {
                contentType = parsed
            } else if name == "content-transfer-encoding" {
                let value = field.rawValue.split(separator: "(").first.map(String.init) ?? ""
                transferEncoding = value.sieveMIMETrimmed().lowercased()
            }
        }
        var entity = SieveMIMEEntity(
            headerFields: headerFields, headerRange: headerRange, bodyRange: body.startIndex..<body.endIndex,
            contentType: contentType, transferEncoding: transferEncoding, content: .leaf)
        guard depth < maxDepth else { return entity }
        if contentType.type == "multipart", let boundary = contentType.parameters["boundary"], !boundary.isEmpty {
            let childDefault: SieveMIMEContentType = contentType.subtype == "digest" ? .messageRFC822 : .textPlain
            let split = splitMultipart(body, boundary: Array(boundary.utf8))
            let parts = split.parts.map { parse(body[$0], defaultType: childDefault, depth: depth + 1) }
            entity.content = .multipart(prologue: split.prologue, parts: parts, epilogue: split.epilogue)
        } else if contentType.type == "message" && (contentType.subtype == "rfc822" || contentType.subtype == "global") {
            entity.content = .message(parse(body, defaultType: .textPlain, depth: depth + 1))
        }
        return entity
    }

    /// The ranges of a multipart body: prologue, parts and epilogue (RFC 2046 section 5.1.1;
    /// the line break before a delimiter belongs to the delimiter).
    static func splitMultipart(_ body: ArraySlice<UInt8>, boundary: [UInt8])
        -> (prologue: Range<Int>, parts: [Range<Int>], epilogue: Range<Int>)
    {
        var parts: [Range<Int>] = []
        var prologue = body.startIndex..<body.endIndex
        var partStart: Int?
        var lineStart = body.startIndex
        while lineStart < body.endIndex {
            var lineEnd = lineStart
            while lineEnd < body.endIndex && body[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd < body.endIndex ? lineEnd + 1 : lineEnd
            if let isClose = delimiter(body, line: lineStart..<lineEnd, boundary: boundary) {
                // Content ends before the line break preceding the delimiter.
                var contentEnd = lineStart
                if contentEnd > body.startIndex && body[contentEnd - 1] == 0x0A {
                    contentEnd -= 1
                    if contentEnd > body.startIndex && body[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                }
                if let start = partStart {
                    parts.append(start..<max(start, contentEnd))
                } else {
                    prologue = body.startIndex..<contentEnd
                }
                if isClose {
                    return (prologue, parts, next..<body.endIndex)
                }
                partStart = next
            }
            lineStart = next
        }
        if let start = partStart {
            parts.append(start..<body.endIndex)
        }
        return (prologue, parts, body.endIndex..<body.endIndex)
    }

    /// `nil` when the line is not a delimiter, `true` for the close delimiter.
    private static func delimiter(_ body: ArraySlice<UInt8>, line: Range<Int>, boundary: [UInt8]) -> Bool? {
        let length = 2 + boundary.count
        guard line.count >= length, body[line.lowerBound] == UInt8(ascii: "-"), body[line.lowerBound + 1] == UInt8(ascii: "-")
        else { return nil }
        guard body[(line.lowerBound + 2)..<(line.lowerBound + length)].elementsEqual(boundary) else { return nil }
        var rest = body[(line.lowerBound + length)..<line.upperBound]
        var isClose = false
        if rest.count >= 2, rest[rest.startIndex] == UInt8(ascii: "-"), rest[rest.startIndex + 1] == UInt8(ascii: "-") {
            isClose = true
            rest = rest.dropFirst(2)
        }
        // Only transport padding may follow.
        guard rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) else { return nil }
        return isClose
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and line breaks.
    func sieveMIMETrimmed() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
