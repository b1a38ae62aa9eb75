/// Reads a Dovecot 2.4 configuration into the same settings a 2.3 file gives (see
/// docs/dovecot-2.4.md for the whole mapping):
///
/// - the LMTP settings keep their names; 2.4's defaults apply (`protocols` empty,
///   `lmtp_user_concurrency_limit = 10` from 2.4.1, `auth_username_format = %{user | lower}`,
///   `deliver_log_format = msgid=%{msgid}: %{message}`, `postmaster_address` optional);
/// - `mail_driver`, `mail_path`, `mail_inbox_path`, `mailbox_list_layout`... become one
///   `mail_location` (`maildir:PATH:INBOX=...:LAYOUT=fs`), its variables still 2.4's;
/// - `quota NAME { }` with `quota_storage_size`, `quota_message_count`, `quota_storage_grace`,
///   `quota_mail_size` become `plugin` entries `quota`, `quota_rule`, `quota_grace`,
///   `quota_max_mail_size`; `sieve_script NAME { type driver path active_path }` become `sieve`,
///   `sieve_before`..., `sieve_after`..., `sieve_default`, `sieve_global`; other Sieve settings
///   keep their names (`sieve_user_log_path` becomes `sieve_user_log`);
/// - `userdb NAME { }` (the name is required, the driver defaults to it): `passwd_file_path`,
///   static `fields { }`, `fields { }` (`NAME:default` for defaults), and for sql/ldap the global
///   `sql_driver`, `pgsql HOST { parameters { } }`, `ldap_*` settings with the block's `query`,
///   `filter`, `fields { }`... in ``UserdbSettings/driverSettings``;
/// - 2.3 names (`mail_location`, `plugin { }`, `args`, `default_fields`...) are errors that name
///   the 2.4 setting to use; every template is checked for 2.4 syntax and known variables.
struct Dovecot24Reader {
    let version: String
    var tree = Dovecot24TreeReader()
    var raw = RawConfiguration()
    var diagnostics = ConfigDiagnostics()
    var warnings: [ConfigWarning] = []
    var warned: Set<String> = []
    /// The mail_* settings, global and in `protocol lmtp { }`.
    var mail: [Bool: [String: RawConfiguration.Assignment]] = [false: [:], true: [:]]
    /// quota_* at the top level (or in `protocol lmtp`), and the `quota` blocks.
    var quotaSettings: [String: RawConfiguration.Assignment] = [:]
    var quotaRoots: [(name: String, location: ConfigLocation, settings: [String: RawConfiguration.Assignment])] = []
    /// sieve_script blocks in order.
    var sieveScripts: [(name: String, location: ConfigLocation, settings: [String: RawConfiguration.Assignment])] = []
    /// Global sql/ldap settings, in file order.
    var driverGlobals: [ExtConfigEntry] = []
    var sawStorageVersion = false

    /// - Parameter protocolName: whose `protocol NAME { }` filter applies (`lmtp`, or `lda`
    ///   for `homing deliver`).
    init(version: String, protocolName: String = "lmtp") {
        self.version = version
        raw.unixListeners = [RawConfiguration.Listener(name: "lmtp", location: ConfigLocation(file: "(default)", line: 0))]
        raw.protocolName = protocolName
    }

    /// The value of `dovecot_config_version` when it is the first setting of `text`, else nil
    /// (the file is then a 2.3 one).
    static func configVersion(in text: String, file: String) -> String? {
        let lexed = ConfigLexer(flavor: .main).lex(text, file: file)
        guard let first = lexed.statements.first, case .setting(let key, let value, _) = first.kind,
              key == "dovecot_config_version" else { return nil }
        return value
    }

    mutating func read(text: String, file: String, directory: String) {
        tree.read(text: text, file: file, directory: directory)
    }

    // MARK: - Finishing

