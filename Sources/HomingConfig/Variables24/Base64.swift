/// Base64 as Dovecot 2.4's `base64` and `unbase64` filters use it (RFC 4648, standard or URL
/// alphabet, padding optional).
enum Base64 {
    private static let standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let url = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8], url useURL: Bool, pad: Bool) -> String {
        let alphabet = useURL ? url : standard
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            let characters = chunk.count + 1
            for position in 0..<4 {
                if position < characters {
                    out.append(alphabet[Int((value >> (18 - 6 * UInt32(position))) & 0x3F)])
                } else if pad {
                    out.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes what it can: characters outside the alphabet (and padding) are skipped, as
    /// Dovecot's lenient decoder does.
    static func decode(_ text: [UInt8], url useURL: Bool) -> [UInt8] {
        let alphabet = useURL ? url : standard
        var table = [Int](repeating: -1, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = index }
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in text {
            let value = table[Int(byte)]
            guard value >= 0 else { continue }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }
}
