/// One dovecot.conf setting Homing implements: how a value is stored into ``HomingSettings``
/// and how it is printed back.
struct SettingDefinition: Sendable {
    /// Dovecot's name for the setting.
    var name: String
    /// Stores `value` (from `location`) into the settings, or throws when the value is invalid.
    var apply: @Sendable (inout HomingSettings, String, ConfigLocation) throws(ConfigError) -> Void
    /// The value as `doveconf` would print it.
    var render: @Sendable (HomingSettings) -> String

    /// The printed default value, which is also what `$name` means before it is set.
    var defaultValue: String { render(HomingSettings()) }
}
