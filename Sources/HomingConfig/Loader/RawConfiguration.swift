/// What a dovecot.conf tree says, before values are checked and typed: the assignments Homing
/// acts on, grouped by where they were written. Values already have `$setting` references
/// resolved and `<file` contents read.
struct RawConfiguration: Sendable {
    /// One `key = value`.
    struct Assignment: Sendable, Hashable {
        var key: String
        var value: String
        var location: ConfigLocation
    }

    /// A `userdb [name] { }` block.
    struct Userdb: Sendable {
        var name: String?
        var location: ConfigLocation
        var assignments: [Assignment] = []
        /// Dovecot 2.4: the SQL/LDAP settings that apply to this block (see ``UserdbSettings/driverSettings``).
        var driverSettings: [ExtConfigEntry] = []
    }

    /// Where a setting was written: the sections around it (`plugin`, `protocol lmtp`,
    /// `userdb users`, `service lmtp/inet_listener lmtp`...; empty at top level) and its line.
    struct Located: Sendable, Hashable {
        var section: [String]
        var key: String
        var location: ConfigLocation
    }

    /// A `namespace [name] { }` block (blocks with the same name are one namespace).
    struct Namespace: Sendable {
        var name: String?
        var location: ConfigLocation
        var assignments: [Assignment] = []
    }

    /// A `unix_listener PATH { }` or `inet_listener NAME { }` block of `service lmtp`.
    struct Listener: Sendable {
        var name: String
        var location: ConfigLocation
        var assignments: [Assignment] = []
    }

    /// A `service NAME { }` block other than `service lmtp`: read whole, kept when Homing runs
    /// it (`quota-status`, a `script` for quota warnings), see ``SettingsBuilder``.
    struct Service: Sendable {
        var name: String
        var location: ConfigLocation
        var assignments: [Assignment] = []
        var unixListeners: [Listener] = []
        var inetListeners: [Listener] = []
    }

    /// The protocol whose `protocol NAME { }` filter applies: `lmtp` (the server and the
    /// administration commands) or `lda` (`homing deliver`). ``lmtpFilter`` and ``lmtpPlugin``
    /// hold that filter's settings.
    var protocolName = "lmtp"
    /// Top-level settings, in file order (implemented ones and others alike).
    var global: [Assignment] = []
    /// Settings inside `protocol lmtp { }` (`protocol lda { }` for `homing deliver`), in file
    /// order, then the `-o key=value` overrides.
    var lmtpFilter: [Assignment] = []
    /// `plugin { }` settings at top level and inside `protocol lmtp { }`.
    var globalPlugin: [Assignment] = []
    var lmtpPlugin: [Assignment] = []
    /// `userdb { }` blocks in file order.
    var userdbs: [Userdb] = []
    /// `passdb { }` blocks in file order, read as userdb blocks are (a passdb is looked up for
    /// LMTP proxying only; see ``HomingSettings/passdbs``).
    var passdbs: [Userdb] = []
    /// `namespace { }` blocks in file order.
    var namespaces: [Namespace] = []
    /// `service lmtp { process_limit client_limit }`, in file order.
    var lmtpServiceLimits: [Assignment] = []
    /// `service lmtp { }` listeners in file order (one entry per distinct path / name).
    var unixListeners: [Listener] = []
    var inetListeners: [Listener] = []
    /// `service stats { inet_listener NAME { } }`: the HTTP listeners of the metrics export.
    var statsInetListeners: [Listener] = []
    /// The other `service { }` blocks, in file order.
    var services: [Service] = []
    /// Every file read, in order.
    var files: [String] = []
    /// Every setting with the sections around it, in file order (for ``LoadedConfiguration/location(ofSetting:inSection:)``).
    var located: [Located] = []
    /// Dovecot 2.4: where each `plugin` entry Homing made came from (`quota_rule` from
    /// `quota_storage_size`, `sieve` from a `sieve_script` block...).
    var pluginOrigins: [String: ConfigLocation] = [:]

    /// The value `$key` stands for at this point: the `protocol lmtp { }` value when inside it
    /// and set there, else the global value, else the built-in default (nil when unknown).
    func currentValue(of key: String, inLMTPFilter: Bool) -> String? {
        if inLMTPFilter, let value = lmtpFilter.last(where: { $0.key == key }) { return value.value }
        if let value = global.last(where: { $0.key == key }) { return value.value }
        return SettingDefinitions.all[key]?.defaultValue
    }
}
