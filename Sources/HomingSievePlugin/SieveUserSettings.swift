import Glibc
import HomingConfig
import HomingDelivery
import HomingSieve

/// Pigeonhole's `plugin { sieve... }` settings for one user: the configured values with the
/// userdb's fields of the same names on top, `~` and `%` variables expanded.
///
/// - `sieve = file:~/sieve;active=~/.dovecot.sieve`: the user's scripts live in `~/sieve`
///   (where `include :personal` looks), the one that runs is `~/.dovecot.sieve` (usually a
///   symlink to one of them). `sieve = ~/.dovecot.sieve` names the script directly (includes
///   then come from `sieve_dir`, default `~/sieve`).
/// - `sieve_default`: run when the user has no script of their own.
/// - `sieve_before`, `sieve_before2`, ... and `sieve_after`, ...: scripts (or directories of
///   `*.sieve` files, in name order) run before and after the user's.
/// - `sieve_global` (or the older `sieve_global_dir`): where `include :global` looks.
/// - `sieve_user_log`: where the user's script errors are written (default: the active script's
///   path with `.log` appended, `~/.dovecot.sieve.log`).
/// - `sieve_extensions`, `sieve_global_extensions`: which extensions scripts may require
///   (Pigeonhole's syntax, `+name -name` against the default set).
/// - `sieve_editheader_*`, `sieve_spamtest_*`, `sieve_virustest_*`, `sieve_user_email`: how
///   those extensions behave.
public struct SieveUserSettings: Sendable, Hashable {
    /// The script that runs for the user, if configured (it may not exist).
    public var personalScript: String?
    /// Where `include :personal` finds `<name>.sieve`.
    public var personalDirectory: String?
    /// `sieve_default`.
    public var defaultScript: String?
    /// `sieve_before...`, in order (files or directories).
    public var before: [String]
    /// `sieve_after...`, in order.
    public var after: [String]
    /// Where `include :global` finds `<name>.sieve`.
    public var globalDirectory: String?
    /// Where the user's script errors are written.
    public var userLog: String?
    /// `sieve_max_script_size` in bytes (default 1M).
    public var maxScriptSize: Int
    /// The interpreter's limits and vacation bounds.
    public var runtime: SieveRuntimeSettings
    /// `sieve_redirect_envelope_from`: `sender` (default), `recipient`, `orig_recipient`,
    /// `user_email` or an `<address>`.
    public var redirectEnvelopeFrom: String
    /// `sieve_vacation_send_from_recipient` (no): vacation replies are sent with the
    /// recipient as envelope sender instead of `<>`.
    public var vacationSendFromRecipient: Bool
    /// The extensions scripts may require (`sieve_extensions`, `sieve_global_extensions`).
    public var extensions: SieveExtensionSet
    /// What Pigeonhole would warn about and Homing accepts: extension names only Pigeonhole
    /// implements, invalid `sieve_editheader_*` entries, inconsistent vacation periods.
    public var warnings: [String]

    /// The compile options for a script of `scope` (the user's own: `.personal`; `sieve_before`,
    /// `sieve_after`, `sieve_default` and `include :global`: `.global`).
    public func compileOptions(_ scope: SieveScriptScope) -> SieveCompileOptions {
        SieveCompileOptions(
            extensions: extensions, scope: scope, editHeader: runtime.editHeader, maxScriptSize: maxScriptSize)
    }

    /// Pigeonhole's vacation defaults (`EXT_VACATION_DEFAULT_*`): 1 day, no maximum, 7 days.
    static let vacationDefaults = (min: 86_400, max: 0, period: 7 * 86_400)

