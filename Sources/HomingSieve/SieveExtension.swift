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
    /// RFC 5435 `enotify` (with the `mailto` method of RFC 5436).
    case enotify
    /// RFC 5703 `mime` (`:mime` and its options on `header`, `address` and `exists`).
    case mime
    /// RFC 5703 `foreverypart` (and `break`).
    case foreverypart
    /// RFC 5703 `extracttext`.
    case extracttext
    /// RFC 5463 `ihave` (and `error`).
    case ihave
    /// RFC 5293 `editheader` (off by default, as in Pigeonhole).
    case editheader
    /// RFC 5235 `spamtest` (off by default, as in Pigeonhole).
    case spamtest
    /// RFC 5235 `spamtestplus`: `spamtest` with `:percent` (off by default).
    case spamtestplus
    /// RFC 5235 `virustest` (off by default).
    case virustest

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
        case "notify": return .enotify
        case "foreverypart", "break": return .foreverypart
        case "extracttext": return .extracttext
        case "error": return .ihave
        case "addheader", "deleteheader": return .editheader
        default: return nil
        }
    }

    /// The extension a test needs, `nil` for core tests and unknown names. `spamtest` is
    /// provided by `spamtest` or `spamtestplus` and is handled by the validator.
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
        case "valid_notify_method", "notify_method_capability": return .enotify
        case "ihave": return .ihave
        case "virustest": return .virustest
        default: return nil
        }
    }
}
