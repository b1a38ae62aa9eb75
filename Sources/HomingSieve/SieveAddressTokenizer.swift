/// A lexical token of an RFC 5322 address header (comments and white space removed).
struct AddressToken: Sendable {
    enum Kind: Sendable {
        /// A run of atext (non-ASCII bytes included, RFC 6532).
        case atom(String)
        /// A quoted string, quotes removed and quoted pairs resolved.
        case quoted(String)
        /// A domain literal with its brackets, `[192.0.2.1]`.
        case domainLiteral(String)
        /// One of `< > @ , ; : . \ ]`, or an unterminated construct (as `\0`).
        case special(UInt8)
    }

    var kind: Kind
    /// Byte offsets in the header value.
    var start: Int
    var end: Int

    func isSpecial(_ character: Unicode.Scalar) -> Bool {
        if case .special(let byte) = kind { return byte == UInt8(ascii: character) }
        return false
    }

    var isWord: Bool {
        switch kind {
        case .atom, .quoted: return true
        default: return false
        }
    }

    var isDomainLiteral: Bool {
        if case .domainLiteral = kind { return true }
        return false
    }
}

/// Splits an address header into tokens (RFC 5322 section 3.2).
enum AddressTokenizer {
    static func tokenize(_ bytes: [UInt8]) -> [AddressToken] {
        var tokens: [AddressToken] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x20, 0x09, 0x0D, 0x0A:
                index += 1
            case UInt8(ascii: "("):
                index = skipComment(bytes, from: index)
            case UInt8(ascii: "\""):
                let start = index
                var text: [UInt8] = []
                index += 1
                var closed = false
                while index < bytes.count {
                    let inner = bytes[index]
                    if inner == UInt8(ascii: "\\"), index + 1 < bytes.count {
                        text.append(bytes[index + 1])
                        index += 2
                    } else if inner == UInt8(ascii: "\"") {
                        closed = true
                        index += 1
                        break
                    } else if inner == 0x0D || inner == 0x0A {
                        index += 1
                    } else {
                        text.append(inner)
                        index += 1
                    }
                }
                let kind: AddressToken.Kind = closed ? .quoted(String(decoding: text, as: UTF8.self)) : .special(0)
                tokens.append(AddressToken(kind: kind, start: start, end: index))
            case UInt8(ascii: "["):
                let start = index
                index += 1
                var closed = false
                while index < bytes.count {
                    if bytes[index] == UInt8(ascii: "\\") {
                        index += 2
                        continue
                    }
                    if bytes[index] == UInt8(ascii: "]") {
                        closed = true
                        index += 1
                        break
                    }
                    index += 1
                }
                index = min(index, bytes.count)
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                    .filter { $0 != " " && $0 != "\t" }
                tokens.append(AddressToken(kind: closed ? .domainLiteral(text) : .special(0), start: start, end: index))
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "@"), UInt8(ascii: ","), UInt8(ascii: ";"),
                UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "]"), UInt8(ascii: ")"):
                tokens.append(AddressToken(kind: .special(byte), start: index, end: index + 1))
                index += 1
            default:
                let start = index
                while index < bytes.count, isAtomByte(bytes[index]) { index += 1 }
                tokens.append(AddressToken(kind: .atom(String(decoding: bytes[start..<index], as: UTF8.self)), start: start, end: index))
            }
        }
        return tokens
    }

    /// The index after the comment that starts at `start` (nested, with quoted pairs).
    private static func skipComment(_ bytes: [UInt8], from start: Int) -> Int {
        var depth = 0
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"):
                index += 2
                continue
            case UInt8(ascii: "("):
                depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
                if depth == 0 { return index + 1 }
            default:
                break
            }
            index += 1
        }
        return bytes.count
    }

    /// atext, plus non-ASCII and stray controls (kept in the atom rather than dropped).
    private static func isAtomByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x09, 0x0D, 0x0A: return false
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "["),
            UInt8(ascii: "]"), UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "\\"),
            UInt8(ascii: ","), UInt8(ascii: "."), UInt8(ascii: "\""):
            return false
        default: return true
        }
    }
}
