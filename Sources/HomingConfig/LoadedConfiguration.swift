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

    /// The assignments as read, for printing.
    var raw: RawConfiguration

    /// The settings that differ from the defaults, in `doveconf -n` layout: a header comment,
    /// global settings and sections sorted by name with two-space indentation, then
    /// `protocol lmtp { }` with what was set there.
    public func nonDefaultSettingsText() -> String {
        NonDefaultSettingsPrinter(configuration: self).text()
    }
}