    /// Reads the settings for a resolved recipient: `plugin { }` with the userdb's `sieve*`
    /// fields on top, paths expanded for the user's name and home.
    public static func resolve(for user: DeliveryUser, settings: HomingSettings) throws(ConfigError) -> SieveUserSettings {
        var fields: [String: String] = [:]
        for field in user.record.fields where field.name.hasPrefix("sieve") { fields[field.name] = field.value }
        return try resolve(
            plugin: settings.plugin, fields: fields, user: user.user, home: user.home,
            recipientDelimiter: settings.recipientDelimiter, syntax: settings.variableSyntax,
            hostname: settings.effectiveHostname, postmasterAddress: settings.postmasterAddress)
    }

    /// Reads the settings for a user. `fields` are the userdb's fields (any `sieve*` name
    /// overrides the configured value).
    public static func resolve(
        plugin: [String: String], fields: [String: String], user: String, home: String?,
        recipientDelimiter: String, syntax: VariableSyntax = .dovecot23, hostname: String = "localhost",
        postmasterAddress: String? = nil
    ) throws(ConfigError) -> SieveUserSettings {
        func value(_ name: String) -> String? {
            let raw = fields[name] ?? plugin[name]
            guard let raw, !raw.isEmpty else { return nil }
            return raw
        }
        func path(_ name: String, _ raw: String) throws(ConfigError) -> String {
            try expand(raw, setting: name, user: user, home: home, syntax: syntax)
        }
        var settings = SieveUserSettings(
            personalScript: nil, personalDirectory: nil, defaultScript: nil, before: [], after: [],
            globalDirectory: nil, userLog: nil, maxScriptSize: 1 << 20,
            runtime: SieveRuntimeSettings(
                recipientDelimiter: recipientDelimiter, hostname: hostname, postmasterAddress: postmasterAddress),
            redirectEnvelopeFrom: "sender", vacationSendFromRecipient: false,
            extensions: .pigeonholeDefault, warnings: [])

        if let location = value("sieve") {
            let parsed = try parseLocation(location, setting: "sieve")
            let main = try path("sieve", parsed.path)
            if let active = parsed.options["active"] {
                settings.personalScript = try path("sieve", active)
                settings.personalDirectory = main
            } else if isDirectory(main) {
                settings.personalDirectory = main
                settings.personalScript = home.map { $0 + "/.dovecot.sieve" }
            } else {
                settings.personalScript = main
            }
        }
        if settings.personalDirectory == nil {
            if let directory = value("sieve_dir") {
                settings.personalDirectory = try path("sieve_dir", directory)
            } else if let home {
                settings.personalDirectory = home + "/sieve"
            }
        }
        if let location = value("sieve_default") {
            settings.defaultScript = try path("sieve_default", try parseLocation(location, setting: "sieve_default").path)
        }
        settings.before = try numbered("sieve_before", value: value).map { name, raw throws(ConfigError) in
            try path(name, try parseLocation(raw, setting: name).path)
        }
        settings.after = try numbered("sieve_after", value: value).map { name, raw throws(ConfigError) in
            try path(name, try parseLocation(raw, setting: name).path)
        }
        if let global = value("sieve_global") ?? value("sieve_global_dir") {
            settings.globalDirectory = try path("sieve_global", try parseLocation(global, setting: "sieve_global").path)
        }
        if let log = value("sieve_user_log") {
            settings.userLog = try path("sieve_user_log", log)
        } else if let script = settings.personalScript {
            settings.userLog = script + ".log"
        }
        if let size = value("sieve_max_script_size") {
            settings.maxScriptSize = try sizeValue(size, setting: "sieve_max_script_size")
        }
        if let count = value("sieve_max_actions") {
            settings.runtime.maxActions = try number(count, setting: "sieve_max_actions")
        }
        if let count = value("sieve_max_redirects") {
            settings.runtime.maxRedirects = try number(count, setting: "sieve_max_redirects")
        }
        if let period = value("sieve_vacation_min_period") {
            settings.runtime.vacationMinPeriod = try interval(period, setting: "sieve_vacation_min_period")
        }
        if let period = value("sieve_vacation_max_period") {
            settings.runtime.vacationMaxPeriod = try interval(period, setting: "sieve_vacation_max_period")
        }
        if let period = value("sieve_vacation_default_period") {
            settings.runtime.vacationDefaultPeriod = try interval(period, setting: "sieve_vacation_default_period")
        }
        settings.resetInconsistentVacationPeriods()
        if let from = value("sieve_redirect_envelope_from") {
            let allowed = ["sender", "recipient", "orig_recipient", "user_email"]
            guard allowed.contains(from) || (from.hasPrefix("<") && from.hasSuffix(">")) else {
                throw ConfigError(
                    "sieve_redirect_envelope_from: '\(from)' is not one of sender, recipient, orig_recipient, user_email or <address>")
            }
            settings.redirectEnvelopeFrom = from
        }
        if let flag = value("sieve_vacation_send_from_recipient") {
            switch flag.lowercased() {
            case "yes", "true", "1": settings.vacationSendFromRecipient = true
            case "no", "false", "0": settings.vacationSendFromRecipient = false
            default:
                throw ConfigError("sieve_vacation_send_from_recipient: invalid boolean value '\(flag)' (use yes or no)")
            }
        }
        try settings.readExtensionSettings(value)
        return settings
    }

