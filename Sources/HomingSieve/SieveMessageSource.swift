/// The message a Sieve script runs on, as the interpreter sees it.
///
/// `SieveMessage` is the implementation used for delivery and `sieve-test`; tests may provide
/// their own.
public protocol SieveMessageSource: Sendable {
    /// The header fields in message order: names as written, values unfolded but not decoded.
    var headerFields: [SieveHeaderField] { get }
    /// The size of the message in octets (RFC 5228 `size`).
    var size: Int { get }
    /// The body as the `body` test (RFC 5173) sees it under `transform`: one string per
    /// part that qualifies (`:raw` and `:text` give one string). Bounded in size.
    func bodyTexts(_ transform: SieveBodyTransform) throws(SieveMessageError) -> [String]
    /// The MIME structure of the (bounded) body, for `foreverypart` and `:mime` (RFC 5703);
    /// the entity ranges index `body`.
    func mimeStructure() throws(SieveMessageError) -> (body: [UInt8], root: SieveMIMEEntity)
}

extension SieveMessageSource {
    /// The MIME structure parsed from the raw body (`bodyTexts(.raw)`).
    public func mimeStructure() throws(SieveMessageError) -> (body: [UInt8], root: SieveMIMEEntity) {
        let body = Array((try bodyTexts(.raw).first ?? "").utf8)
        return (body, SieveMIMEParser.parse(body: body[...], headerFields: headerFields, headerRange: 0..<0))
    }
}

/// One header field, name as written and value unfolded (CRLF/LF before white space removed).
public struct SieveHeaderField: Sendable, Hashable {
    /// The field name as written (`Subject`).
    public var name: String
    /// The unfolded value without the leading white space after the colon, not decoded.
    public var rawValue: String

    /// Creates a header field.
    public init(name: String, rawValue: String) {
        self.name = name
        self.rawValue = rawValue
    }
}

/// The body transforms of RFC 5173 section 5.
public enum SieveBodyTransform: Sendable, Hashable {
    /// `:raw`: the undecoded body after the header, MIME structure and all.
    case raw
    /// `:content "type" ...`: the decoded parts whose Content-Type matches one of the types
    /// (`""` matches every part, `"text"` every `text/*`, `"text/html"` exactly).
    case content([String])
    /// `:text` (the default): the text parts decoded, as if `:content "text"`.
    case text
}

/// A message that cannot be read.
public struct SieveMessageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for people.
    public var message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
