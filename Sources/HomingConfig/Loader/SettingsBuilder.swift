/// Turns a ``RawConfiguration`` into typed ``HomingSettings``, checking every value.
enum SettingsBuilder {
    /// The settings from top-level assignments only (no `protocol lmtp { }` overrides).
    static func globalSettings(from raw: RawConfiguration, start: HomingSettings = HomingSettings(),
                               diagnostics: inout ConfigDiagnostics) -> HomingSettings {
        var settings = start
        for assignment in raw.global {
            do {
                try SettingDefinitions.all[assignment.key]?.apply(&settings, assignment.value, assignment.location)
            } catch {
                diagnostics.error(error)
            }
        }
        return settings
    }

    /// The LMTP view: `global` with the `protocol lmtp { }` settings applied, plus userdbs,
    /// plugin settings and listeners.
    static func lmtpSettings(from raw: RawConfiguration, global: HomingSettings,
                             diagnostics: inout ConfigDiagnostics) -> HomingSettings {
        var settings = global
        for assignment in raw.lmtpFilter {
            do {
                try SettingDefinitions.all[assignment.key]?.apply(&settings, assignment.value, assignment.location)
            } catch {
                diagnostics.error(error)
            }
        }
        for assignment in raw.globalPlugin + raw.lmtpPlugin {
            settings.plugin[assignment.key] = assignment.value
        }
        settings.userdbs = []
        for block in raw.userdbs {
            do {
                var userdb = try self.userdb(from: block, kind: .userdb, diagnostics: &diagnostics)
                userdb.variableSyntax = settings.variableSyntax
                settings.userdbs.append(userdb)
            } catch {
                diagnostics.error(error)
            }
        }
        settings.passdbs = []
        for block in raw.passdbs {
            do {
                var passdb = try self.userdb(from: block, kind: .passdb, diagnostics: &diagnostics)
                passdb.variableSyntax = settings.variableSyntax
                settings.passdbs.append(passdb)
            } catch {
                diagnostics.error(error)
            }
        }
        settings.namespaces = []
        for block in raw.namespaces {
            do {
                settings.namespaces.append(try namespace(from: block))
            } catch {
                diagnostics.error(error)
            }
        }
        settings.lmtpService = service(from: raw, listen: settings.listen, diagnostics: &diagnostics)
        settings.statsHTTPListeners = inetListeners(raw.statsInetListeners, listen: settings.listen, diagnostics: &diagnostics)
        settings.services = raw.services.compactMap { otherService($0, listen: settings.listen, diagnostics: &diagnostics) }
        return settings
    }

