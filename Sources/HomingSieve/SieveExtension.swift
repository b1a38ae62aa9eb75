/// The Sieve extensions Homing knows, by their `require` capability names.
public enum SieveExtension: String, Sendable, Hashable, CaseIterable {
    /// RFC 5228 `fileinto`.
    case fileinto
    /// RFC 5228 `envelope`.
    case envelope
    /// RFC 5228 `encoded-character`.
    case encodedCharacter = "encoded-character"
    /// RFC 5429 `reject`.
    case reject
    /// RFC 5429 `ereject`.
    case ereject
    /// RFC 4790 `i;ascii-numeric` comparator.
    case comparatorAsciiNumeric = "comparator-i;ascii-numeric"
    /// RFC 5231 `relational`.
    case relational
    /// RFC 5233 `subaddress`.
    case subaddress
    /// RFC 3894 `copy`.
    case copy
    /// RFC 5229 `variables`.
    case variables
    /// RFC 5232 `imap4flags`.
    case imap4flags
    /// RFC 5173 `body`.
    case body
    /// RFC 5230 `vacation`.
    case vacation
    /// RFC 6131 `vacation-seconds`.
    case vacationSeconds = "vacation-seconds"
    /// RFC 5260 `date`.
    case date
    /// RFC 5260 `index`.
    case index
    /// RFC 5490 `mailbox`.
    case mailbox
    /// RFC 6609 `include`.
    case include
    /// draft-ietf-sieve-regex `regex`.
    case regex
    /// RFC 5183 `environment`.
    case environment
    /// RFC 7352 `duplicate`.
    case duplicate

    /// The extension a command needs, `nil` for core commands and unknown names.
    static func requiredForCommand(_ name: String) -> SieveExtension? {
        switch name {
        case "fileinto": return .fileinto
        case "reject": return .reject
        case "ereject": return .ereject
        case "set": return .variables
        case "setflag", "addflag", "removeflag": return .imap4flags
        case "vacation": return .vacation
        case "include", "return", "global": return .include
        default: return nil
        }
    }

    /// The extension a test needs, `nil` for core tests and unknown names.
    static func requiredForTest(_ name: String) -> SieveExtension? {
        switch name {
        case "envelope": return .envelope
        case "string": return .variables
        case "hasflag": return .imap4flags
        case "body": return .body
        case "date", "currentdate": return .date
        case "mailboxexists": return .mailbox
        case "environment": return .environment
        case "duplicate": return .duplicate
        default: return nil
        }
    }
}
