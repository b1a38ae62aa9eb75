/// Modified UTF-7 (RFC 3501 section 5.1.3), the encoding Dovecot uses for folder names on disk.
///
/// Printable US-ASCII stands for itself, `&` becomes `&-`, and every run of other characters
/// becomes `&` + the modified base64 (`,` instead of `/`, no padding) of its UTF-16BE form + `-`.
public enum ModifiedUTF7 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

    /// Encodes `text`; pure ASCII without `&` comes back unchanged.
    public static func encode(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        var pending: [UInt16] = []
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value <= 0x7E {
                flush(&pending, into: &output)
                output.append(UInt8(scalar.value))
                if scalar == "&" { output.append(UInt8(ascii: "-")) }
            } else {
                pending.append(contentsOf: Character(scalar).utf16)
            }
        }
        flush(&pending, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Writes the pending UTF-16 units as one `&...-` run.
    private static func flush(_ pending: inout [UInt16], into output: inout [UInt8]) {
        guard !pending.isEmpty else { return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(pending.count * 2)
        for unit in pending {
            bytes.append(UInt8(unit >> 8))
            bytes.append(UInt8(unit & 0xFF))
        }
        output.append(UInt8(ascii: "&"))
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = UInt32(bytes[index])
            let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let group = (b0 << 16) | (b1 << 8) | b2
            let characters = remaining >= 3 ? 4 : remaining + 1
            for position in 0..<characters {
                let sextet = Int((group >> UInt32(18 - 6 * position)) & 0x3F)
                output.append(alphabet[sextet])
            }
            index += 3
        }
        output.append(UInt8(ascii: "-"))
        pending.removeAll(keepingCapacity: true)
    }
}
