#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Base64 as Dovecot 2.4's `base64` and `unbase64` filters use it (RFC 4648, standard or URL
/// alphabet, padding optional), over Foundation's coder.
enum Base64 {
    static func encode(_ bytes: [UInt8], url useURL: Bool, pad: Bool) -> String {
        var text = Data(bytes).base64EncodedString()
        if !pad { while text.last == "=" { text.removeLast() } }
        guard useURL else { return text }
        return String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    /// Decodes what it can: characters outside the alphabet (and padding) are skipped, and bits
    /// that do not make a whole byte at the end are dropped, as Dovecot's lenient decoder does.
    static func decode(_ text: [UInt8], url useURL: Bool) -> [UInt8] {
        var standard: [UInt8] = []
        standard.reserveCapacity(text.count + 3)
        for byte in text {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                standard.append(byte)
            case UInt8(ascii: "+") where !useURL, UInt8(ascii: "/") where !useURL: standard.append(byte)
            case UInt8(ascii: "-") where useURL: standard.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_") where useURL: standard.append(UInt8(ascii: "/"))
            default: continue
            }
        }
        // A lone trailing character holds less than a byte; the rest is padded to a quantum.
        if standard.count % 4 == 1 { standard.removeLast() }
        while standard.count % 4 != 0 { standard.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(standard)).map { Array($0) } ?? []
    }
}
