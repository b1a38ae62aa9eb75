/// The body texts of RFC 5173 section 5 for a parsed MIME message.
///
/// - `:raw`: the body as written (MIME structure and all), one string.
/// - `:content types`: one string per entity whose type is selected (see
///   `SieveMIMEContentType.matches`): a single part gives its body with the transfer encoding
///   removed and, for `text/*`, converted from its charset to UTF-8; a selected multipart gives
///   only its prologue and epilogue (empty ones left out), a selected `message/rfc822` part only
///   the header of the enclosed message. Parts inside are searched only when their own type is
///   selected.
/// - `:text`: the `text/*` parts decoded as for `:content "text"`, with `text/html` turned into
///   plain text (tags removed, entities decoded) as Pigeonhole does.
public enum SieveMIMEBodyExtractor {
    /// The strings the `body` test matches for `transform`, on the message in `bytes` whose
    /// header is `root`'s header.
    public static func texts(_ transform: SieveBodyTransform, root: SieveMIMEEntity, bytes: ArraySlice<UInt8>) -> [String] {
        switch transform {
        case .raw:
            return [String(decoding: bytes[root.bodyRange], as: UTF8.self)]
        case .content(let selectors):
            var output: [String] = []
            collect(root, selectors: selectors, htmlToText: false, bytes: bytes, into: &output)
            return output
        case .text:
            var output: [String] = []
            collect(root, selectors: ["text"], htmlToText: true, bytes: bytes, into: &output)
            return output
        }
    }

    private static func collect(
        _ entity: SieveMIMEEntity, selectors: [String], htmlToText: Bool, bytes: ArraySlice<UInt8>,
        into output: inout [String]
    ) {
        let selected = selectors.contains { entity.contentType.matches($0) }
        switch entity.content {
        case .multipart(let prologue, let parts, let epilogue):
            if selected {
                for range in [prologue, epilogue] where !range.isEmpty {
                    output.append(String(decoding: bytes[range], as: UTF8.self))
                }
            }
            for part in parts {
                collect(part, selectors: selectors, htmlToText: htmlToText, bytes: bytes, into: &output)
            }
        case .message(let enclosed):
            if selected {
                output.append(String(decoding: bytes[enclosed.headerRange], as: UTF8.self))
            }
            collect(enclosed, selectors: selectors, htmlToText: htmlToText, bytes: bytes, into: &output)
        case .leaf:
            guard selected else { return }
            output.append(decodedText(entity, bytes: bytes, htmlToText: htmlToText))
        }
    }

    /// The body of a single part: transfer encoding removed, text converted to UTF-8.
    static func decodedText(_ entity: SieveMIMEEntity, bytes: ArraySlice<UInt8>, htmlToText: Bool) -> String {
        let decoded = SieveTransferDecoding.decode(bytes[entity.bodyRange], encoding: entity.transferEncoding)
        guard entity.contentType.type == "text" else {
            return String(decoding: decoded, as: UTF8.self)
        }
        let text = SieveCharset.decodeOrUTF8(decoded, charset: entity.contentType.parameters["charset"])
        if htmlToText && entity.contentType.subtype == "html" {
            return SieveHTMLText.extract(text)
        }
        return text
    }
}