    mutating func finish(path: String, overrides: [ConfigOverride] = []) -> LoadedConfiguration {
        let nodes = tree.finish()
        diagnostics.add(contentsOf: tree.diagnostics)
        warnings = tree.warnings
        raw.files = tree.files
        checkVersion(nodes)
        for (index, node) in nodes.enumerated() {
            if index == 0, node.key == "dovecot_config_version" { continue }
            top(node, inFilter: false, section: [])
        }
        // `-o key=value`: as if written last inside the protocol filter.
        for override in overrides {
            let node = Dovecot24Node(
                key: override.key, value: override.value, location: ConfigLocation(file: "(-o)", line: 0))
            top(node, inFilter: true, section: ["-o"])
        }
        if !sawStorageVersion {
            diagnostics.error("dovecot_storage_version is not set: a Dovecot 2.4 file needs it (e.g. dovecot_storage_version = \(version))",
                              at: nodes.first?.location)
        }
        composeMailLocation(inFilter: false)
        composeMailLocation(inFilter: true)
        composeQuota()
        composeSieve()
        for index in raw.userdbs.indices {
            raw.userdbs[index].driverSettings = driverGlobals + raw.userdbs[index].driverSettings
        }
        for index in raw.passdbs.indices {
            raw.passdbs[index].driverSettings = driverGlobals + raw.passdbs[index].driverSettings
        }

        var start = HomingSettings()
        start.variableSyntax = .dovecot24
        start.protocols = []
        start.authUsernameFormat = "%{user | lower}"
        start.deliverLogFormat = "msgid=%{msgid}: %{message}"
        start.lmtpUserConcurrencyLimit = Self.minor(version) >= 1 ? 10 : 0
        var global = SettingsBuilder.globalSettings(from: raw, start: start, diagnostics: &diagnostics)
        global.mailStorage24 = mail[false]?.mapValues(\.value) ?? [:]
        var settings = SettingsBuilder.lmtpSettings(from: raw, global: global, diagnostics: &diagnostics)
        settings.mailStorage24.merge(mail[true]?.mapValues(\.value) ?? [:]) { _, new in new }
        SettingsBuilder.validate(settings, raw: raw, diagnostics: &diagnostics)
        for warning in warnings { diagnostics.warning(warning.message, at: warning.location) }
        return LoadedConfiguration(settings: settings, globalSettings: global, warnings: warnings, path: path,
                                   files: raw.files, raw: raw, diagnostics: diagnostics)
    }

    static func minor(_ version: String) -> Int {
        let parts = version.split(separator: ".")
        return parts.count > 2 ? Int(parts[2]) ?? 0 : 0
    }

    mutating func checkVersion(_ nodes: [Dovecot24Node]) {
        guard let first = nodes.first, let value = first.value else { return }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "2", parts[1] == "4", Int(parts[2]) != nil else {
            diagnostics.error("dovecot_config_version = \(value): Homing reads Dovecot 2.4 files (2.4.0, 2.4.1, ...) and, "
                              + "without dovecot_config_version, 2.3 files", at: first.location)
            return
        }
    }

    // MARK: - Helpers

    mutating func warnOnce(_ key: String, _ message: String, at location: ConfigLocation) {
        guard warned.insert(key).inserted else { return }
        warnings.append(ConfigWarning(message, at: location))
    }

    mutating func record(_ node: Dovecot24Node, section: [String]) {
        raw.located.append(RawConfiguration.Located(section: section, key: node.key, location: node.location))
    }

    mutating func checkTemplate(_ value: String, key: String, context: TemplateChecks.Context, at location: ConfigLocation) {
        for problem in TemplateChecks.problems(in: value, syntax: .dovecot24, context: context) {
            diagnostics.error("\(key): \(problem)", at: location)
        }
    }

    func assignment(_ node: Dovecot24Node, key: String? = nil) -> RawConfiguration.Assignment {
        RawConfiguration.Assignment(key: key ?? node.key, value: node.value ?? "", location: node.location)
    }