    /// Pigeonhole's rule (`ext-vacation-common.c`): with a maximum set, a minimum above it or a
    /// default outside the bounds puts all three periods back to their defaults, with a warning.
    mutating func resetInconsistentVacationPeriods() {
        let minimum = runtime.vacationMinPeriod
        let maximum = runtime.vacationMaxPeriod
        let period = runtime.vacationDefaultPeriod
        guard maximum > 0, minimum > maximum || period < minimum || period > maximum else { return }
        runtime.vacationMinPeriod = Self.vacationDefaults.min
        runtime.vacationMaxPeriod = Self.vacationDefaults.max
        runtime.vacationDefaultPeriod = Self.vacationDefaults.period
        warnings.append(
            "vacation extension: invalid settings: violated sieve_vacation_min_period < "
                + "sieve_vacation_default_period < sieve_vacation_max_period")
    }

    /// `sieve_extensions`, `sieve_global_extensions`, `sieve_user_email`, `sieve_editheader_*`,
    /// `sieve_spamtest_*` and `sieve_virustest_*`.
    mutating func readExtensionSettings(_ value: (String) -> String?) throws(ConfigError) {
        do {
            let parsed = try SieveExtensionSet.parse(
                extensions: value("sieve_extensions"), globalExtensions: value("sieve_global_extensions"))
            extensions = parsed.set
            warnings += parsed.warnings
        } catch {
            throw ConfigError("\(error)")
        }
        if let email = value("sieve_user_email") {
            let trimmed = email.trimmingCharacters(in: " ")
            let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
                !trimmed.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0.asciiValue.map { $0 < 0x20 } == true })
            else {
                throw ConfigError("sieve_user_email: '\(email)' is not an address (write user@domain)")
            }
            runtime.userEmail = trimmed
        }
        var maxHeaderSize: Int?
        if let size = value("sieve_editheader_max_header_size") {
            maxHeaderSize = try Self.sizeValue(size, setting: "sieve_editheader_max_header_size")
        }
        let editHeader = SieveEditHeaderSettings.make(
            maxHeaderSize: maxHeaderSize, protected: value("sieve_editheader_protected"),
            forbidAdd: value("sieve_editheader_forbid_add"), forbidDelete: value("sieve_editheader_forbid_delete"))
        runtime.editHeader = editHeader.settings
        warnings += editHeader.warnings
        do {
            for test in [SieveScoreTestSettings.Test.spamtest, .virustest] {
                let prefix = "sieve_\(test.rawValue)_"
                var texts: [Int: String] = [:]
                for index in 0...10 {
                    if let text = value(prefix + "text_value\(index)") { texts[index] = text }
                }
                let parsed = try SieveScoreTestSettings.parse(
                    test, statusType: value(prefix + "status_type"), statusHeader: value(prefix + "status_header"),
                    maxValue: value(prefix + "max_value"), maxHeader: value(prefix + "max_header"), textValues: texts)
                if test == .spamtest { runtime.spamTest = parsed } else { runtime.virusTest = parsed }
            }
        } catch {
            throw ConfigError("\(error)")
        }
    }

    // MARK: - Pieces

    /// `[file:]path[;option=value]...` (Pigeonhole's script location syntax).
    static func parseLocation(_ text: String, setting: String) throws(ConfigError) -> (path: String, options: [String: String]) {
        var parts = text.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        var path = parts.removeFirst()
        if let colon = path.firstIndex(of: ":"), !path.hasPrefix("/"), !path.hasPrefix("~") {
            let driver = String(path[..<colon])
            guard driver == "file" else {
                throw ConfigError("\(setting): the '\(driver)' script storage is not supported (use file:)")
            }
            path = String(path[path.index(after: colon)...])
        }
        guard !path.isEmpty else { throw ConfigError("\(setting): empty script location in '\(text)'") }
        var options: [String: String] = [:]
        for part in parts where !part.isEmpty {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            options[pair[0]] = pair.count > 1 ? pair[1] : ""
        }
        return (path, options)
    }

    /// `~/` and `%` variables; the result must be an absolute path without `..`.
    static func expand(_ raw: String, setting: String, user: String, home: String?,
                       syntax: VariableSyntax = .dovecot23) throws(ConfigError) -> String {
        var text = raw
        if text == "~" || text.hasPrefix("~/") {
            guard let home else { throw ConfigError("\(setting): '\(raw)' uses ~ but the user has no home") }
            text = home + text.dropFirst()
        }
        let expanded: String
        do {
            var values = VariableExpander.userValues(user: user, service: "lmtp")
            if let home { values["home"] = home }
            expanded = try VariableExpander(values: values, syntax: syntax).expand(text)
        } catch {
            throw ConfigError("\(setting): \(error)")
        }
        guard expanded.hasPrefix("/") else {
            throw ConfigError("\(setting): '\(expanded)' is not an absolute path")
        }
        if expanded.split(separator: "/").contains("..") {
            throw ConfigError("\(setting): '\(expanded)' contains '..'")
        }
        return expanded
    }

    /// `name`, `name2`, `name3`... up to the first missing one.
    static func numbered(_ name: String, value: (String) -> String?) -> [(String, String)] {
        var result: [(String, String)] = []
        var index = 1
        while true {
            let key = index == 1 ? name : "\(name)\(index)"
            guard let raw = value(key) else { break }
            result.append((key, raw))
            index += 1
        }
        return result
    }

    static func number(_ text: String, setting: String) throws(ConfigError) -> Int {
        guard let value = Int(text), value >= 0 else {
            throw ConfigError("\(setting): '\(text)' is not a number")
        }
        return value
    }

    /// A size with an optional unit (`1M`).
    static func sizeValue(_ text: String, setting: String) throws(ConfigError) -> Int {
        do {
            let bytes = try DovecotSize.parse(text.trimmingCharacters(in: " "))
            guard bytes <= Int64(Int.max) else { throw DovecotValueError("size '\(text)' is too large") }
            return Int(bytes)
        } catch {
            throw ConfigError("\(setting): \(error)")
        }
    }

    /// A Dovecot time interval (`7d`, `1 day`, `12h`, `90 days`, or seconds), in seconds.
    static func interval(_ text: String, setting: String) throws(ConfigError) -> Int {
        do {
            return try DovecotInterval.seconds(text)
        } catch {
            throw ConfigError("\(setting): \(error)")
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var text = Substring(self)
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return String(text)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(self).trimmingCharacters(in: set)
    }
}
