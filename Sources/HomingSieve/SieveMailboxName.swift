/// Whether a `fileinto` folder name can be stored in a Maildir++ tree whose namespace uses
/// `separator` as hierarchy separator, with Dovecot's rules and messages (checked against
/// Dovecot 2.3 with `maildir:` storage):
///
/// - with Dovecot's default separator `.`, `Lists.Other` is the folder `Other` under `Lists`,
///   and `/` is not allowed (`Lists/Other` is invalid);
/// - with `separator = /`, `Lists/Other` is the hierarchy (stored as `.Lists.Other`) and `.` is
///   not allowed in a name;
/// - in both, a name may not begin or end with the separator, have two in a row, or begin
///   with `~`.
///
/// A name that is not valid makes delivery store the message in INBOX instead, as Dovecot
/// does (`fileinto action: failed to store into mailbox '...': <problem>`).
public enum SieveMailboxName {
    /// Dovecot's text for why `name` is not a valid mailbox name (`Invalid mailbox name: Begins
    /// with hierarchy separator`), or `nil` when it is valid.
    public static func problem(_ name: String, separator: Character = ".") -> String? {
        if name.isEmpty { return "Invalid mailbox name: Name is empty" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "Invalid mailbox name: Name must not have control characters"
        }
        if separator != ".", name.contains(".") {
            return "Character not allowed in mailbox name: '.'"
        }
        if name.first == separator { return "Invalid mailbox name: Begins with hierarchy separator" }
        if name.last == separator { return "Invalid mailbox name: Ends with hierarchy separator" }
        if name.contains(String([separator, separator])) {
            return "Invalid mailbox name: Has adjacent hierarchy separators"
        }
        if separator != "/", name.contains("/") { return "Invalid mailbox name: Name must not have '/' characters" }
        if name.first == "~" { return "Invalid mailbox name: Begins with '~'" }
        return nil
    }

    /// The Maildir++ name of a valid `name` (without the leading dot): the namespace separator
    /// turned into `.` (`Lists/Other` with separator `/` is `Lists.Other`).
    public static func storageName(_ name: String, separator: Character = ".") -> String {
        separator == "." ? name : String(name.map { $0 == separator ? "." : $0 })
    }
}