    /// A name with an optional prefix stripped (`userdb_sql_query` → `query` for prefix
    /// `userdb_sql_`), as 2.4 tries setting names inside a filter.
    static func unprefixed(_ key: String, _ prefixes: [String]) -> String {
        for prefix in prefixes where key.hasPrefix(prefix) && key.count > prefix.count {
            return String(key.dropFirst(prefix.count))
        }
        return key
    }

    static let mailKeys: Set<String> = [
        "mail_driver", "mail_path", "mail_inbox_path", "mailbox_list_layout", "mailbox_list_utf8", "mail_index_path",
        "mail_control_path", "mail_volatile_path", "mail_alt_path", "mailbox_directory_name", "mailbox_root_directory_name",
    ]
    static let quotaKeys: Set<String> = [
        "quota_storage_size", "quota_message_count", "quota_storage_grace", "quota_mail_size", "quota_exceeded_message",
        "quota_driver",
    ]
    /// 2.4 Sieve settings with the same meaning and name as the 2.3 plugin setting.
    static let sieveKeys: Set<String> = [
        "sieve_max_script_size", "sieve_max_actions", "sieve_max_redirects", "sieve_vacation_min_period",
        "sieve_vacation_max_period", "sieve_vacation_default_period", "sieve_redirect_envelope_from",
        "sieve_vacation_send_from_recipient",
    ]
    static let templateKeys: [String: TemplateChecks.Context] = [
        "auth_username_format": .userdb, "deliver_log_format": .deliveryLog, "postmaster_address": .mail,
    ]

    // MARK: - Top level

    mutating func top(_ node: Dovecot24Node, inFilter: Bool, section: [String]) {
        record(node, section: section)
        if node.isSection {
            topSection(node, inFilter: inFilter, section: section)
            return
        }
        let key = node.key
        let value = node.value ?? ""
        switch key {
        case "dovecot_config_version":
            diagnostics.error("dovecot_config_version must be the first setting of the file", at: node.location)
        case "dovecot_storage_version":
            sawStorageVersion = true
        case "mail_location":
            diagnostics.error("mail_location was removed in Dovecot 2.4: \(Dovecot24Names.removed[key] ?? "")", at: node.location)
        case _ where Self.mailKeys.contains(key):
            mail[inFilter, default: [:]][key] = assignment(node)
            if ["mail_path", "mail_inbox_path", "mail_index_path", "mail_control_path"].contains(key) {
                checkTemplate(value, key: key, context: .mail, at: node.location)
            }
        case _ where Self.quotaKeys.contains(key):
            quotaSettings[key] = assignment(node)
        case _ where Self.sieveKeys.contains(key):
            addPlugin(key, value, at: node.location, inFilter: inFilter)
        case "sieve_user_log_path":
            checkTemplate(value, key: key, context: .mail, at: node.location)
            addPlugin("sieve_user_log", value, at: node.location, inFilter: inFilter)
        case _ where key == "sql_driver" || key.hasPrefix("ldap_") || key.hasPrefix("pgsql_"):
            driverGlobals.append(ExtConfigEntry(key: key, value: value, location: node.location))
            if key == "ldap_base" { checkTemplate(value, key: key, context: .userdb, at: node.location) }
        case _ where Dovecot24Names.removed[key] != nil:
            diagnostics.error("\(key) is Dovecot 2.3 syntax, which a 2.4 file cannot use: \(Dovecot24Names.removed[key] ?? "")",
                              at: node.location)
        case _ where SettingDefinitions.all[key] != nil:
            if let context = Self.templateKeys[key] { checkTemplate(value, key: key, context: context, at: node.location) }
            if key == "postmaster_address", value.contains("%{") {
                warnOnce(key, "postmaster_address: Homing uses the address as written, without expanding its variables",
                         at: node.location)
            }
            if inFilter { raw.lmtpFilter.append(assignment(node)) } else { raw.global.append(assignment(node)) }
        default:
            warnOnce(key, "\(key) is not used by Homing (ignored)", at: node.location)
        }
    }

