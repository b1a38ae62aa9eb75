/// One logical line of a Dovecot-style configuration file, after comments are removed and
/// backslash-continued lines are joined.
struct ConfigStatement: Sendable, Hashable {
    /// What the line says.
    enum Kind: Sendable, Hashable {
        /// `key = value`. `quoted` is true when the value was written in quotes (already removed).
        case setting(key: String, value: String, quoted: Bool)
        /// `key = <path`: the value is the content of a file.
        case settingFromFile(key: String, path: String)
        /// `type [name] {`.
        case sectionStart(type: String, name: String?)
        /// `}`.
        case sectionEnd
        /// `!include pattern` or `!include_try pattern`.
        case include(pattern: String, optional: Bool)
    }

    var kind: Kind
    /// Where the statement starts.
    var location: ConfigLocation
}
