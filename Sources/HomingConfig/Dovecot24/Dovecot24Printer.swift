/// Prints the effective configuration of a Dovecot 2.3 file (Homing's part: LMTP, listeners,
/// passdbs and userdbs with their dovecot-sql/ldap.conf.ext contents folded in, mail, quota and Sieve) as a
/// Dovecot 2.4 file that Homing reads back to the same effective settings, variables rewritten
/// in 2.4 syntax. What cannot be carried over is listed as `# ` comments at its place, and
/// summed up at the end. This is `homing config --print-2.4`. A 2.4 configuration is printed
/// the same way (its templates as they are): that is what `homing config` shows for a 2.4 file.
public struct Dovecot24Printer {
    let configuration: LoadedConfiguration
    var lines: [String] = []
    var notes: [String] = []

    public init(configuration: LoadedConfiguration) {
        self.configuration = configuration
    }

    /// The 2.4 text.
    public static func text(for configuration: LoadedConfiguration) -> String {
        var printer = Dovecot24Printer(configuration: configuration)
        return printer.render()
    }

    mutating func render() -> String {
        let settings = configuration.settings
        let global = configuration.globalSettings
        lines = [
            "dovecot_config_version = 2.4.1",
            "# Homing: \(configuration.path) in Dovecot 2.4 syntax (homing config --print-2.4)",
            "dovecot_storage_version = 2.4.1",
        ]
        // Settings whose 2.4 default differs are always written.
        let always: Set<String> = ["protocols", "auth_username_format", "deliver_log_format", "lmtp_user_concurrency_limit"]
        let defaults = HomingSettings()
        for (name, definition) in SettingDefinitions.all.sorted(by: { $0.key < $1.key }) where name != "mail_location" {
            let value = definition.render(global)
            guard always.contains(name) || value != definition.render(defaults) else { continue }
            setting(name, value, context: Self.contexts[name])
        }
        mailLocation(global.mailLocation, indent: "")
        service(settings)
        quota(settings.plugin)
        sieve(settings.plugin)
        for (index, passdb) in settings.passdbs.enumerated() { self.passdb(passdb, index: index, all: settings.passdbs) }
        for (index, userdb) in settings.userdbs.enumerated() { self.userdb(userdb, index: index, all: settings.userdbs) }
        for namespace in settings.namespaces {
            var body: [String] = []
            if namespace.inbox { body.append("  inbox = yes") }
            if !namespace.prefix.isEmpty { body.append("  prefix = \(namespace.prefix)") }
            if !namespace.separator.isEmpty { body.append("  separator = \(namespace.separator)") }
            lines += ["namespace \(Self.name(namespace.name ?? "inbox")) {"] + body + ["}"]
        }
        lmtpFilter()
        if !notes.isEmpty {
            lines.append("")
            lines.append("# Not carried over (see the comments above):")
            lines += notes.map { "#   \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static let contexts: [String: TemplateChecks.Context] = [
        "auth_username_format": .userdb, "deliver_log_format": .deliveryLog, "postmaster_address": .mail,
    ]

    // MARK: - Lines

    mutating func setting(_ key: String, _ value: String, context: TemplateChecks.Context?, indent: String = "") {
        guard let context, configuration.syntax == .dovecot23 else {
            lines.append(indent + NonDefaultSettingsPrinter.line(key, value))
            return
        }
        do {
            let converted = try Dovecot23Syntax.convert(value, context: context)
            lines.append(indent + NonDefaultSettingsPrinter.line(key, converted))
        } catch {
            unconvertible("\(key) = \(value)", "\(error)", indent: indent)
        }
    }

    mutating func unconvertible(_ what: String, _ why: String, indent: String = "") {
        lines.append("\(indent)# \(what): \(why)")
        notes.append("\(what): \(why)")
    }

    static func name(_ text: String) -> String {
        guard text.isEmpty || text.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "{" }) else { return text }
        var out = "\""
        for character in text {
            if character == "\"" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }

    // MARK: - Mail location

    mutating func mailLocation(_ location: String, indent: String) {
        guard !location.isEmpty else { return }
        let arguments = Self.locationArguments(location)
        var parts = arguments[...]
        guard var root = parts.popFirst() else { return }
        var driver = "maildir"
        if let colon = root.firstIndex(of: ":") {
            driver = String(root[..<colon])
            root = String(root[root.index(after: colon)...])
        }
        setting("mail_driver", driver, context: nil, indent: indent)
        setting("mail_path", root, context: .mail, indent: indent)
        let options = Dictionary(MailStorage24.pathOptions.map { ($0.option, $0.setting) }) { first, _ in first }
        for part in parts where !part.isEmpty {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            let key = pair[0]
            let value = pair.count > 1 ? pair[1] : ""
            if let settingName = options[key] {
                setting(settingName, value, context: .mail, indent: indent)
            } else if key == "LAYOUT" {
                setting("mailbox_list_layout", value, context: nil, indent: indent)
            } else if key == "UTF-8" || key == "UTF8" {
                setting("mailbox_list_utf8", "yes", context: nil, indent: indent)
            } else {
                unconvertible("mail_location option \(part)", "Homing has no 2.4 setting for it", indent: indent)
            }
        }
    }

    /// `maildir:~/Maildir:LAYOUT=fs` as `["maildir:~/Maildir", "LAYOUT=fs"]` (`::` is a `:`).
    static func locationArguments(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        var characters = Array(text)[...]
        var sawFormat = false
        var depth = 0
        var previous: Character?
        while let character = characters.popFirst() {
            defer { previous = character }
            if character == "{", previous == "%" { depth += 1 } else if character == "}", depth > 0 { depth -= 1 }
            if character == ":", depth == 0 {
                if characters.first == ":" {
                    characters.removeFirst()
                    current += ":"
                    continue
                }
                if !sawFormat, result.isEmpty, current.allSatisfy({ $0.isLetter || $0.isNumber }) {
                    sawFormat = true
                    current += ":"
                    continue
                }
                result.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        result.append(current)
        return result
    }

    // MARK: - service lmtp

    mutating func service(_ settings: HomingSettings) {
        var body: [String] = []
        for listener in settings.lmtpService.unixListeners {
            if listener.location == nil, listener.path == "lmtp", listener.user.isEmpty, listener.group.isEmpty,
               listener.mode == 0o666 { continue }
            body.append("  unix_listener \(Self.name(listener.path)) {")
            if !listener.user.isEmpty { body.append("    user = \(listener.user)") }
            if !listener.group.isEmpty { body.append("    group = \(listener.group)") }
            body.append("    mode = \(SettingValueParser.formatMode(listener.mode))")
            body.append("  }")
        }
        for listener in settings.lmtpService.inetListeners {
            body.append("  inet_listener \(Self.name(listener.name)) {")
            body.append("    listen = \(listener.addresses.joined(separator: ", "))")
            body.append("    port = \(listener.port)")
            body.append("  }")
        }
        guard !body.isEmpty else { return }
        lines += ["service lmtp {"] + body + ["}"]
    }

    // MARK: - Quota

    mutating func quota(_ plugin: [String: String]) {
        guard let root = plugin["quota"] else { return }
        let parts = root.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.count > 1 ? parts[1] : "User quota"
        lines.append("quota \(Self.name(name)) {")
        lines.append("  driver = \(parts.first ?? "maildir")")
        if let rule = plugin["quota_rule"] { quotaRule(rule) }
        for index in 2...9 where plugin["quota_rule\(index)"] != nil {
            unconvertible("quota_rule\(index) = \(plugin["quota_rule\(index)"] ?? "")",
                          "per-mailbox rules are set in mailbox { } blocks in 2.4, which Homing does not read", indent: "  ")
        }
        let grace = plugin["quota_grace"] ?? "10%"
        if grace.hasSuffix("%") {
            unconvertible("quota_grace = \(grace)", "2.4's quota_storage_grace is a size (default 10M), not a percentage",
                          indent: "  ")
        } else {
            lines.append("  storage_grace = \(grace)")
        }
        if let size = plugin["quota_max_mail_size"], size != "0" { lines.append("  quota_mail_size = \(size)") }
        if let message = plugin["quota_exceeded_message"] {
            lines.append("  " + NonDefaultSettingsPrinter.line("quota_exceeded_message", message))
        }
        lines.append("}")
    }

    mutating func quotaRule(_ rule: String) {
        var limits = rule.split(separator: ":").map(String.init)
        let mask = limits.isEmpty ? "" : limits.removeFirst()
        guard mask == "*" else {
            unconvertible("quota_rule = \(rule)", "only the default rule (*:...) has a 2.4 form here", indent: "  ")
            return
        }
        for limit in limits {
            let pair = limit.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else {
                unconvertible("quota_rule = \(rule)", "'\(limit)' has no 2.4 form", indent: "  ")
                continue
            }
            switch pair[0] {
            case "storage":
                // 2.3 counts a bare number in kilobytes, 2.4 in bytes.
                let value = pair[1].allSatisfy({ $0.isNumber }) ? pair[1] + "k" : pair[1]
                lines.append("  storage_size = \(value)")
            case "bytes": lines.append("  storage_size = \(pair[1])")
            case "messages": lines.append("  message_count = \(pair[1])")
            default: unconvertible("quota_rule = \(rule)", "'\(limit)' has no 2.4 form", indent: "  ")
            }
        }
    }

    // MARK: - Sieve

    static let sieveSameNames = [
        "sieve_max_script_size", "sieve_max_actions", "sieve_max_redirects", "sieve_vacation_min_period",
        "sieve_vacation_max_period", "sieve_vacation_default_period", "sieve_redirect_envelope_from",
        "sieve_vacation_send_from_recipient",
    ]

    mutating func sieve(_ plugin: [String: String]) {
        var handled: Set<String> = ["quota", "quota_rule", "quota_grace", "quota_max_mail_size", "quota_exceeded_message"]
        for index in 2...9 { handled.insert("quota_rule\(index)") }
        if let location = plugin["sieve"] {
            handled.insert("sieve")
            var parts = location.split(separator: ";").map(String.init)
            var path = parts.isEmpty ? "" : parts.removeFirst()
            if path.hasPrefix("file:") { path.removeFirst(5) }
            lines.append("sieve_script personal {")
            lines.append("  driver = file")
            script(path: path)
            for option in parts {
                let pair = option.split(separator: "=", maxSplits: 1).map(String.init)
                if pair[0] == "active", pair.count == 2 {
                    scriptSetting("active_path", pair[1])
                } else {
                    unconvertible("sieve option \(option)", "not carried over", indent: "  ")
                }
            }
            lines.append("}")
        }
        for (prefix, type) in [("sieve_before", "before"), ("sieve_after", "after")] {
            var index = 1
            while let value = plugin[index == 1 ? prefix : "\(prefix)\(index)"] {
                handled.insert(index == 1 ? prefix : "\(prefix)\(index)")
                lines.append("sieve_script \(type)\(index == 1 ? "" : String(index)) {")
                lines.append("  type = \(type)")
                script(path: value)
                lines.append("}")
                index += 1
            }
        }
        for (key, type) in [("sieve_default", "default"), ("sieve_global", "global"), ("sieve_global_dir", "global")] {
            guard let value = plugin[key], !handled.contains("sieve_global") || key != "sieve_global_dir" else { continue }
            handled.insert(key)
            if key == "sieve_global" { handled.insert("sieve_global_dir") }
            lines.append("sieve_script \(type) {")
            lines.append("  type = \(type)")
            script(path: value)
            lines.append("}")
        }
        if let log = plugin["sieve_user_log"] {
            handled.insert("sieve_user_log")
            setting("sieve_user_log_path", log, context: .mail)
        }
        for key in Self.sieveSameNames where plugin[key] != nil {
            handled.insert(key)
            setting(key, plugin[key] ?? "", context: nil)
        }
        for key in plugin.keys.sorted() where !handled.contains(key) {
            unconvertible("plugin { \(key) = \(plugin[key] ?? "") }", "no 2.4 setting Homing reads corresponds to it")
        }
    }

    mutating func script(path raw: String) {
        var path = raw.split(separator: ";").first.map(String.init) ?? raw
        if path.hasPrefix("file:") { path.removeFirst(5) }
        scriptSetting("path", path)
    }

    mutating func scriptSetting(_ key: String, _ value: String) {
        setting(key, value, context: .mail, indent: "  ")
    }

    // MARK: - protocol lmtp

    mutating func lmtpFilter() {
        let settings = configuration.settings
        var seen: Set<String> = []
        var body: [String] = []
        let saved = lines
        lines = []
        for assignment in configuration.raw.lmtpFilter {
            guard let definition = SettingDefinitions.all[assignment.key], seen.insert(assignment.key).inserted else { continue }
            if assignment.key == "mail_location" {
                mailLocation(settings.mailLocation, indent: "  ")
            } else {
                setting(assignment.key, definition.render(settings), context: Self.contexts[assignment.key], indent: "  ")
            }
        }
        for assignment in configuration.raw.lmtpPlugin {
            unconvertible("protocol lmtp { plugin { \(assignment.key) } }",
                          "2.4 plugin settings inside protocol lmtp are not carried over; they were merged into the global ones above",
                          indent: "  ")
        }
        body = lines
        lines = saved
        guard !body.isEmpty else { return }
        lines += ["protocol lmtp {"] + body + ["}"]
    }
}