    mutating func addPlugin(_ key: String, _ value: String, at location: ConfigLocation, inFilter: Bool) {
        let entry = RawConfiguration.Assignment(key: key, value: value, location: location)
        if inFilter { raw.lmtpPlugin.append(entry) } else { raw.globalPlugin.append(entry) }
        raw.pluginOrigins[key] = location
    }

    mutating func topSection(_ node: Dovecot24Node, inFilter: Bool, section: [String]) {
        let inside = section + [node.title]
        switch node.key {
        case "protocol":
            guard let name = node.name, !name.isEmpty else {
                diagnostics.error("protocol { } needs a protocol name (protocol lmtp {)", at: node.location)
                return
            }
            if inFilter {
                diagnostics.error("protocol \(name) { } can't be inside another protocol { } section", at: node.location)
                return
            }
            let own = raw.protocolName
            if name == own || (name.hasPrefix("!") && name != "!" + own) {
                for child in node.children { top(child, inFilter: true, section: inside) }
            } else if !["lmtp", "lda"].contains(name) {
                // `protocol lda { }` is homing deliver's, `protocol lmtp { }` the server's.
                warnOnce("protocol \(name)", "protocol \(name) { } is not used by Homing (ignored)", at: node.location)
            }
        case "plugin":
            diagnostics.error("plugin { } was removed in Dovecot 2.4: write its settings at the top level "
                              + "(quota and Sieve settings were renamed, see docs/dovecot-2.4.md)", at: node.location)
        case "userdb":
            userdb(node, section: inside)
        case "passdb":
            userdb(node, section: inside, kind: "passdb")
        case "service" where !inFilter:
            if node.name == "lmtp" {
                service(node, section: inside)
            } else if node.name == "stats" {
                statsService(node, section: inside)
            } else {
                otherService(node, section: inside)
            }
        case "quota":
            var settings: [String: RawConfiguration.Assignment] = [:]
            for child in node.children where !child.isSection {
                record(child, section: inside)
                let key = Self.unprefixed(child.key, ["quota_"])
                settings[key] = assignment(child, key: key)
                if !["driver", "storage_size", "message_count", "storage_grace", "mail_size", "exceeded_message"].contains(key) {
                    warnOnce("quota \(key)", "quota { \(child.key) } is not used by Homing (ignored)", at: child.location)
                }
            }
            quotaRoots.append((node.name ?? "User quota", node.location, settings))
        case "sieve_script":
            var settings: [String: RawConfiguration.Assignment] = [:]
            for child in node.children where !child.isSection {
                record(child, section: inside)
                let key = Self.unprefixed(child.key, ["sieve_script_"])
                settings[key] = assignment(child, key: key)
                if !["type", "driver", "path", "active_path"].contains(key) {
                    warnOnce("sieve_script \(key)", "sieve_script { \(child.key) } is not used by Homing (ignored)",
                             at: child.location)
                }
                if ["path", "active_path"].contains(key) {
                    checkTemplate(child.value ?? "", key: child.key, context: .mail, at: child.location)
                }
            }
            guard let name = node.name, !name.isEmpty else {
                diagnostics.error("sieve_script { } needs a name (sieve_script personal {)", at: node.location)
                return
            }
            sieveScripts.append((name, node.location, settings))
        case "namespace":
            // Only the hierarchy separator matters to delivery (Sieve's fileinto names).
            let index: Int
            if let name = node.name, let existing = raw.namespaces.firstIndex(where: { $0.name == name }) {
                index = existing
            } else {
                raw.namespaces.append(RawConfiguration.Namespace(name: node.name, location: node.location))
                index = raw.namespaces.count - 1
            }
            for child in node.children {
                if child.isSection {
                    warnOnce("namespace \(child.key) { }", "\(child.key) { } inside namespace { } is not used by Homing (ignored)",
                             at: child.location)
                    continue
                }
                record(child, section: inside)
                let key = Self.unprefixed(child.key, ["namespace_"])
                if ["separator", "prefix", "inbox"].contains(key) {
                    raw.namespaces[index].assignments.append(assignment(child, key: key))
                } else {
                    warnOnce("namespace \(key)", "namespace { \(child.key) } is not used by Homing (ignored)", at: child.location)
                }
            }
        case "pgsql", "postgresql":
            driverGlobals += pgsqlEntries(node, section: inside)
        case "mail_plugins":
            var plugins: [String] = []
            for child in node.children where !child.isSection {
                record(child, section: inside)
                if (child.value ?? "").lowercased() == "yes" { plugins.append(child.key) }
            }
            let entry = RawConfiguration.Assignment(key: "mail_plugins", value: plugins.joined(separator: " "), location: node.location)
            if inFilter { raw.lmtpFilter.append(entry) } else { raw.global.append(entry) }
        default:
            warnOnce("section \(node.key)", "\(node.key) { } sections are not used by Homing (ignored)", at: node.location)
        }
    }

