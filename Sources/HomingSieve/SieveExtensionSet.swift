/// Whether a script is the user's own or an administrator's: Pigeonhole's `sieve_global_extensions`
/// are available to administrator scripts only.
public enum SieveScriptScope: Sendable, Hashable {
    /// The user's script (`sieve`, `sieve_default` for the user), and scripts it includes with
    /// `include :personal`.
    case personal
    /// An administrator's script: `sieve_before`, `sieve_after`, `sieve_discard`, and scripts
    /// included with `include :global`.
    case global
}

/// Which Sieve extensions scripts may use, as Pigeonhole's `sieve_extensions` and
/// `sieve_global_extensions` settings decide.
///
/// - `enabled`: available to every script.
/// - `globalOnly`: available to administrator scripts only (`SieveScriptScope.global`); a
///   personal script that requires one fails to compile with "its use is restricted to global
///   scripts", even if `sieve_extensions` lists it too (as in Pigeonhole).
///
/// Pigeonhole's default set has every extension it implements except `vacation-seconds`,
/// `editheader`, `spamtest`, `spamtestplus` and `virustest` (`defaultOff`), which need
/// configuration to be useful.
public struct SieveExtensionSet: Sendable, Hashable {
    /// The extensions every script may require.
    public private(set) var enabled: Set<SieveExtension>
    /// The extensions only administrator scripts may require.
    public private(set) var globalOnly: Set<SieveExtension>

    /// Creates a set.
    public init(enabled: Set<SieveExtension>, globalOnly: Set<SieveExtension> = []) {
        self.enabled = enabled
        self.globalOnly = globalOnly
    }

    /// The extensions Pigeonhole leaves off until `sieve_extensions` names them.
    public static let defaultOff: Set<SieveExtension> = [
        .vacationSeconds, .editheader, .spamtest, .spamtestplus, .virustest,
    ]

    /// Pigeonhole's default: everything but `defaultOff` (what a configuration without
    /// `sieve_extensions` gets).
    public static let pigeonholeDefault = SieveExtensionSet(
        enabled: Set(SieveExtension.allCases).subtracting(defaultOff))

    /// Every extension Homing implements, for every script (tests and tools that want no
    /// restriction).
    public static let all = SieveExtensionSet(enabled: Set(SieveExtension.allCases))

    /// Whether a script of `scope` may use `ext`.
    public func allows(_ ext: SieveExtension, in scope: SieveScriptScope) -> Bool {
        switch scope {
        case .global: return enabled.contains(ext) || globalOnly.contains(ext)
        case .personal: return enabled.contains(ext) && !globalOnly.contains(ext)
        }
    }

    /// The `require` names a script of `scope` may use, sorted (for messages and tools).
    public func capabilities(in scope: SieveScriptScope) -> [String] {
        SieveExtension.allCases.filter { allows($0, in: scope) }.map(\.rawValue).sorted()
    }

    // MARK: - Settings

    /// Reads `sieve_extensions` and `sieve_global_extensions` (either `nil` or empty when not
    /// configured) with Pigeonhole's syntax: a space-separated list of names replaces the set
    /// (`sieve_extensions = fileinto reject` leaves only those two); when any name has a `+` or
    /// `-` prefix, the list edits the default instead (`+editheader -enotify`), and names
    /// without a prefix are added. `sieve_global_extensions` works the same way, starting from
    /// an empty set, and marks its extensions as available to administrator scripts only.
    ///
    /// Names Pigeonhole knows that Homing does not implement (`vnd.dovecot.pipe`,
    /// `imapflags`...) are ignored with a warning, so a configuration copied from Dovecot still
    /// loads; a name neither knows is an error.
    public static func parse(
        extensions: String?, globalExtensions: String? = nil
    ) throws(SieveExtensionSettingError) -> (set: SieveExtensionSet, warnings: [String]) {
        var warnings: [String] = []
        let enabled = try edit(
            pigeonholeDefault.enabled, with: extensions, setting: "sieve_extensions", warnings: &warnings)
        let global = try edit(
            [], with: globalExtensions, setting: "sieve_global_extensions", warnings: &warnings)
        return (SieveExtensionSet(enabled: enabled, globalOnly: global), warnings)
    }

    /// Names Pigeonhole 0.5 knows (core, extra, deprecated and plugin extensions) that Homing
    /// does not implement.
    public static let pigeonholeOnly: Set<String> = [
        "imapflags", "notify", "vnd.dovecot.duplicate", "mboxmetadata", "servermetadata", "special-use",
        "vnd.dovecot.debug", "vnd.dovecot.environment", "vnd.dovecot.report", "vnd.dovecot.pipe",
        "vnd.dovecot.filter", "vnd.dovecot.execute", "imapsieve", "vnd.dovecot.imapsieve",
        "vnd.dovecot.testsuite",
    ]

    private static func edit(
        _ base: Set<SieveExtension>, with value: String?, setting: String, warnings: inout [String]
    ) throws(SieveExtensionSettingError) -> Set<SieveExtension> {
        guard let value else { return base }
        let entries = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard !entries.isEmpty else { return base }
        var added: Set<SieveExtension> = []
        var removed: Set<SieveExtension> = []
        var relative = false
        for entry in entries {
            var name = Substring(entry)
            var remove = false
            if let first = name.first, first == "+" || first == "-" {
                relative = true
                remove = first == "-"
                name = name.dropFirst()
            }
            if name.isEmpty {
                throw SieveExtensionSettingError(setting: setting, entry: entry, problem: .emptyName)
            }
            if let known = SieveExtension(rawValue: String(name)) {
                if remove { removed.insert(known) } else { added.insert(known) }
                continue
            }
            if SieveValidator.builtInComparatorCapabilities.contains(String(name)) { continue }
            if pigeonholeOnly.contains(String(name)) {
                if !remove {
                    warnings.append("\(setting): ignored extension '\(name)': Homing does not implement it")
                }
                continue
            }
            throw SieveExtensionSettingError(setting: setting, entry: entry, problem: .unknownName)
        }
        if relative { return base.subtracting(removed).union(added) }
        return added
    }
}

/// A `sieve_extensions` or `sieve_global_extensions` entry that cannot be used.
public struct SieveExtensionSettingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the entry.
    public enum Problem: Sendable, Hashable {
        /// `+` or `-` without a name.
        case emptyName
        /// Neither Homing nor Pigeonhole knows the name.
        case unknownName
    }

    /// The setting (`sieve_extensions` or `sieve_global_extensions`).
    public var setting: String
    /// The entry as written (`+editheadr`).
    public var entry: String
    /// What is wrong.
    public var problem: Problem

    /// Creates an error.
    public init(setting: String, entry: String, problem: Problem) {
        self.setting = setting
        self.entry = entry
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case .emptyName:
            return "\(setting): '\(entry)' names no extension (write +name or -name)"
        case .unknownName:
            let known = SieveExtension.allCases.map(\.rawValue).sorted().joined(separator: " ")
            return "\(setting): unknown Sieve extension '\(entry)' (known: \(known))"
        }
    }
}
