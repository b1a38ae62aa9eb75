/// Decodes RFC 2047 encoded words in an unfolded header value, for `header` tests.
///
/// `=?charset?B?...?=` and `=?charset?Q?...?=` are decoded (encoding letters in either case,
/// an RFC 2231 language suffix `charset*lang` ignored). White space between two encoded words
/// is dropped (RFC 2047 section 6.2); adjacent words in the same charset are joined before
/// conversion, so a character split between two words is kept whole. Like Dovecot, encoded
/// words are also recognised inside other text. A word that cannot be decoded (unknown
/// charset, broken base64, bad syntax) is left as written.
public enum SieveHeaderDecoder {
    /// The value with encoded words decoded to UTF-8; undecodable words are left as written.
    public static func decode(_ raw: String) -> String {
        guard raw.contains("=?") else { return raw }
        let bytes = Array(raw.utf8)
        var output = ""
        var literalStart = 0
        var index = 0
        // Bytes of consecutive encoded words in one charset, not yet converted.
        var pendingBytes: [UInt8] = []
        var pendingCharset: String?
        // Index where the text after the last decoded word starts (to drop white space).
        var afterWord: Int?

        func flushPending() {
            if let charset = pendingCharset {
                output += SieveCharset.decode(pendingBytes, charset: charset) ?? ""
            }
            pendingBytes.removeAll()
            pendingCharset = nil
        }

        while index + 1 < bytes.count {
            guard bytes[index] == UInt8(ascii: "="), bytes[index + 1] == UInt8(ascii: "?"),
                let word = EncodedWord.parse(bytes, at: index)
            else {
                index += 1
                continue
            }
            // Text between the previous word and this one: dropped if only white space.
            let between = bytes[literalStart..<index]
            let onlySpace = between.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
            if afterWord != nil && onlySpace {
                // Joined to the previous encoded word.
            } else {
                flushPending()
                output += String(decoding: between, as: UTF8.self)
            }
            if pendingCharset != nil && SieveCharset.normalizedName(pendingCharset ?? "")
                != SieveCharset.normalizedName(word.charset)
            {
                flushPending()
            }
            pendingCharset = word.charset
            pendingBytes += word.decoded
            index = word.end
            literalStart = word.end
            afterWord = word.end
        }
        flushPending()
        output += String(decoding: bytes[literalStart...], as: UTF8.self)
        return output
    }
}

/// One RFC 2047 encoded word, decoded to bytes in its charset.
struct EncodedWord {
    var charset: String
    var decoded: [UInt8]
    /// Index after the closing `?=`.
    var end: Int

    /// Parses the encoded word starting at `start` (`=?`), or `nil` when it is not one or
    /// cannot be decoded (unknown charset included).
    static func parse(_ bytes: [UInt8], at start: Int) -> EncodedWord? {
        var index = start + 2
        let charsetStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "?") {
            if !isTokenByte(bytes[index]) { return nil }
            index += 1
        }
        guard index < bytes.count, index > charsetStart, index + 2 < bytes.count else { return nil }
        let charset = String(decoding: bytes[charsetStart..<index], as: UTF8.self)
        let encoding = bytes[index + 1] | 0x20
        guard encoding == UInt8(ascii: "b") || encoding == UInt8(ascii: "q"),
            bytes[index + 2] == UInt8(ascii: "?")
        else { return nil }
        index += 3
        let textStart = index
        while index + 1 < bytes.count,
            !(bytes[index] == UInt8(ascii: "?") && bytes[index + 1] == UInt8(ascii: "="))
        {
            let byte = bytes[index]
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { return nil }
            index += 1
        }
        guard index + 1 < bytes.count else { return nil }
        let text = bytes[textStart..<index]
        let decoded: [UInt8]?
        if encoding == UInt8(ascii: "b") {
            decoded = SieveTransferDecoding.decodeBase64Strict(text)
        } else {
            decoded = decodeQ(text)
        }
        guard let decoded, SieveCharset.decode([], charset: charset) != nil else { return nil }
        return EncodedWord(charset: charset, decoded: decoded, end: index + 2)
    }

    /// RFC 2047 token characters (no specials, space or controls).
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        guard byte > 0x20 && byte < 0x7F else { return false }
        return !"()<>@,;:\"/[]?=".utf8.contains(byte)
    }

    /// The Q encoding: `_` is a space, `=XX` a byte; a broken `=` makes the word invalid.
    static func decodeQ(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "_") {
                output.append(0x20)
                index += 1
            } else if byte == UInt8(ascii: "=") {
                guard index + 2 < text.endIndex,
                    let high = SieveTransferDecoding.hexValue(text[index + 1]),
                    let low = SieveTransferDecoding.hexValue(text[index + 2])
                else { return nil }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }
}
