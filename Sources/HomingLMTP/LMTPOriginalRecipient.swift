/// The `ORCPT=` parameter of `RCPT TO` (RFC 3461 section 4.2): the recipient as the sender
/// originally addressed it, `addr-type ";" xtext`.
///
/// `rfc822;alice+2Bx@example.com` decodes its xtext (`+2B` is `+`); `utf-8;...` (RFC 6533)
/// decodes `\x{HEX}` escapes and may carry UTF-8 directly. Other address types keep their xtext
/// decoded the RFC 3461 way.
public struct LMTPOriginalRecipient: Sendable, Hashable, CustomStringConvertible {
    /// The address type, lower-cased (`rfc822`, `utf-8`).
    public var addressType: String
    /// The address, decoded.
    public var address: String
    /// The parameter value exactly as sent, to pass on unchanged.
    public var encoded: String

    /// Creates a value from its parts (tests, and a relay building its own).
    public init(addressType: String, address: String, encoded: String) {
        self.addressType = addressType
        self.address = address
        self.encoded = encoded
    }

    /// Decodes an `ORCPT` value; `nil` when it is not `addr-type ";" xtext` with valid escapes.
    public init?(parsing value: String) {
        guard let semicolon = value.firstIndex(of: ";") else { return nil }
        let type = value[..<semicolon]
        let text = value[value.index(after: semicolon)...]
        guard !type.isEmpty, !text.isEmpty,
            type.utf8.allSatisfy({ Self.isAtomByte($0) })
        else { return nil }
        let lowered = type.lowercased()
        let decoded = lowered == "utf-8" ? Self.decodeUTF8AddressText(text) : Self.decodeXtext(text)
        guard let decoded, !decoded.isEmpty else { return nil }
        self.addressType = lowered
        self.address = decoded
        self.encoded = value
    }

    public var description: String { encoded }

    /// The address when it is an Internet mail address (`rfc822` or `utf-8` type), `nil` for
    /// other address types (`x400`...), which cannot stand in for a recipient.
    public var mailAddress: String? {
        addressType == "rfc822" || addressType == "utf-8" ? address : nil
    }

    /// RFC 3461 xtext: printable ASCII but `+` and `=`, and `+HH` for any byte; nil for any
    /// other byte, a broken escape or bytes that are not UTF-8.
    static func decodeXtext(_ text: Substring) -> String? {
        guard text.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E && $0 != UInt8(ascii: "=") }),
            let bytes = Xtext.decodeEscapes(text)
        else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// RFC 6533 `utf-8-addr-xtext` / `utf-8-addr-unitext`: printable ASCII but `+`, `=` and `\`,
    /// UTF-8 as is, and `\x{HEX}` for a code point.
    static func decodeUTF8AddressText(_ text: Substring) -> String? {
        guard String(validating: text.utf8, as: UTF8.self) != nil else { return nil }
        var result = ""
        var rest = text[...]
        while let character = rest.first {
            if character == "\\" {
                guard rest.hasPrefix("\\x{"), let close = rest.firstIndex(of: "}") else { return nil }
                let hex = rest[rest.index(rest.startIndex, offsetBy: 3)..<close]
                guard (1...6).contains(hex.count), let value = UInt32(hex, radix: 16),
                    let scalar = Unicode.Scalar(value)
                else { return nil }
                result.unicodeScalars.append(scalar)
                rest = rest[rest.index(after: close)...]
                continue
            }
            if character.isASCII {
                guard let byte = character.asciiValue, byte >= 0x21, byte <= 0x7E, byte != UInt8(ascii: "+"),
                    byte != UInt8(ascii: "=")
                else { return nil }
            }
            result.append(character)
            rest = rest.dropFirst()
        }
        return result
    }

    /// Letters, digits and `-` (an address type is an atom such as `rfc822` or `utf-8`).
    private static func isAtomByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
    }
}
