/// One script a delivery runs, and why it is in the list.
public struct SieveScriptChoice: Sendable, Hashable, CustomStringConvertible {
    /// Where the script comes from.
    public enum Role: Sendable, Hashable {
        /// `sieve_before`, `sieve_before2`...
        case before
        /// The user's own script (`sieve`).
        case personal
        /// `sieve_default`, because the user has no script of their own.
        case defaultScript
        /// `sieve_after`, `sieve_after2`...
        case after
    }

    /// The script's path.
    public var path: String
    /// Why it runs.
    public var role: Role
    /// For `sieve_default`: the personal script that does not exist.
    public var missingPersonal: String?

    public init(path: String, role: Role, missingPersonal: String? = nil) {
        self.path = path
        self.role = role
        self.missingPersonal = missingPersonal
    }

    /// The path, with `(sieve_default: no <personal>)` for a default script.
    public var description: String {
        guard role == .defaultScript else { return path }
        return path + " (sieve_default: no \(missingPersonal ?? "personal script"))"
    }
}
