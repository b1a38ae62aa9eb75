import Foundation

/// What to do with one `redirect` action.
public enum SieveRedirectDecision: Sendable, Hashable {
    /// Send `mail` (header lines to prepend; the delivered message follows, `appendOriginal`).
    /// When `duplicateKey` is not `nil`, first check it in the user's `SieveTrackingStore`: if
    /// present, the same message was already forwarded to this address (a re-delivery) — log
    /// `discarded duplicate forward to <target>` and send nothing; after a successful send,
    /// record it for `SieveRedirectComposer.duplicatePeriod`.
    case send(SieveOutgoingMail, duplicateKey: String?)
    /// The message already carries `X-Sieve-Redirected-From` with this user's address: it was
    /// forwarded by this user before and came back. Send nothing (the caller keeps the message,
    /// so nothing is lost) and log `description`.
    case loop(target: String)
}

/// Builds redirected copies: the header lines prepended to the delivered message, and the
/// loop and duplicate checks (as Pigeonhole does, with Homing's own `X-Sieve` value).
public struct SieveRedirectComposer: Sendable {
    /// How long a forward is remembered to skip re-deliveries of the same message
    /// (Pigeonhole's `sieve_redirect_duplicate_period`, default 12 hours).
    public var duplicatePeriod: Int

    /// The header field naming the user that forwarded a message.
    public static let redirectedFromHeader = "X-Sieve-Redirected-From"

    /// Creates a composer.
    public init(duplicatePeriod: Int = 12 * 3_600) {
        self.duplicatePeriod = duplicatePeriod
    }

    /// The decision for redirecting the message with `headerFields`, delivered to
    /// `envelope.to`, to `target`. The envelope sender is kept (`<>` stays `<>`).
    public func prepare(headerFields: [SieveHeaderField], envelope: SieveEnvelope, target: String) -> SieveRedirectDecision {
        if Self.isLoop(headerFields: headerFields, recipient: envelope.to) { return .loop(target: target) }
        let prefix = SieveOutgoingHeaders.field("X-Sieve", SieveOutgoingHeaders.implementation)
            + SieveOutgoingHeaders.field(Self.redirectedFromHeader, SieveOutgoingHeaders.singleLine(envelope.to))
        let mail = SieveOutgoingMail(
            sender: envelope.from.trimmingCharacters(in: .whitespaces) == "<>" ? "" : envelope.from,
            recipients: [target], content: Array(prefix.utf8), appendOriginal: true)
        return .send(mail, duplicateKey: Self.duplicateKey(headerFields: headerFields, recipient: envelope.to, target: target))
    }

    /// Where the redirected copy of a stored message starts: after a leading `Return-Path`
    /// field (with its continuation lines), which the delivery added and which the next hop
    /// sets again from the envelope. `head` is the start of the stored file (a few KiB are
    /// enough); the result is the byte offset to stream from (0 when there is no Return-Path).
    public static func originalOffset(head: [UInt8]) -> Int {
        let name = Array("return-path:".utf8)
        guard head.count >= name.count,
            zip(head.prefix(name.count), name).allSatisfy({ ($0 | 0x20) == $1 || $0 == $1 })
        else { return 0 }
        var index = 0
        while let newline = head[index...].firstIndex(of: 10) {
            index = newline + 1
            guard index < head.count else { return index }
            if head[index] != UInt8(ascii: " ") && head[index] != UInt8(ascii: "\t") { return index }
        }
        return 0  // the field does not end within `head`: do not cut
    }

    /// Whether the message was already forwarded by `recipient` (an `X-Sieve-Redirected-From`
    /// field holds that address, compared case-insensitively).
    public static func isLoop(headerFields: [SieveHeaderField], recipient: String) -> Bool {
        let me = recipient.trimmingCharacters(in: .whitespaces).lowercased()
        return headerFields.contains { field in
            field.name.lowercased() == redirectedFromHeader.lowercased()
                && SieveOutgoingHeaders.bareAddress(field.rawValue).lowercased() == me
        }
    }

    /// The tracking key of "this message was forwarded by `recipient` to `target`": the
    /// Message-ID, the user and the target; `nil` when the message has no Message-ID (then
    /// re-deliveries cannot be recognised).
    public static func duplicateKey(headerFields: [SieveHeaderField], recipient: String, target: String) -> String? {
        guard let messageID = SieveOutgoingHeaders.first("Message-ID", in: headerFields).flatMap(SieveOutgoingHeaders.firstMessageID)
        else { return nil }
        return "redirect\u{0}\(messageID)\u{0}\(recipient.lowercased())\u{0}\(target.lowercased())"
    }
}

extension SieveRedirectDecision: CustomStringConvertible {
    /// The log line (after `redirect action: `).
    public var description: String {
        switch self {
        case .send(let mail, _):
            return "forwarded to <\(mail.recipients.first ?? "")>"
        case .loop(let target):
            return "not forwarding message to <\(target)>: the message was already redirected by this user (mail loop)"
        }
    }
}
