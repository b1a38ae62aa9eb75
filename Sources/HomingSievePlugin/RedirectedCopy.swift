import Foundation
import Glibc
import HomingDelivery
import HomingMaildir
import HomingSieve
import HomingSubmission

/// The copy Sieve's `redirect` sends, laid out as Pigeonhole's (`cmd-redirect.c`) is:
///
/// 1. the composer's `X-Sieve` and `X-Sieve-Redirected-From`,
/// 2. a new `Message-ID` when the message has none,
/// 3. the message as it was delivered to the user, minus every `Return-Path` field: the
///    `Delivered-To` and `Received` headers this delivery added (the next hops count them to
///    find loops), then the message's own header (as `editheader` left it for this redirect,
///    when the script edited it) and body.
///
/// The body is streamed from the spool, never loaded.
enum RedirectedCopy {
    /// The message to submit for `mail` (the composer's `.send`), where `source` is the message
    /// as Sieve read it from `message.spool` and `editedHeader` the header the script left for
    /// this redirect (`nil`: as received).
    static func make(
        _ mail: SieveOutgoingMail, message: DeliveryMessage, source: SieveMessage, editedHeader: HeaderReplacement? = nil,
        hostname: String, now: Date
    ) -> OutgoingMessage {
        let spoolPath = "/proc/self/fd/\(message.spool.fileDescriptor)"
        var prefix = mail.content
        if !source.headerFields.contains(where: { $0.name.lowercased() == "message-id" }) {
            prefix += Array("Message-ID: \(newMessageID(hostname: hostname, now: now))\n".utf8)
        }
        prefix += Array(message.traceHeaders.forwardedText.utf8)
        if let editedHeader {
            prefix += removingFields(named: "return-path", from: editedHeader.header)
            return OutgoingMessage(prefix: prefix, bodyFile: spoolPath, bodyOffset: editedHeader.bodyOffset)
        }
        // The message's own Return-Path fields go too, as Pigeonhole's header filter drops
        // them all. Only then is the header rewritten; a header past the parser's bound is
        // sent as it is.
        let hasReturnPath = source.headerFields.contains { $0.name.lowercased() == "return-path" }
        if hasReturnPath && !source.headerTruncated,
            let header = readPrefix(of: message.spool.fileDescriptor, length: source.bodyOffset)
        {
            prefix += removingFields(named: "return-path", from: header)
            return OutgoingMessage(prefix: prefix, bodyFile: spoolPath, bodyOffset: source.bodyOffset)
        }
        return OutgoingMessage(prefix: prefix, bodyFile: spoolPath, bodyOffset: 0)
    }

    /// `header` (a message's header section, LF or CRLF line ends) without the fields called
    /// `name` (compared case-insensitively, white space before the colon ignored), continuation
    /// lines included. Everything else, the blank line that ends the header too, is kept
    /// byte for byte.
    static func removingFields(named name: String, from header: [UInt8]) -> [UInt8] {
        let wanted = name.lowercased()
        var out: [UInt8] = []
        out.reserveCapacity(header.count)
        var dropping = false
        var start = 0
        while start < header.count {
            let end = header[start...].firstIndex(of: 10).map { $0 + 1 } ?? header.count
            let line = header[start..<end]
            let first = line.first ?? 0
            let isContinuation = first == 0x20 || first == 0x09
            if !isContinuation {
                dropping = fieldName(of: line).map { $0 == wanted } ?? false
            }
            if !dropping { out += line }
            start = end
        }
        return out
    }

    /// The lower-cased field name of a header line (`Return-Path : x` → `return-path`), `nil`
    /// for a line that is no field (the blank line, text without a colon).
    private static func fieldName(of line: ArraySlice<UInt8>) -> String? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        var nameEnd = colon
        while nameEnd > line.startIndex, line[nameEnd - 1] == 0x20 || line[nameEnd - 1] == 0x09 { nameEnd -= 1 }
        guard nameEnd > line.startIndex else { return nil }
        return String(decoding: line[line.startIndex..<nameEnd], as: UTF8.self).lowercased()
    }

    /// The first `length` bytes of the spool, or `nil` when they cannot be read.
    private static func readPrefix(of descriptor: Int32, length: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let count = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                return pread(descriptor, base + done, length - done, off_t(done))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            done += count
        }
        return bytes
    }

    /// A Message-ID for a redirected message that had none (Pigeonhole adds one too):
    /// `<homing-sieve.<seconds>.<random>@<hostname>>`.
    static func newMessageID(hostname: String, now: Date) -> String {
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let host = hostname.filter { $0.isASCII && !$0.isWhitespace && $0 != "<" && $0 != ">" }
        return "<homing-sieve.\(Int(now.timeIntervalSince1970)).\(random)@\(host.isEmpty ? "localhost" : host)>"
    }
}
