/// Why a `mail_location` (or userdb `mail`) value or a mailbox name cannot be used.
///
/// The description is a sentence for an administrator: it names the value and what is wrong.
public enum MailLocationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The value is empty (Homing needs an explicit location; it does not probe for mail).
    case empty
    /// The value names a mailbox format other than maildir (`mbox`, `sdbox`, `mdbox`, ...).
    case unsupportedFormat(format: String, location: String)
    /// The value names no mailbox format Dovecot knows.
    case unknownFormat(format: String, location: String)
    /// A path (the root or an option's value) starts with `~` but the user has no home.
    case noHome(location: String)
    /// The home directory given for `~` expansion is not an absolute path.
    case relativeHome(home: String)
    /// A path is relative (`Maildir`, `~alice/Maildir`); `what` says which path.
    case relativePath(what: String, path: String, location: String)
    /// A path contains a `..` component.
    case parentComponent(what: String, path: String, location: String)
    /// The value contains NUL or another control character.
    case controlCharacter(location: String)
    /// The value has no mail root path (`maildir:`, `maildir::LAYOUT=fs`).
    case missingRoot(location: String)
    /// An option Dovecot does not know (`FOO=bar`).
    case unknownOption(option: String, location: String)
    /// An option with a value Homing cannot use (`LAYOUT=index`, `BROKENCHAR=ab`).
    case invalidOptionValue(option: String, value: String, reason: String, location: String)
    /// A mailbox name that cannot be stored safely; `reason` says why.
    case invalidMailboxName(name: String, reason: String)

    public var description: String {
        switch self {
        case .empty:
            return "mail location is empty: set mail_location (or return `mail` from the userdb), e.g. maildir:~/Maildir"
        case .unsupportedFormat(let format, let location):
            return "mail location \"\(location)\": Homing stores mail only in maildir (\(format) is not supported)"
        case .unknownFormat(let format, let location):
            return "mail location \"\(location)\": unknown mailbox format \"\(format)\" (Homing stores mail only in maildir)"
        case .noHome(let location):
            return "the user has no home directory, but the mail location \"\(location)\" uses ~"
        case .relativeHome(let home):
            return "home directory \"\(home)\" is not an absolute path"
        case .relativePath(let what, let path, let location):
            return "mail location \"\(location)\": \(what) \"\(path)\" is not an absolute path"
        case .parentComponent(let what, let path, let location):
            return "mail location \"\(location)\": \(what) \"\(path)\" contains a \"..\" component"
        case .controlCharacter(let location):
            return "mail location \(String(reflecting: location)) contains a control character"
        case .missingRoot(let location):
            return "mail location \"\(location)\": the mail root directory is missing"
        case .unknownOption(let option, let location):
            return "mail location \"\(location)\": unknown option \"\(option)\""
        case .invalidOptionValue(let option, let value, let reason, let location):
            return "mail location \"\(location)\": \(option)=\(value): \(reason)"
        case .invalidMailboxName(let name, let reason):
            return "invalid mailbox name \(String(reflecting: name)): \(reason)"
        }
    }
}