    /// `pgsql HOST { parameters { KEY = VALUE } }` as `pgsql/HOST/parameters/KEY` entries (and
    /// `pgsql/HOST` for the host itself).
    mutating func pgsqlEntries(_ node: Dovecot24Node, section: [String]) -> [ExtConfigEntry] {
        guard let host = node.name, !host.isEmpty else {
            diagnostics.error("pgsql { } needs the server's host name (pgsql localhost {)", at: node.location)
            return []
        }
        var entries = [ExtConfigEntry(key: "pgsql/\(host)", value: host, location: node.location)]
        for child in node.children {
            record(child, section: section)
            if child.isSection, child.key == "parameters" || child.key == "pgsql_parameters" {
                for parameter in child.children where !parameter.isSection {
                    record(parameter, section: section + [child.title])
                    entries.append(ExtConfigEntry(key: "pgsql/\(host)/parameters/\(parameter.key)", value: parameter.value ?? "",
                                                  location: parameter.location))
                }
            } else if !child.isSection {
                entries.append(ExtConfigEntry(key: "pgsql/\(host)/\(Self.unprefixed(child.key, ["pgsql_"]))",
                                              value: child.value ?? "", location: child.location))
            } else {
                warnOnce("pgsql \(child.key)", "\(child.key) { } inside pgsql { } is not used by Homing (ignored)", at: child.location)
            }
        }
        return entries
    }

    // MARK: - service lmtp

    mutating func service(_ node: Dovecot24Node, section: [String]) {
        let (unixListeners, inetListeners) = listeners(of: node, section: section)
        for listener in unixListeners {
            if let index = raw.unixListeners.firstIndex(where: { $0.name == listener.name }) {
                if raw.unixListeners[index].location.line == 0 { raw.unixListeners[index].location = listener.location }
                raw.unixListeners[index].assignments += listener.assignments
            } else {
                raw.unixListeners.append(listener)
            }
        }
        for listener in inetListeners {
            if let index = raw.inetListeners.firstIndex(where: { $0.name == listener.name }) {
                raw.inetListeners[index].assignments += listener.assignments
            } else {
                raw.inetListeners.append(listener)
            }
        }
    }

    /// `service NAME { }` other than lmtp: kept when Homing runs it (`quota-status`, `script`),
    /// else one warning.
    mutating func otherService(_ node: Dovecot24Node, section: [String]) {
        let name = node.name ?? ""
        var service = RawConfiguration.Service(name: name, location: node.location)
        for child in node.children where !child.isSection {
            service.assignments.append(assignment(child))
        }
        guard SettingsBuilder.runsService(service) else {
            warnOnce("service \(name)", "service \(name) { } is not used by Homing (ignored)", at: node.location)
            return
        }
        for child in node.children where !child.isSection {
            record(child, section: section)
            if !ConfigTreeReader.serviceKeys.contains(child.key) {
                warnOnce("service \(name) \(child.key)", "service \(name) { \(child.key) } is not used by Homing (ignored)",
                         at: child.location)
            }
        }
        (service.unixListeners, service.inetListeners) = listeners(of: node, section: section, service: name)
        raw.services.append(service)
    }

