#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Modified UTF-7 (RFC 3501 section 5.1.3), the encoding Dovecot uses for folder names on disk.
///
/// Printable US-ASCII stands for itself, `&` becomes `&-`, and every run of other characters
/// becomes `&` + the modified base64 (`,` instead of `/`, no padding) of its UTF-16BE form + `-`.
public enum ModifiedUTF7 {
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
        // Modified base64: the standard alphabet with `,` for `/`, no padding.
        for byte in Data(bytes).base64EncodedString().utf8 where byte != UInt8(ascii: "=") {
            output.append(byte == UInt8(ascii: "/") ? UInt8(ascii: ",") : byte)
        }
        output.append(UInt8(ascii: "-"))
        pending.removeAll(keepingCapacity: true)
    }
}
