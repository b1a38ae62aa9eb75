import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Converts text in a MIME charset (RFC 2045/2047 names such as `ISO-8859-1`, `windows-1252`,
/// `KOI8-R`) to a Swift string.
///
/// UTF-8, US-ASCII and ISO-8859-1 are converted in Swift; every other charset goes through
/// the C library's `iconv`, which knows the registered IANA names and their aliases.
public enum SieveCharset {
    /// The text of `bytes` in `charset`, or `nil` when the charset is unknown.
    ///
    /// A language suffix (`UTF-8*en`, RFC 2231) is ignored. Bytes that are invalid in a known
    /// charset become U+FFFD, as mail readers show them.
    public static func decode(_ bytes: some Collection<UInt8>, charset: String) -> String? {
        let name = normalizedName(charset)
        switch name {
        case "UTF-8", "UTF8", "US-ASCII", "ASCII", "ANSI_X3.4-1968", "US", "UNKNOWN-8BIT", "X-UNKNOWN":
            return String(decoding: bytes, as: UTF8.self)
        case "ISO-8859-1", "ISO8859-1", "LATIN1", "ISO_8859-1", "L1":
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        default:
            return iconvDecode(Array(bytes), from: name)
        }
    }

    /// The text of `bytes` in `charset`; unknown charsets and a missing charset are read as
    /// UTF-8 with invalid bytes replaced (the fallback for body parts).
    public static func decodeOrUTF8(_ bytes: some Collection<UInt8>, charset: String?) -> String {
        if let charset, let text = decode(bytes, charset: charset) {
            return text
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Upper-cased name without the RFC 2231 language suffix and surrounding space or quotes.
    static func normalizedName(_ charset: String) -> String {
        var name = Substring(charset)
        if let star = name.firstIndex(of: "*") {
            name = name[..<star]
        }
        let trimmed = name.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
        return trimmed.uppercased()
    }

    /// Converts with iconv; `nil` when iconv does not know the charset.
    private static func iconvDecode(_ input: [UInt8], from charset: String) -> String? {
        #if canImport(Glibc)
        guard !charset.isEmpty, charset.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        let handle = iconv_open("UTF-8", charset)
        guard handle != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(handle) }
        if input.isEmpty { return "" }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 2)
        var chunk = [UInt8](repeating: 0, count: 4096)
        var inputOffset = 0
        var source = input
        let total = source.count
        source.withUnsafeMutableBufferPointer { inBuffer in
            guard let inBase = inBuffer.baseAddress else { return }
            while inputOffset < total {
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBase + inputOffset)
                    .assumingMemoryBound(to: CChar.self)
                var inLeft = total - inputOffset
                let produced: Int
                let result: Int
                let errorCode: Int32
                (produced, result, errorCode) = chunk.withUnsafeMutableBufferPointer { outBuffer in
                    var outPointer: UnsafeMutablePointer<CChar>? = outBuffer.baseAddress.map {
                        UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self)
                    }
                    var outLeft = outBuffer.count
                    let converted = iconv(handle, &inPointer, &inLeft, &outPointer, &outLeft)
                    return (outBuffer.count - outLeft, converted, converted == -1 ? errno : 0)
                }
                output.append(contentsOf: chunk[0..<produced])
                inputOffset = total - inLeft
                if result != -1 { break }
                switch errorCode {
                case E2BIG:
                    continue
                case EILSEQ, EINVAL:
                    // An invalid or truncated sequence: show U+FFFD and go on after one byte.
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    inputOffset += 1
                default:
                    inputOffset = total
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
        #else
        return nil
        #endif
    }
}