    /// The words of a service's `executable` (the last one written), empty when none.
    static func executableWords(_ service: RawConfiguration.Service) -> [String] {
        let value = service.assignments.last(where: { $0.key == "executable" })?.value ?? ""
        return value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// Whether Homing runs this service: its executable is `quota-status` (any directory) or
    /// `script`; a service named `quota-status` with no executable counts too.
    static func runsService(_ service: RawConfiguration.Service) -> Bool {
        let words = executableWords(service)
        guard let program = words.first else { return service.name == "quota-status" }
        let base = program.split(separator: "/").last.map(String.init) ?? program
        return base == "quota-status" || base == "script"
    }

    /// A service Homing runs, checked: `quota-status` needs `-p postfix`, `script` a program.
    private static func otherService(
        _ raw: RawConfiguration.Service, listen: [String], diagnostics: inout ConfigDiagnostics
    ) -> ServiceSettings? {
        guard runsService(raw) else { return nil }
        let words = executableWords(raw)
        let at = raw.assignments.last(where: { $0.key == "executable" })?.location ?? raw.location
        let base = words.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "quota-status"
        let kind: ServiceSettings.Kind
        if base == "script" {
            guard words.count >= 2 else {
                diagnostics.error(
                    "service \(raw.name): executable = script needs the program to run (executable = script /usr/local/bin/quota-warning.sh)",
                    at: at)
                return nil
            }
            kind = .script(program: words[1], arguments: Array(words.dropFirst(2)))
        } else {
            var protocolName: String?
            var index = 1
            while index < words.count {
                if words[index] == "-p", index + 1 < words.count {
                    protocolName = words[index + 1]
                    index += 2
                } else if words[index].hasPrefix("-p"), words[index].count > 2 {
                    protocolName = String(words[index].dropFirst(2))
                    index += 1
                } else {
                    diagnostics.error("service \(raw.name): quota-status: unknown argument '\(words[index])' (expected -p postfix)", at: at)
                    return nil
                }
            }
            guard let protocolName else {
                diagnostics.error("service \(raw.name): quota-status needs -p postfix (executable = quota-status -p postfix)", at: at)
                return nil
            }
            guard protocolName == "postfix" else {
                diagnostics.error("service \(raw.name): quota-status: unknown -p parameter '\(protocolName)' (only postfix is supported)", at: at)
                return nil
            }
            kind = .quotaStatus
        }
        var settings = ServiceSettings(name: raw.name, kind: kind, location: raw.location)
        for assignment in raw.assignments {
            switch assignment.key {
            case "user": settings.user = assignment.value
            case "group": settings.group = assignment.value
            default: break
            }
        }
        var shell = RawConfiguration()
        shell.unixListeners = raw.unixListeners
        shell.inetListeners = raw.inetListeners
        settings.listeners = service(from: shell, listen: listen, diagnostics: &diagnostics)
        return settings
    }

    static let skipValues = ["never", "found", "notfound"]
    static let passdbSkipValues = ["never", "authenticated", "unauthenticated"]

    /// Which kind of block ``userdb(from:kind:diagnostics:)`` reads.
    private enum BlockKind: String {
        case userdb, passdb
    }
    static let resultValues = ["return-ok", "return-fail", "return", "continue", "continue-ok", "continue-fail"]

    /// A `userdb { }` or `passdb { }` block: the same settings (a passdb adds `deny` and
    /// `master`, and its `skip` values are `authenticated`/`unauthenticated`).
    private static func userdb(from raw: RawConfiguration.Userdb, kind: BlockKind,
                               diagnostics: inout ConfigDiagnostics) throws(ConfigError) -> UserdbSettings {
        guard let driver = raw.assignments.last(where: { $0.key == "driver" }) else {
            let title = raw.name.map { "\(kind.rawValue) \($0)" } ?? kind.rawValue
            throw ConfigError("\(title) { } has no driver: add one, e.g. driver = passwd-file", at: raw.location)
        }
        guard !driver.value.isEmpty else {
            throw ConfigError("driver: a \(kind.rawValue) driver name is needed (static, passwd-file, passwd, sql, ldap)",
                              at: driver.location)
        }
        var settings = UserdbSettings(driver: driver.value, location: raw.location)
        settings.name = raw.name
        settings.driverSettings = raw.driverSettings
        for assignment in raw.assignments {
            let (key, value, location) = (assignment.key, assignment.value, assignment.location)
            do {
            switch key {
            case "args": settings.args = value
            case "default_fields": settings.defaultFields = value
            case "override_fields": settings.overrideFields = value
            case "skip":
                settings.skip = try SettingValueParser.word(
                    value, choices: kind == .passdb ? passdbSkipValues : skipValues, key: key, at: location)
            case "deny": settings.deny = try SettingValueParser.boolean(value, key: key, at: location)
            case "master": settings.master = try SettingValueParser.boolean(value, key: key, at: location)
            case "result_success":
                settings.resultSuccess = try SettingValueParser.word(value, choices: resultValues, key: key, at: location)
            case "result_failure":
                settings.resultFailure = try SettingValueParser.word(value, choices: resultValues, key: key, at: location)
            case "result_internalfail":
                settings.resultInternalfail = try SettingValueParser.word(value, choices: resultValues, key: key, at: location)
            default: break
            }
            } catch {
                diagnostics.error(error)
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

    private static func service(from raw: RawConfiguration, listen: [String],
                                diagnostics: inout ConfigDiagnostics) -> LMTPServiceSettings {
        var service = LMTPServiceSettings()
        for assignment in raw.lmtpServiceLimits {
            do {
                let value = try SettingValueParser.integer(
                    assignment.value, in: 0...Int(Int32.max), key: assignment.key, at: assignment.location)
                if assignment.key == "process_limit" { service.processLimit = value } else { service.clientLimit = value }
            } catch {
                diagnostics.error(error)
            }
        }
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
                case "mode":
                    do {
                        settings.mode = try SettingValueParser.octalMode(assignment.value, key: "mode", at: assignment.location)
                    } catch {
                        diagnostics.error(error)
                    }
                default: break
                }
            }
            service.unixListeners.append(settings)
        }
        service.inetListeners = inetListeners(raw.inetListeners, listen: listen, diagnostics: &diagnostics)
        return service
    }

    /// `inet_listener NAME { address port }` blocks; `listen` is the default address list.
    static func inetListeners(
        _ listeners: [RawConfiguration.Listener], listen: [String], diagnostics: inout ConfigDiagnostics
    ) -> [InetListenerSettings] {
        var result: [InetListenerSettings] = []
        for listener in listeners {
            var settings = InetListenerSettings(name: listener.name, location: listener.location)
            var addresses: [String]?
            for assignment in listener.assignments {
                switch assignment.key {
                case "address": addresses = SettingValueParser.list(assignment.value, separators: [" ", "\t", ","])
                case "port":
                    do {
                        settings.port = try SettingValueParser.integer(assignment.value, in: 0...65535, key: "port", at: assignment.location)
                    } catch {
                        diagnostics.error(error)
                    }
                default: break
                }
            }
            settings.addresses = addresses ?? listen
            result.append(settings)
        }
        return result
    }

    /// Start-up checks on the finished settings.
    static func validate(_ settings: HomingSettings, raw: RawConfiguration, diagnostics: inout ConfigDiagnostics) {
        // dovecot-lda (homing deliver) runs whatever `protocols` says.
        if raw.protocolName == "lmtp", !settings.protocols.contains("lmtp") {
            let written = (raw.global + raw.lmtpFilter).last { $0.key == "protocols" }
            let shown = settings.protocols.isEmpty ? "none" : settings.protocols.joined(separator: " ")
            let example = (settings.protocols + ["lmtp"]).joined(separator: " ")
            let hint = settings.variableSyntax == .dovecot24 && written == nil ? " (Dovecot 2.4 enables no protocol by default)" : ""
            diagnostics.error("protocols = \(shown): Homing serves only LMTP, so protocols must include lmtp (e.g. protocols = \(example))\(hint)",
                              at: written?.location)
        }
        // Dovecot 2.4 has a default (postmaster@ the recipient's domain, or the host name).
        if settings.postmasterAddress == nil, settings.variableSyntax == .dovecot23 {
            diagnostics.error("postmaster_address is not set: add it to the protocol lmtp { } section (conf.d/20-lmtp.conf in Dovecot's layout), e.g. postmaster_address = postmaster@example.com")
        }
    }
}
