/// A loaded dovecot.conf tree: the settings Homing runs with and what it chose to ignore.
public struct LoadedConfiguration: Sendable {
    /// The effective LMTP settings (global values with `protocol lmtp { }` overrides).
    public var settings: HomingSettings
    /// The settings without `protocol lmtp { }` overrides (what other protocols would see).
    public var globalSettings: HomingSettings
    /// One warning per ignored setting name or section type, in file order.
    public var warnings: [ConfigWarning]
    /// The top configuration file.
    public var path: String
    /// Every file read (the top file first, then includes in reading order).
    public var files: [String]
    /// Every error and warning found while loading (warnings as in ``warnings``). Later checks
    /// (drivers, plugins) add theirs here, pointing at settings with ``location(ofSetting:inSection:)``.
    public var diagnostics: ConfigDiagnostics
    /// The syntax the file is written in (also ``HomingSettings/variableSyntax``).
    public var syntax: VariableSyntax { settings.variableSyntax }

    /// The assignments as read, for printing.
    var raw: RawConfiguration

    init(settings: HomingSettings, globalSettings: HomingSettings, warnings: [ConfigWarning], path: String,
         files: [String], raw: RawConfiguration, diagnostics: ConfigDiagnostics = ConfigDiagnostics()) {
        self.settings = settings
        self.globalSettings = globalSettings
        self.warnings = warnings
        self.path = path
        self.files = files
        self.raw = raw
        self.diagnostics = diagnostics
    }

    /// The settings that differ from the defaults, in `doveconf -n` layout: a header comment,
    /// global settings and sections sorted by name with two-space indentation, then
    /// `protocol lmtp { }` with what was set there.
    public func nonDefaultSettingsText() -> String {
        NonDefaultSettingsPrinter(configuration: self).text()
    }

    /// Where `key` was last written: at the top level or in `protocol lmtp { }` when `section`
    /// is nil, else inside the section named `section` (`plugin`, `userdb users`,
    /// `service lmtp`, `quota "User quota"` as `quota User quota`...; a trailing part matches,
    /// so `inet_listener lmtp` finds `service lmtp/inet_listener lmtp`). Nil when not written.
    public func location(ofSetting key: String, inSection section: String? = nil) -> ConfigLocation? {
        raw.located.last { entry in
            guard entry.key == key else { return false }
            guard let section else { return entry.section.isEmpty || entry.section == ["protocol lmtp"] }
            let wanted = section.split(separator: "/").map(String.init)
            return entry.section.count >= wanted.count && Array(entry.section.suffix(wanted.count)) == wanted
        }?.location
    }

    /// Where a ``HomingSettings/plugin`` entry came from: its line in `plugin { }` (2.3), or the
    /// 2.4 setting or block it was made from (`quota_storage_size` for `quota_rule`).
    public func location(ofPluginSetting key: String) -> ConfigLocation? {
        if let origin = raw.pluginOrigins[key] { return origin }
        return location(ofSetting: key, inSection: "plugin")
    }

    /// Where a `userdb` block starts, by its position in ``HomingSettings/userdbs``.
    public func location(ofUserdb index: Int) -> ConfigLocation? {
        settings.userdbs.indices.contains(index) ? settings.userdbs[index].location : nil
    }
}
