/// Loads a dovecot.conf tree into ``HomingSettings``.
///
/// The syntax is Dovecot's: `key = value`, `#` comments, `\` continuation lines, quoted values,
/// `name [argument] { ... }` sections, `!include` / `!include_try` (globs, relative to the including
/// file), `$setting` references and `key = <file` values. Settings Homing does not act on give one
/// ``ConfigWarning`` per name; bad values of implemented settings, a missing `postmaster_address`
/// and `protocols` without `lmtp` are ``ConfigError``s (`file:line: what is wrong`).
public enum ConfigurationLoader {
    /// Reads and checks the configuration at `path` (usually /etc/dovecot/dovecot.conf).
    public static func load(path: String) throws(ConfigError) -> LoadedConfiguration {
        var reader = ConfigTreeReader()
        try reader.read(path: path)
        return try finish(reader, path: path)
    }

    /// Reads and checks configuration `text` as if it were the file `file`; `!include` and `<file`
    /// paths are relative to `baseDirectory` (default: the directory of `file`).
    public static func parse(text: String, file: String, baseDirectory: String? = nil) throws(ConfigError) -> LoadedConfiguration {
        var reader = ConfigTreeReader()
        try reader.read(text: text, file: file, directory: baseDirectory ?? ConfigFileAccess.directory(of: file))
        try reader.finish()
        return try finish(reader, path: file)
    }

    private static func finish(_ reader: ConfigTreeReader, path: String) throws(ConfigError) -> LoadedConfiguration {
        let global = try SettingsBuilder.globalSettings(from: reader.raw)
        let settings = try SettingsBuilder.lmtpSettings(from: reader.raw, global: global)
        try SettingsBuilder.validate(settings, raw: reader.raw)
        return LoadedConfiguration(settings: settings, globalSettings: global, warnings: reader.warnings,
                                   path: path, files: reader.raw.files, raw: reader.raw)
    }
}
