/// `NOTIFY=` of `RCPT TO` (RFC 3461 section 4.1): when the sender wants a delivery status
/// notification for this recipient. `NEVER` is the empty set.
public struct LMTPNotify: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// `SUCCESS`.
    public static let success = LMTPNotify(rawValue: 1)
    /// `FAILURE`.
    public static let failure = LMTPNotify(rawValue: 2)
    /// `DELAY`.
    public static let delay = LMTPNotify(rawValue: 4)

    /// `NEVER`, or the conditions joined by `,` in RFC 3461's order.
    public var description: String {
        if isEmpty { return "NEVER" }
        var words: [String] = []
        if contains(.success) { words.append("SUCCESS") }
        if contains(.failure) { words.append("FAILURE") }
        if contains(.delay) { words.append("DELAY") }
        return words.joined(separator: ",")
    }

    /// Parses `notify-esmtp-value = "NEVER" / 1#notify-list-element` (`notify-list-element =
    /// "SUCCESS" / "FAILURE" / "DELAY"`), in any case. `NEVER` together with another keyword,
    /// or nothing at all, is a syntax error (501); an unknown keyword in an otherwise valid list
    /// is unsupported (555); both with Dovecot's text, `Invalid NOTIFY= parameter value`.
    public static func parse(_ value: String) -> Result<LMTPNotify, LMTPCommandError> {
        var conditions: LMTPNotify = []
        var never = false
        var valid = true
        var unsupported = false
        var any = false
        for word in value.split(separator: ",", omittingEmptySubsequences: true) {
            any = true
            switch word.uppercased() {
            case "NEVER":
                if never || !conditions.isEmpty { valid = false }
                never = true
            case "SUCCESS":
                if never { valid = false }
                conditions.insert(.success)
            case "FAILURE":
                if never { valid = false }
                conditions.insert(.failure)
            case "DELAY":
                if never { valid = false }
                conditions.insert(.delay)
            default:
                unsupported = true
            }
        }
        guard valid, !unsupported, any else {
            let code = valid && unsupported ? 555 : 501
            return .failure(LMTPCommandError(LMTPReply(code, "5.5.4", "Invalid NOTIFY= parameter value")))
        }
        return .success(conditions)
    }
}

/// `RET=` of `MAIL FROM` (RFC 3461 section 4.3): how much of the message a notification returns.
public enum LMTPReturn: String, Sendable, Hashable {
    /// `RET=FULL`.
    case full = "FULL"
    /// `RET=HDRS`.
    case headers = "HDRS"
}

/// `ENVID=` of `MAIL FROM` (RFC 3461 section 4.4): the sender's id for the transaction, xtext.
public enum LMTPEnvelopeID {
    /// Decodes the xtext; the decoded id must be printable US-ASCII (graphic characters, space
    /// and tab), as RFC 3461 requires. Errors have Dovecot's texts.
    public static func parse(_ value: String) -> Result<String, LMTPCommandError> {
        guard let decoded = LMTPOriginalRecipient.decodeXtext(Substring(value)) else {
            return .failure(
                LMTPCommandError(LMTPReply(501, "5.5.4", "Invalid ENVID= parameter value: Invalid xtext")))
        }
        guard decoded.utf8.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }) else {
            return .failure(
                LMTPCommandError(
                    LMTPReply(501, "5.5.4", "Invalid ENVID= parameter value: Contains non-printable characters")))
        }
        return .success(decoded)
    }
}