    /// The `unix_listener` and `inet_listener` blocks of a service, 2.4 names turned into the
    /// 2.3 ones Homing builds listeners from (`listen` is an inet listener's `address`).
    mutating func listeners(of node: Dovecot24Node, section: [String], service: String = "lmtp")
        -> ([RawConfiguration.Listener], [RawConfiguration.Listener])
    {
        var unixListeners: [RawConfiguration.Listener] = []
        var inetListeners: [RawConfiguration.Listener] = []
        for child in node.children {
            record(child, section: section)
            guard child.isSection else {
                if service == "lmtp", child.key == "process_limit" || child.key == "client_limit" {
                    raw.lmtpServiceLimits.append(
                        RawConfiguration.Assignment(key: child.key, value: child.value ?? "", location: child.location))
                    continue
                }
                if service == "lmtp" {
                    warnOnce("service lmtp \(child.key)", "service lmtp { \(child.key) } is not used by Homing (ignored)",
                             at: child.location)
                }
                continue
            }
            guard let name = child.name, !name.isEmpty,
                  child.key == "unix_listener" || child.key == "inet_listener" else {
                if child.key == "unix_listener" || child.key == "inet_listener" {
                    diagnostics.error("\(child.key) { } needs a name", at: child.location)
                } else {
                    warnOnce("service \(service) \(child.key)", "service \(service): \(child.key) { } is not used by Homing (ignored)",
                             at: child.location)
                }
                continue
            }
            let unix = child.key == "unix_listener"
            var listener = RawConfiguration.Listener(name: name, location: child.location)
            for setting in child.children {
                record(setting, section: section + [child.title])
                guard !setting.isSection else { continue }
                var key = Self.unprefixed(setting.key, [unix ? "unix_listener_" : "inet_listener_"])
                if !unix, key == "listen" { key = "address" } else if !unix, key == "address" {
                    diagnostics.error("inet_listener { address } was replaced in Dovecot 2.4: write listen = \(setting.value ?? "")",
                                      at: setting.location)
                    continue
                }
                let used = unix ? ["user", "group", "mode"] : ["address", "port"]
                if !used.contains(key) {
                    warnOnce("\(child.key) \(key)", "\(child.key) { \(setting.key) } is not used by Homing (ignored)", at: setting.location)
                }
                listener.assignments.append(RawConfiguration.Assignment(key: key, value: setting.value ?? "", location: setting.location))
            }
            if unix { unixListeners.append(listener) } else { inetListeners.append(listener) }
        }
        return (unixListeners, inetListeners)
    }

    /// `service stats { inet_listener NAME { listen port } }`: the metrics export's listeners.
    mutating func statsService(_ node: Dovecot24Node, section: [String]) {
        for child in node.children {
            record(child, section: section)
            guard child.isSection, child.key == "inet_listener", let name = child.name, !name.isEmpty else {
                warnOnce("service stats \(child.key)", "service stats: \(child.key) is not used by Homing (ignored)",
                         at: child.location)
                continue
            }
            var listener = RawConfiguration.Listener(name: name, location: child.location)
            for setting in child.children where !setting.isSection {
                record(setting, section: section + [child.title])
                var key = Self.unprefixed(setting.key, ["inet_listener_"])
                if key == "listen" { key = "address" }
                guard ["address", "port"].contains(key) else {
                    warnOnce("inet_listener \(key)", "inet_listener { \(setting.key) } is not used by Homing (ignored)", at: setting.location)
                    continue
                }
                listener.assignments.append(RawConfiguration.Assignment(key: key, value: setting.value ?? "", location: setting.location))
            }
            raw.statsInetListeners.append(listener)
        }
    }
}
