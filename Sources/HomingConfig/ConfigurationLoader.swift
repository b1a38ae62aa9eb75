/// Loads a dovecot.conf tree into ``HomingSettings``.
///
/// The syntax is Dovecot's: `key = value`, `#` comments, `\` continuation lines, quoted values,
/// `name [argument] { ... }` sections, `!include` / `!include_try` (globs, relative to the including
/// file), `$setting` references and `key = <file` values. Settings Homing does not act on give one
/// ``ConfigWarning`` per name; bad values of implemented settings, a missing `postmaster_address`
/// and `protocols` without `lmtp` are ``ConfigError``s (`file:line: what is wrong`).
///
/// A file whose first setting is `dovecot_config_version = 2.4.x` is read as Dovecot 2.4 reads
/// it (see ``Dovecot24Reader``) into the same settings; any other file as Dovecot 2.3.
///
/// ``load(path:)`` throws the first error; ``loadAll(path:)`` goes on after errors and returns
/// every one of them in ``LoadedConfiguration/diagnostics``.
public enum ConfigurationLoader {
    /// Reads and checks the configuration at `path` (usually /etc/dovecot/dovecot.conf).
    public static func load(path: String) throws(ConfigError) -> LoadedConfiguration {
        let loaded = loadAll(path: path)
        if let error = loaded.diagnostics.firstError { throw error }
        return loaded
    }

    /// Reads and checks configuration `text` as if it were the file `file`; `!include` and `<file`
    /// paths are relative to `baseDirectory` (default: the directory of `file`).
    public static func parse(text: String, file: String, baseDirectory: String? = nil) throws(ConfigError) -> LoadedConfiguration {
        let loaded = parseAll(text: text, file: file, baseDirectory: baseDirectory)
        if let error = loaded.diagnostics.firstError { throw error }
        return loaded
    }

    /// Reads the configuration at `path`, collecting every error instead of stopping at the
    /// first. The settings hold whatever could be read.
    /// - Parameters:
    ///   - protocolName: whose `protocol NAME { }` filter applies: `lmtp` (the server and the
    ///     administration commands) or `lda` (`homing deliver`, as dovecot-lda reads
    ///     `protocol lda { }`).
    ///   - overrides: `-o key=value` settings, applied last (see ``ConfigOverride``).
    public static func loadAll(path: String, protocolName: String, overrides: [ConfigOverride] = [])
        -> LoadedConfiguration
    {
        let text: String
        do {
            text = try ConfigFileAccess.readText(at: path)
        } catch {
            guard case .system(let reason) = error else { return failed(path, "can't read \(path)") }
            return failed(path, "can't read configuration file \(path): \(reason)")
        }
        return parseAll(text: text, file: path, baseDirectory: nil, protocolName: protocolName, overrides: overrides)
    }

    /// Reads the configuration at `path` for the LMTP server, collecting every error.
    public static func loadAll(path: String) -> LoadedConfiguration {
        loadAll(path: path, protocolName: "lmtp")
    }

    /// ``parse(text:file:baseDirectory:)`` collecting every error.
    public static func parseAll(text: String, file: String, baseDirectory: String? = nil) -> LoadedConfiguration {
        parseAll(text: text, file: file, baseDirectory: baseDirectory, protocolName: "lmtp")
    }

    /// ``parseAll(text:file:baseDirectory:)`` for the `protocol NAME { }` filter of
    /// `protocolName`, with `-o` overrides.
    public static func parseAll(
        text: String, file: String, baseDirectory: String? = nil, protocolName: String,
        overrides: [ConfigOverride] = []
    ) -> LoadedConfiguration {
        let directory = baseDirectory ?? ConfigFileAccess.directory(of: file)
        if let version = Dovecot24Reader.configVersion(in: text, file: file) {
            var reader = Dovecot24Reader(version: version, protocolName: protocolName)
            reader.read(text: text, file: file, directory: directory)
            return reader.finish(path: file, overrides: overrides)
        }
        var reader = ConfigTreeReader(protocolName: protocolName)
        reader.read(text: text, file: file, directory: directory)
        try? reader.finish()
        reader.applyOverrides(overrides.map { ($0.key, $0.value) })
        var diagnostics = reader.diagnostics
        let global = SettingsBuilder.globalSettings(from: reader.raw, diagnostics: &diagnostics)
        let settings = SettingsBuilder.lmtpSettings(from: reader.raw, global: global, diagnostics: &diagnostics)
        SettingsBuilder.validate(settings, raw: reader.raw, diagnostics: &diagnostics)
        TemplateChecks.check(settings, raw: reader.raw, diagnostics: &diagnostics)
        for warning in reader.warnings { diagnostics.warning(warning.message, at: warning.location) }
        return LoadedConfiguration(settings: settings, globalSettings: global, warnings: reader.warnings,
                                   path: file, files: reader.raw.files, raw: reader.raw, diagnostics: diagnostics)
    }

    private static func failed(_ path: String, _ message: String) -> LoadedConfiguration {
        var diagnostics = ConfigDiagnostics()
        diagnostics.error(message)
        return LoadedConfiguration(settings: HomingSettings(), globalSettings: HomingSettings(), warnings: [],
                                   path: path, files: [], raw: RawConfiguration(), diagnostics: diagnostics)
    }
}

/// A `-o key=value` setting given on the command line (dovecot-lda's and doveadm's `-o`): it
/// replaces the setting wherever the files set it. `plugin/key=value` sets a `plugin { }`
/// setting (a Dovecot 2.3 file); in a Dovecot 2.4 file the key is a 2.4 name.
public struct ConfigOverride: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Parses `key=value`; nil without `=` or with an empty key.
    public init?(parsing text: String) {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        let key = String(text[..<equals]).trimmingBlanks()
        guard !key.isEmpty else { return nil }
        self.key = key
        self.value = String(text[text.index(after: equals)...]).trimmingBlanks()
    }
}
