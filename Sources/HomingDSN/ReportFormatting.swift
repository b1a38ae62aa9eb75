import Foundation
import HomingDelivery

/// Small pieces every report shares: header fields on one line, a unique boundary and
/// Message-ID, the original header as a MIME part.
enum ReportFormatting {
    /// `text` on one line: CR, LF and other control characters become spaces.
    static func singleLine(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
    }

    /// A random token for boundaries and Message-IDs.
    static func token() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 36) + String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    /// `<homing-dsn.TOKEN.SECONDS@host>`.
    static func messageID(hostname: String, now: Date) -> String {
        "<homing-dsn.\(token()).\(Int(now.timeIntervalSince1970))@\(singleLine(hostname))>"
    }

    /// The header block with CRLF line ends (bare LF and CRLF alike).
    static func crlf(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 32)
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == 10, previous != 13 { out.append(13) }
            out.append(byte)
            previous = byte
        }
        if let last = out.last, last != 10 { out += [13, 10] }
        return out
    }

    /// The original header as the report's last part: `text/rfc822-headers` (RFC 6522), with
    /// `Content-Transfer-Encoding: 8bit` when it has 8-bit bytes.
    static func headersPart(_ header: [UInt8], contentType: String = "text/rfc822-headers", description: String? = nil)
        -> [UInt8]
    {
        var part = ""
        if let description { part += "Content-Description: \(description)\r\n" }
        part += "Content-Type: \(contentType)\r\n"
        if header.contains(where: { $0 >= 0x80 }) { part += "Content-Transfer-Encoding: 8bit\r\n" }
        part += "\r\n"
        return Array(part.utf8) + crlf(header)
    }

    /// An address for a report field: `rfc822; alice@example.com`.
    static func typedAddress(_ address: String, type: String? = nil) -> String {
        "\(type ?? "rfc822"); \(singleLine(address))"
    }

    /// RFC 5322 date in the local time zone.
    static func date(_ date: Date) -> String { DeliveryHeaders.rfc5322Date(date) }
}
