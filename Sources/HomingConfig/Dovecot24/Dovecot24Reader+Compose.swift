/// The 2.4 settings gathered while reading, turned into the 2.3 values Homing runs with.
extension Dovecot24Reader {
    // MARK: - Composing 2.3 values

    /// The `mail_*` settings as one `mail_location`.
    mutating func composeMailLocation(inFilter: Bool) {
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
    mutating func composeQuota() {
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
    mutating func composeSieve() {
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
