#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Session ids as Dovecot makes them: 22 characters of base64 (no padding) of 16 random bytes.
public enum LMTPSessionID {
    /// A new random session id, from `SystemRandomNumberGenerator`.
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// A new session id drawn from `generator` (tests pass a seeded generator).
    public static func random<Generator: RandomNumberGenerator>(using generator: inout Generator) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for _ in 0..<2 {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return encode(bytes)
    }

    /// Base64 without padding (`=`), standard alphabet.
    public static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.last == "=" { text.removeLast() }
        return text
    }
}
