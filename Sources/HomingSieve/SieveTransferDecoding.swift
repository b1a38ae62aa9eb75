/// Content-Transfer-Encoding decoders (RFC 2045 section 6) for MIME bodies and encoded words.
public enum SieveTransferDecoding {
    /// Decodes a body in `encoding` (`base64`, `quoted-printable`, `7bit`, `8bit`, `binary`,
    /// case-insensitive). Unknown encodings are returned as they are.
    public static func decode(_ body: ArraySlice<UInt8>, encoding: String?) -> [UInt8] {
        switch encoding?.lowercased() {
        case "base64":
            return decodeBase64Lenient(body)
        case "quoted-printable":
            return decodeQuotedPrintable(body)
        default:
            return Array(body)
        }
    }

    /// Base64 as in bodies: characters outside the alphabet (line breaks, junk) are skipped,
    /// decoding stops at the first `=`; a trailing partial group is decoded as far as it goes.
    public static func decodeBase64Lenient(_ text: some Collection<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var count = 0
        for byte in text {
            if byte == UInt8(ascii: "=") { break }
            guard let value = base64Value(byte) else { continue }
            accumulator = accumulator << 6 | UInt32(value)
            count += 1
            if count == 4 {
                output.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                output.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                output.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator = 0
                count = 0
            }
        }
        if count == 2 {
            output.append(UInt8(truncatingIfNeeded: accumulator >> 4))
        } else if count == 3 {
            output.append(UInt8(truncatingIfNeeded: accumulator >> 10))
            output.append(UInt8(truncatingIfNeeded: accumulator >> 2))
        }
        return output
    }

    /// Base64 as in encoded words: only alphabet characters and final padding; missing
    /// padding is accepted. `nil` when the text is not base64.
    public static func decodeBase64Strict(_ text: some Collection<UInt8>) -> [UInt8]? {
        var body = Array(text)
        var padding = 0
        while body.last == UInt8(ascii: "=") {
            body.removeLast()
            padding += 1
        }
        guard padding <= 2, body.count % 4 != 1, body.allSatisfy({ base64Value($0) != nil }) else {
            return nil
        }
        if padding > 0 && (body.count + padding) % 4 != 0 { return nil }
        return decodeBase64Lenient(body)
    }

    /// Quoted-printable (RFC 2045 section 6.7): `=XX` is a byte (hex digits in either case),
    /// `=` at the end of a line is a soft line break, white space at the end of a line is
    /// removed; a broken `=` sequence is kept as written. Line ends stay as in the input.
    public static func decodeQuotedPrintable(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var lineStart = text.startIndex
        while lineStart < text.endIndex {
            var lineEnd = lineStart
            while lineEnd < text.endIndex && text[lineEnd] != 0x0A { lineEnd += 1 }
            let hasNewline = lineEnd < text.endIndex
            var contentEnd = lineEnd
            var lineBreak: [UInt8] = hasNewline ? [0x0A] : []
            if contentEnd > lineStart && text[contentEnd - 1] == 0x0D {
                contentEnd -= 1
                if hasNewline { lineBreak = [0x0D, 0x0A] }
            }
            while contentEnd > lineStart && (text[contentEnd - 1] == 0x20 || text[contentEnd - 1] == 0x09) {
                contentEnd -= 1
            }
            var soft = false
            var index = lineStart
            while index < contentEnd {
                let byte = text[index]
                if byte == UInt8(ascii: "=") {
                    if index + 1 == contentEnd {
                        soft = true
                        index += 1
                        continue
                    }
                    if index + 2 < contentEnd,
                        let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2])
                    {
                        output.append(high << 4 | low)
                        index += 3
                        continue
                    }
                }
                output.append(byte)
                index += 1
            }
            if !soft { output += lineBreak }
            lineStart = hasNewline ? lineEnd + 1 : lineEnd
        }
        return output
    }

    /// The value of a hexadecimal digit, either case.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The value of a base64 character, `nil` outside the alphabet.
    static func base64Value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
