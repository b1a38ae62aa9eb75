/// The `XRCPTFORWARD=` parameter of `RCPT TO`, as Dovecot's LMTP proxy sends it: fields a
/// proxy hands the next hop for one recipient (its passdb's `forward_*` fields, without the
/// `forward_` prefix).
///
/// On the wire each field is `name=value`, tab-escaped the way Dovecot escapes (`\u{1}` then
/// `1`, `t`, `r`, `n` or `0` for SOH, TAB, CR, LF and NUL), the fields joined by TAB, the whole
/// as RFC 3461 xtext: `forward_foo=bar` and `forward_Two=x=y` give `foo+3Dbar+09Two+3Dx+3Dy`
/// (observed from Dovecot 2.3.19). A server offers the parameter (the `XRCPTFORWARD` LHLO
/// capability) to clients in `login_trusted_networks` only.
public struct LMTPForwardFields: Sendable, Hashable, CustomStringConvertible {
    /// One forwarded field.
    public struct Field: Sendable, Hashable {
        /// The name, without the `forward_` prefix.
        public var name: String
        /// The value.
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The fields, in the order sent.
    public var fields: [Field]

    /// Fields to send.
    public init(_ fields: [Field]) {
        self.fields = fields
    }

    /// Decodes a parameter value: Dovecot's refusal (`501 5.5.4 Invalid XRCPTFORWARD= parameter:
    /// ...`) when its xtext is broken. A field without `=` has an empty value; bytes that are
    /// not UTF-8 are replaced (Dovecot takes them as they are).
    public static func parse(_ value: String) -> Result<LMTPForwardFields, LMTPCommandError> {
        guard let bytes = Xtext.decodeEscapes(value[...]) else {
            return .failure(LMTPCommandError(LMTPReply(
                501, "5.5.4", "Invalid XRCPTFORWARD= parameter: Invalid hexchar after '+' in xtext")))
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return .success(LMTPForwardFields(text.split(separator: "\t", omittingEmptySubsequences: false).map { entry in
            let field = tabUnescape(entry)
            guard let equals = field.firstIndex(of: "=") else { return Field(name: field, value: "") }
            return Field(name: String(field[..<equals]), value: String(field[field.index(after: equals)...]))
        }))
    }

    /// The parameter value to send.
    public var encoded: String {
        // A field without a value goes as its name alone, as Dovecot's auth hands it over.
        let joined = fields.map { Self.tabEscape($0.value.isEmpty ? $0.name : $0.name + "=" + $0.value) }
            .joined(separator: "\t")
        return Xtext.encode(joined)
    }

    public var description: String {
        fields.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")
    }

    /// The passdb fields named `forward_<name>` (the prefix in any case), as fields to forward;
    /// nil when there are none.
    public static func fromPassdb(_ fields: [(name: String, value: String)]) -> LMTPForwardFields? {
        let forwarded = fields.compactMap { field -> Field? in
            guard field.name.utf8.count > 8, field.name.lowercased().hasPrefix("forward_") else { return nil }
            return Field(name: String(field.name.dropFirst(8)), value: field.value)
        }
        return forwarded.isEmpty ? nil : LMTPForwardFields(forwarded)
    }

    private static let escape: Character = "\u{1}"

    static func tabEscape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\u{1}": out += "\u{1}1"
            case "\t": out += "\u{1}t"
            case "\r": out += "\u{1}r"
            case "\n": out += "\u{1}n"
            case "\u{0}": out += "\u{1}0"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func tabUnescape(_ text: Substring) -> String {
        var out = ""
        var escaping = false
        for character in text {
            if escaping {
                escaping = false
                switch character {
                case "1": out.append(escape)
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "n": out.append("\n")
                case "0": out.append("\u{0}")
                default: out.append(character)
                }
            } else if character == escape {
                escaping = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
