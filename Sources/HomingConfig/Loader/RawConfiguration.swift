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

    /// Top-level settings, in file order (implemented ones and others alike).
    var global: [Assignment] = []
    /// Settings inside `protocol lmtp { }`, in file order.
    var lmtpFilter: [Assignment] = []
    /// `plugin { }` settings at top level and inside `protocol lmtp { }`.
    var globalPlugin: [Assignment] = []
    var lmtpPlugin: [Assignment] = []
    /// `userdb { }` blocks in file order.
    var userdbs: [Userdb] = []
    /// `namespace { }` blocks in file order.
    var namespaces: [Namespace] = []
    /// `service lmtp { }` listeners in file order (one entry per distinct path / name).
    var unixListeners: [Listener] = []
    var inetListeners: [Listener] = []
    /// Every file read, in order.
    var files: [String] = []

    /// The value `$key` stands for at this point: the `protocol lmtp { }` value when inside it
    /// and set there, else the global value, else the built-in default (nil when unknown).
    func currentValue(of key: String, inLMTPFilter: Bool) -> String? {
        if inLMTPFilter, let value = lmtpFilter.last(where: { $0.key == key }) { return value.value }
        if let value = global.last(where: { $0.key == key }) { return value.value }
        return SettingDefinitions.all[key]?.defaultValue
    }
}
