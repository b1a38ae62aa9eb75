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
    private var tree = Dovecot24TreeReader()
    private var raw = RawConfiguration()
    private var diagnostics = ConfigDiagnostics()
    private var warnings: [ConfigWarning] = []
    private var warned: Set<String> = []
    /// The mail_* settings, global and in `protocol lmtp { }`.
    private var mail: [Bool: [String: RawConfiguration.Assignment]] = [false: [:], true: [:]]
    /// quota_* at the top level (or in `protocol lmtp`), and the `quota` blocks.
    private var quotaSettings: [String: RawConfiguration.Assignment] = [:]
    private var quotaRoots: [(name: String, location: ConfigLocation, settings: [String: RawConfiguration.Assignment])] = []
    /// sieve_script blocks in order.
    private var sieveScripts: [(name: String, location: ConfigLocation, settings: [String: RawConfiguration.Assignment])] = []
    /// Global sql/ldap settings, in file order.
    private var driverGlobals: [ExtConfigEntry] = []
    private var sawStorageVersion = false

    init(version: String) {
        self.version = version
        raw.unixListeners = [RawConfiguration.Listener(name: "lmtp", location: ConfigLocation(file: "(default)", line: 0))]
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

    mutating func finish(path: String) -> LoadedConfiguration {
        let nodes = tree.finish()
        diagnostics.add(contentsOf: tree.diagnostics)
        warnings = tree.warnings
        raw.files = tree.files
        checkVersion(nodes)
        for (index, node) in nodes.enumerated() {
            if index == 0, node.key == "dovecot_config_version" { continue }
            top(node, inFilter: false, section: [])
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

    private static func minor(_ version: String) -> Int {
        let parts = version.split(separator: ".")
        return parts.count > 2 ? Int(parts[2]) ?? 0 : 0
    }

    private mutating func checkVersion(_ nodes: [Dovecot24Node]) {
        guard let first = nodes.first, let value = first.value else { return }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "2", parts[1] == "4", Int(parts[2]) != nil else {
            diagnostics.error("dovecot_config_version = \(value): Homing reads Dovecot 2.4 files (2.4.0, 2.4.1, ...) and, "
                              + "without dovecot_config_version, 2.3 files", at: first.location)
            return
        }
    }

    // MARK: - Helpers

    private mutating func warnOnce(_ key: String, _ message: String, at location: ConfigLocation) {
        guard warned.insert(key).inserted else { return }
        warnings.append(ConfigWarning(message, at: location))
    }

    private mutating func record(_ node: Dovecot24Node, section: [String]) {
        raw.located.append(RawConfiguration.Located(section: section, key: node.key, location: node.location))
    }

    private mutating func checkTemplate(_ value: String, key: String, context: TemplateChecks.Context, at location: ConfigLocation) {
        for problem in TemplateChecks.problems(in: value, syntax: .dovecot24, context: context) {
            diagnostics.error("\(key): \(problem)", at: location)
        }
    }

    private func assignment(_ node: Dovecot24Node, key: String? = nil) -> RawConfiguration.Assignment {
        RawConfiguration.Assignment(key: key ?? node.key, value: node.value ?? "", location: node.location)
    }

    /// A name with an optional prefix stripped (`userdb_sql_query` → `query` for prefix
    /// `userdb_sql_`), as 2.4 tries setting names inside a filter.
    private static func unprefixed(_ key: String, _ prefixes: [String]) -> String {
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

    private mutating func top(_ node: Dovecot24Node, inFilter: Bool, section: [String]) {
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
            if inFilter { raw.lmtpFilter.append(assignment(node)) } else { raw.global.append(assignment(node)) }
        default:
            warnOnce(key, "\(key) is not used by Homing (ignored)", at: node.location)
        }
    }

    private mutating func addPlugin(_ key: String, _ value: String, at location: ConfigLocation, inFilter: Bool) {
        let entry = RawConfiguration.Assignment(key: key, value: value, location: location)
        if inFilter { raw.lmtpPlugin.append(entry) } else { raw.globalPlugin.append(entry) }
        raw.pluginOrigins[key] = location
    }

    private mutating func topSection(_ node: Dovecot24Node, inFilter: Bool, section: [String]) {
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
            if name == "lmtp" || (name.hasPrefix("!") && name != "!lmtp") {
                for child in node.children { top(child, inFilter: true, section: inside) }
            } else {
                warnOnce("protocol \(name)", "protocol \(name) { } is not used by Homing (ignored)", at: node.location)
            }
        case "plugin":
            diagnostics.error("plugin { } was removed in Dovecot 2.4: write its settings at the top level "
                              + "(quota and Sieve settings were renamed, see docs/dovecot-2.4.md)", at: node.location)
        case "userdb":
            userdb(node, section: inside)
        case "service" where !inFilter:
            if node.name == "lmtp" { service(node, section: inside) } else {
                warnOnce("service \(node.name ?? "")", "service \(node.name ?? "") { } is not used by Homing (ignored)",
                         at: node.location)
            }
        case "quota":
            var settings: [String: RawConfiguration.Assignment] = [:]
            for child in node.children where !child.isSection {
                record(child, section: inside)
                let key = Self.unprefixed(child.key, ["quota_"])
                settings[key] = assignment(child, key: key)
            }
            quotaRoots.append((node.name ?? "User quota", node.location, settings))
        case "sieve_script":
            var settings: [String: RawConfiguration.Assignment] = [:]
            for child in node.children where !child.isSection {
                record(child, section: inside)
                let key = Self.unprefixed(child.key, ["sieve_script_"])
                settings[key] = assignment(child, key: key)
                if ["path", "active_path"].contains(key) {
                    checkTemplate(child.value ?? "", key: child.key, context: .mail, at: child.location)
                }
            }
            guard let name = node.name, !name.isEmpty else {
                diagnostics.error("sieve_script { } needs a name (sieve_script personal {)", at: node.location)
                return
            }
            sieveScripts.append((name, node.location, settings))
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
    private mutating func pgsqlEntries(_ node: Dovecot24Node, section: [String]) -> [ExtConfigEntry] {
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

    private mutating func service(_ node: Dovecot24Node, section: [String]) {
        for child in node.children {
            record(child, section: section)
            guard child.isSection else {
                warnOnce("service lmtp \(child.key)", "service lmtp { \(child.key) } is not used by Homing (ignored)",
                         at: child.location)
                continue
            }
            guard let name = child.name, !name.isEmpty,
                  child.key == "unix_listener" || child.key == "inet_listener" else {
                if child.key == "unix_listener" || child.key == "inet_listener" {
                    diagnostics.error("\(child.key) { } needs a name", at: child.location)
                } else {
                    warnOnce("service lmtp \(child.key)", "service lmtp: \(child.key) { } is not used by Homing (ignored)",
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
            if unix {
                if let index = raw.unixListeners.firstIndex(where: { $0.name == name }) {
                    if raw.unixListeners[index].location.line == 0 { raw.unixListeners[index].location = child.location }
                    raw.unixListeners[index].assignments += listener.assignments
                } else {
                    raw.unixListeners.append(listener)
                }
            } else if let index = raw.inetListeners.firstIndex(where: { $0.name == name }) {
                raw.inetListeners[index].assignments += listener.assignments
            } else {
                raw.inetListeners.append(listener)
            }
        }
    }

    // MARK: - userdb

    private mutating func userdb(_ node: Dovecot24Node, section: [String]) {
        guard let name = node.name, !name.isEmpty else {
            diagnostics.error("userdb { } needs a name in Dovecot 2.4 (userdb users { driver = passwd-file ... }); "
                              + "the name is also the driver when there is no driver setting", at: node.location)
            return
        }
        var block = RawConfiguration.Userdb(name: name, location: node.location)
        let driverNode = node.children.last { !$0.isSection && ($0.key == "driver" || $0.key == "userdb_driver") }
        let driver = driverNode?.value ?? name
        block.assignments.append(RawConfiguration.Assignment(key: "driver", value: driver, location: driverNode?.location ?? node.location))
        let prefixes = ["userdb_\(driver.replacingDashes())_", "userdb_", "\(driver.replacingDashes())_"]
        var staticFields: [String] = []
        var defaults: [String] = []
        var overrides: [String] = []
        var allowAllUsers = false
        var passwdFilePath: String?
        for child in node.children {
            record(child, section: section)
            if child.isSection {
                let key = Self.unprefixed(child.key, prefixes)
                switch key {
                case "fields", "iterate_fields":
                    for field in child.children where !field.isSection {
                        record(field, section: section + [child.title])
                        let value = field.value ?? ""
                        checkTemplate(value, key: "\(child.key) \(field.key)", context: .userdb, at: field.location)
                        if driver == "sql" || driver == "ldap" {
                            block.driverSettings.append(ExtConfigEntry(key: "\(key)/\(field.key)", value: value, location: field.location))
                            continue
                        }
                        guard key == "fields" else {
                            warnOnce("userdb iterate_fields", "userdb \(driver) { iterate_fields } is not used by Homing (ignored)",
                                     at: child.location)
                            continue
                        }
                        if MailStorage24.hasBlankOutsideVariables(value) {
                            diagnostics.error("fields { \(field.key) }: Homing cannot keep a space in a userdb field value of the "
                                              + "\(driver) driver", at: field.location)
                            continue
                        }
                        if driver == "static" {
                            staticFields.append("\(field.key)=\(value)")
                        } else if field.key.hasSuffix(":default") {
                            defaults.append("\(field.key.dropLast(":default".count))=\(value)")
                        } else {
                            overrides.append("\(field.key)=\(value)")
                        }
                    }
                case _ where driver == "sql" && (key == "pgsql" || key == "postgresql"):
                    block.driverSettings += pgsqlEntries(child, section: section + [child.title])
                default:
                    warnOnce("userdb \(child.key)", "\(child.key) { } inside userdb { } is not used by Homing (ignored)",
                             at: child.location)
                }
                continue
            }
            let value = child.value ?? ""
            if let removed = Dovecot24Names.removedInUserdb[child.key] {
                diagnostics.error("userdb { \(child.key) } is Dovecot 2.3 syntax, which a 2.4 file cannot use: \(removed)",
                                  at: child.location)
                continue
            }
            if child.key == "sql_driver" || child.key.hasPrefix("ldap_") || child.key.hasPrefix("pgsql_") {
                block.driverSettings.append(ExtConfigEntry(key: child.key, value: value, location: child.location))
                if child.key == "ldap_base" { checkTemplate(value, key: child.key, context: .userdb, at: child.location) }
                continue
            }
            let key = Self.unprefixed(child.key, prefixes)
            switch key {
            case "driver":
                continue
            case "skip", "result_success", "result_failure", "result_internalfail":
                block.assignments.append(assignment(child, key: key))
            case "path" where driver == "passwd-file":
                passwdFilePath = value
                checkTemplate(value, key: child.key, context: .userdb, at: child.location)
            case "allow_all_users" where driver == "static":
                allowAllUsers = value.lowercased() == "yes"
            case "query", "iterate_query", "filter", "iterate_filter":
                block.driverSettings.append(ExtConfigEntry(key: key, value: value, location: child.location))
                checkTemplate(value, key: child.key, context: .userdb, at: child.location)
            default:
                warnOnce("userdb \(child.key)", "userdb { \(child.key) } is not used by Homing (ignored)", at: child.location)
            }
        }
        switch driver {
        case "passwd-file":
            if let passwdFilePath {
                block.assignments.append(RawConfiguration.Assignment(key: "args", value: passwdFilePath, location: node.location))
            } else {
                diagnostics.error("userdb \(name) { } needs passwd_file_path = PATH", at: node.location)
            }
        case "static":
            if allowAllUsers { staticFields.append("allow_all_users=yes") }
            block.assignments.append(RawConfiguration.Assignment(key: "args", value: staticFields.joined(separator: " "),
                                                                 location: node.location))
        default:
            break
        }
        if !defaults.isEmpty {
            block.assignments.append(RawConfiguration.Assignment(key: "default_fields", value: defaults.joined(separator: " "),
                                                                 location: node.location))
        }
        if !overrides.isEmpty {
            block.assignments.append(RawConfiguration.Assignment(key: "override_fields", value: overrides.joined(separator: " "),
                                                                 location: node.location))
        }
        raw.userdbs.append(block)
    }

    // MARK: - Composing 2.3 values

    /// The `mail_*` settings as one `mail_location`.
    private mutating func composeMailLocation(inFilter: Bool) {
        guard let settings = mail[inFilter], !settings.isEmpty else { return }
        let anchor = settings["mail_path"] ?? settings["mail_driver"] ?? settings.values.first
        guard let anchor else { return }
        var merged = mail[false] ?? [:]
        if inFilter { merged.merge(settings) { _, new in new } }
        let text: String
        do {
            text = try MailStorage24.mailLocation(from: merged.mapValues(\.value))
        } catch {
            diagnostics.error(error.message, at: (merged[error.key] ?? anchor).location)
            return
        }
        let entry = RawConfiguration.Assignment(key: "mail_location", value: text, location: anchor.location)
        if inFilter { raw.lmtpFilter.append(entry) } else { raw.global.append(entry) }
    }

    /// `quota` blocks and `quota_*` settings as `plugin` entries.
    private mutating func composeQuota() {
        guard !quotaRoots.isEmpty else {
            if let (key, setting) = quotaSettings.first {
                warnOnce("quota without root", "\(key) has no effect without a quota root: add quota \"User quota\" { }",
                         at: setting.location)
            }
            return
        }
        if quotaRoots.count > 1 {
            diagnostics.error("Homing keeps one quota root per user: merge the quota { } blocks into one", at: quotaRoots[1].location)
        }
        let root = quotaRoots[0]
        var settings = quotaSettings.reduce(into: [String: RawConfiguration.Assignment]()) { result, pair in
            result[String(pair.key.dropFirst("quota_".count))] = pair.value
        }
        settings.merge(root.settings) { _, new in new }
        let driver = settings["driver"]?.value ?? "count"
        switch driver {
        case "maildir": break
        case "count":
            warnOnce("quota driver count", "quota \(root.name): Homing accounts quota in maildirsize as the maildir driver does "
                     + "(set driver = maildir to silence this warning)", at: settings["driver"]?.location ?? root.location)
        default:
            diagnostics.error("quota driver \(driver) is not supported by Homing (use maildir)", at: settings["driver"]?.location ?? root.location)
        }
        addPlugin("quota", "maildir:\(root.name)", at: root.location, inFilter: false)
        var limits: [String] = []
        var ruleLocation = root.location
        do {
            if let size = settings["storage_size"] {
                ruleLocation = size.location
                if let limit = try MailStorage24.quotaLimit(size.value, key: "quota_storage_size", bytes: true) { limits.append(limit) }
            }
            if let count = settings["message_count"] {
                ruleLocation = count.location
                if let limit = try MailStorage24.quotaLimit(count.value, key: "quota_message_count", bytes: false) { limits.append(limit) }
            }
        } catch {
            diagnostics.error(error.message, at: ruleLocation)
        }
        if !limits.isEmpty { addPlugin("quota_rule", "*:" + limits.joined(separator: ":"), at: ruleLocation, inFilter: false) }
        let grace = settings["storage_grace"]
        addPlugin("quota_grace", MailStorage24.size(grace?.value ?? "10M"), at: grace?.location ?? root.location, inFilter: false)
        if let size = settings["mail_size"], size.value != "unlimited", size.value != "0" {
            addPlugin("quota_max_mail_size", MailStorage24.size(size.value), at: size.location, inFilter: false)
        }
        if let message = settings["exceeded_message"] {
            addPlugin("quota_exceeded_message", message.value, at: message.location, inFilter: false)
        }
    }

    /// `sieve_script` blocks as the 2.3 `sieve*` plugin entries.
    private mutating func composeSieve() {
        var before = 0
        var after = 0
        for script in sieveScripts {
            let type = script.settings["type"]?.value ?? "personal"
            let driver = script.settings["driver"]?.value ?? "file"
            guard driver == "file" else {
                diagnostics.error("sieve_script \(script.name): the \(driver) driver is not supported by Homing (use driver = file)",
                                  at: script.settings["driver"]?.location ?? script.location)
                continue
            }
            let pathSetting = script.settings["path"]
            let path = pathSetting?.value ?? (type == "personal" ? "~/sieve" : "")
            let location = pathSetting?.location ?? script.location
            guard !path.isEmpty else {
                diagnostics.error("sieve_script \(script.name) { } needs path = ...", at: script.location)
                continue
            }
            switch type {
            case "personal":
                var value = "file:\(path)"
                if let active = script.settings["active_path"] { value += ";active=\(active.value)" }
                addPlugin("sieve", value, at: location, inFilter: false)
            case "before":
                before += 1
                addPlugin(before == 1 ? "sieve_before" : "sieve_before\(before)", path, at: location, inFilter: false)
            case "after":
                after += 1
                addPlugin(after == 1 ? "sieve_after" : "sieve_after\(after)", path, at: location, inFilter: false)
            case "default":
                addPlugin("sieve_default", path, at: location, inFilter: false)
            case "global":
                addPlugin("sieve_global", path, at: location, inFilter: false)
            default:
                diagnostics.error("sieve_script \(script.name): type \(type) is not supported by Homing "
                                  + "(personal, before, after, default or global)", at: script.settings["type"]?.location ?? script.location)
            }
        }
    }
}

extension String {
    fileprivate func replacingDashes() -> String {
        String(map { $0 == "-" ? "_" : $0 })
    }
}
