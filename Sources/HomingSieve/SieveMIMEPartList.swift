/// The MIME parts of a message in the order `foreverypart` visits them (RFC 5703 section 3,
/// as Pigeonhole iterates): depth first, the message itself first, then each part of a
/// multipart and the message enclosed in a `message/rfc822` part.
struct SieveMIMEPartList: Sendable {
    struct Part: Sendable {
        /// The part's entity (header, content type, ranges into `body`).
        var entity: SieveMIMEEntity
        /// One past the index of the part's last descendant: its descendants are
        /// `index + 1 ..< end`.
        var end: Int
        /// Whether the part contains other parts (a multipart or a `message/rfc822`).
        var isContainer: Bool
    }

    var parts: [Part] = []
    /// The body bytes the entities' ranges index.
    let body: [UInt8]

    init(body: [UInt8], root: SieveMIMEEntity) {
        self.body = body
        add(root)
    }

    private mutating func add(_ entity: SieveMIMEEntity) {
        let index = parts.count
        var isContainer = false
        parts.append(Part(entity: entity, end: index + 1, isContainer: false))
        switch entity.content {
        case .leaf:
            break
        case .multipart(_, let children, _):
            isContainer = true
            for child in children { add(child) }
        case .message(let enclosed):
            isContainer = true
            add(enclosed)
        }
        parts[index].end = parts.count
        parts[index].isContainer = isContainer
    }

    /// The text `extracttext` takes from part `index` (RFC 5703 section 7): a container gives
    /// the empty string; a single part its body with the transfer encoding removed, a text
    /// part converted to UTF-8 and HTML turned into plain text (as Pigeonhole does).
    func text(of index: Int) -> String {
        let part = parts[index]
        if part.isContainer { return "" }
        return SieveMIMEBodyExtractor.decodedText(part.entity, bytes: body[...], htmlToText: true)
    }
}

/// A `Content-Type` or `Content-Disposition` value as the `:type`, `:subtype`, `:contenttype`
/// and `:param` options of `header :mime` see it (RFC 5703 section 4.2).
enum SieveMIMEHeaderOption {
    case type, subtype, contentType
    case parameters([String])

    /// The values for the field `name` with `value`: for another field than those two, the
    /// empty string; for a value that does not parse, the empty string.
    func values(name: String, value: String) -> [String] {
        let lowered = name.lowercased()
        let isContentType = lowered == "content-type"
        guard isContentType || lowered == "content-disposition" else { return [""] }
        let bytes = Array(value.utf8)
        var index = 0
        SieveMIMEContentType.skipSpaceAndComments(bytes, &index)
        var token = SieveMIMEContentType.readToken(bytes, &index)
        var subtype: String?
        if isContentType {
            SieveMIMEContentType.skipSpaceAndComments(bytes, &index)
            guard !token.isEmpty, index < bytes.count, bytes[index] == UInt8(ascii: "/") else { return [""] }
            index += 1
            SieveMIMEContentType.skipSpaceAndComments(bytes, &index)
            let sub = SieveMIMEContentType.readToken(bytes, &index)
            guard !sub.isEmpty else { return [""] }
            subtype = sub
            token += "/" + sub
        } else if token.isEmpty {
            return [""]
        }
        SieveMIMEContentType.skipSpaceAndComments(bytes, &index)
        guard index == bytes.count || bytes[index] == UInt8(ascii: ";") else { return [""] }
        switch self {
        case .type:
            return [String(token.prefix { $0 != "/" })]
        case .subtype:
            return [subtype ?? ""]
        case .contentType:
            return [token]
        case .parameters(let names):
            // As Pigeonhole: a field without any of the parameters gives the empty string.
            let parameters = SieveMIMEContentType.parseParameters(bytes, from: index)
            let found = names.compactMap { parameters[$0.lowercased()] }
            return found.isEmpty ? [""] : found
        }
    }
}
