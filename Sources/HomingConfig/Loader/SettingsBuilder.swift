/// Turns a ``RawConfiguration`` into typed ``HomingSettings``, checking every value.
enum SettingsBuilder {
    /// The settings from top-level assignments only (no `protocol lmtp { }` overrides).
    static func globalSettings(from raw: RawConfiguration) throws(ConfigError) -> HomingSettings {
        var settings = HomingSettings()
        for assignment in raw.global {
            try SettingDefinitions.all[assignment.key]?.apply(&settings, assignment.value, assignment.location)
        }
        return settings
    }

    /// The LMTP view: `global` with the `protocol lmtp { }` settings applied, plus userdbs,
    /// plugin settings and listeners.
    static func lmtpSettings(from raw: RawConfiguration, global: HomingSettings) throws(ConfigError) -> HomingSettings {
        var settings = global
        for assignment in raw.lmtpFilter {
            try SettingDefinitions.all[assignment.key]?.apply(&settings, assignment.value, assignment.location)
        }
        for assignment in raw.globalPlugin + raw.lmtpPlugin {
            settings.plugin[assignment.key] = assignment.value
        }
        settings.userdbs = try raw.userdbs.map { (userdb) throws(ConfigError) in try self.userdb(from: userdb) }
        settings.namespaces = try raw.namespaces.map { (block) throws(ConfigError) in try namespace(from: block) }
        settings.lmtpService = try service(from: raw, listen: settings.listen)
        return settings
    }

    static let skipValues = ["never", "found", "notfound"]
    static let resultValues = ["return-ok", "return-fail", "return", "continue", "continue-ok", "continue-fail"]

    private static func userdb(from raw: RawConfiguration.Userdb) throws(ConfigError) -> UserdbSettings {
        guard let driver = raw.assignments.last(where: { $0.key == "driver" }) else {
            let title = raw.name.map { "userdb \($0)" } ?? "userdb"
            throw ConfigError("\(title) { } has no driver: add one, e.g. driver = passwd-file", at: raw.location)
        }
        guard !driver.value.isEmpty else {
            throw ConfigError("driver: a userdb driver name is needed (static, passwd-file, passwd, sql, ldap)", at: driver.location)
        }
        var settings = UserdbSettings(driver: driver.value, location: raw.location)
        settings.name = raw.name
        for assignment in raw.assignments {
            let (key, value, location) = (assignment.key, assignment.value, assignment.location)
            switch key {
            case "args": settings.args = value
            case "default_fields": settings.defaultFields = value
            case "override_fields": settings.overrideFields = value
            case "skip": settings.skip = try SettingValueParser.word(value, choices: skipValues, key: key, at: location)
            case "result_success":
                settings.resultSuccess = try SettingValueParser.word(value, choices: resultValues, key: key, at: location)
            case "result_failure":
                settings.resultFailure = try SettingValueParser.word(value, choices: resultValues, key: key, at: location)
            case "result_internalfail":
                settings.resultInternalfail = try SettingValueParser.word(value, choices: resultValues, key: key, at: location)
            default: break
            }
        }
        return settings
    }

    private static func namespace(from raw: RawConfiguration.Namespace) throws(ConfigError) -> NamespaceSettings {
        var settings = NamespaceSettings(name: raw.name, location: raw.location)
        for assignment in raw.assignments {
            let (key, value, location) = (assignment.key, assignment.value, assignment.location)
            switch key {
            case "separator":
                guard value.count <= 1 else {
                    throw ConfigError("separator: '\(value)' must be a single character (such as / or .)", at: location)
                }
                settings.separator = value
            case "prefix": settings.prefix = value
            case "inbox": settings.inbox = try SettingValueParser.boolean(value, key: key, at: location)
            default: break
            }
        }
        return settings
    }

    private static func service(from raw: RawConfiguration, listen: [String]) throws(ConfigError) -> LMTPServiceSettings {
        var service = LMTPServiceSettings()
        service.unixListeners = []
        for listener in raw.unixListeners {
            let builtIn = listener.location.line == 0
            var settings = UnixListenerSettings(path: listener.name, location: builtIn ? nil : listener.location)
            // Dovecot's built-in `unix_listener lmtp` has mode 0666; a listener declared in the
            // configuration starts from the generic listener default, 0600.
            if !builtIn && listener.name != "lmtp" { settings.mode = 0o600 }
            for assignment in listener.assignments {
                switch assignment.key {
                case "user": settings.user = assignment.value
                case "group": settings.group = assignment.value
                case "mode": settings.mode = try SettingValueParser.octalMode(assignment.value, key: "mode", at: assignment.location)
                default: break
                }
            }
            service.unixListeners.append(settings)
        }
        for listener in raw.inetListeners {
            var settings = InetListenerSettings(name: listener.name, location: listener.location)
            var addresses: [String]?
            for assignment in listener.assignments {
                switch assignment.key {
                case "address": addresses = SettingValueParser.list(assignment.value, separators: [" ", "\t", ","])
                case "port":
                    settings.port = try SettingValueParser.integer(assignment.value, in: 0...65535, key: "port", at: assignment.location)
                default: break
                }
            }
            settings.addresses = addresses ?? listen
            service.inetListeners.append(settings)
        }
        return service
    }

    /// Start-up checks on the finished settings.
    static func validate(_ settings: HomingSettings, raw: RawConfiguration) throws(ConfigError) {
        if !settings.protocols.contains("lmtp") {
            let written = (raw.global + raw.lmtpFilter).last { $0.key == "protocols" }
            let shown = settings.protocols.isEmpty ? "none" : settings.protocols.joined(separator: " ")
            let example = (settings.protocols + ["lmtp"]).joined(separator: " ")
            throw ConfigError("protocols = \(shown): Homing serves only LMTP, so protocols must include lmtp (e.g. protocols = \(example))",
                              at: written?.location)
        }
        if settings.postmasterAddress == nil {
            throw ConfigError("postmaster_address is not set: add it to the protocol lmtp { } section (conf.d/20-lmtp.conf in Dovecot's layout), e.g. postmaster_address = postmaster@example.com")
        }
    }
}
