/// RFC 3461 xtext: `+XX` for `+`, `=`, and bytes outside `!`...`~`.
enum XtextEncoding {
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte >= 0x21, byte <= 0x7E, byte != UInt8(ascii: "+"), byte != UInt8(ascii: "=") {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                out += "+" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
