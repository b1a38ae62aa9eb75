import Glibc
import HomingConfig
import HomingDelivery
import HomingMaildir
import HomingQuota
import HomingSievePlugin
import HomingUserdb

/// The checks that `serve` and `homing config --check` make on a loaded configuration beyond
/// reading it: everything that would otherwise fail only at start (an unknown listener owner, a
/// log file that cannot be opened) or only at the first delivery (a mail location Homing cannot
/// store into), each reported with the `file:line` of the setting; and warnings for settings
/// that would silently do nothing.
public enum StartupChecks {
    /// Adds what is wrong with `loaded` to its diagnostics.
    public static func run(on loaded: inout LoadedConfiguration) {
        var diagnostics = ConfigDiagnostics()
        let settings = loaded.settings
        checkListeners(settings, into: &diagnostics)
        checkLogPath(settings, loaded, into: &diagnostics)
        checkMailLocation(settings, loaded, into: &diagnostics)
        checkAccounts(settings, loaded, into: &diagnostics)
        checkPluginSettings(settings, loaded, into: &diagnostics)
        warnAboutUnusedPluginSettings(settings, loaded, into: &diagnostics)
        loaded.diagnostics.add(contentsOf: diagnostics)
    }

    /// Gives a configuration error from building the program (a userdb driver, a plugin, the
    /// resolver) the `file:line` of the setting it names (`quota_rule2: ...`, `mail_uid: ...`)
    /// when it has none.
    public static func locate(_ error: ConfigError, in loaded: LoadedConfiguration) -> ConfigError {
        guard error.location == nil else { return error }
        var message = error.message
        var prefix = ""
        if message.hasPrefix("plugin { }: ") {
            prefix = "plugin { }: "
            message = String(message.dropFirst(prefix.count))
        }
        guard let colon = message.firstIndex(of: ":") else { return error }
        let setting = String(message[..<colon])
        guard !setting.isEmpty, setting.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return error }
        let location = prefix.isEmpty
            ? loaded.location(ofSetting: setting) ?? loaded.location(ofPluginSetting: setting)
            : loaded.location(ofPluginSetting: setting)
        return ConfigError(error.message, at: location)
    }

    // MARK: - The checks

    private static func checkListeners(_ settings: HomingSettings, into diagnostics: inout ConfigDiagnostics) {
        let quotaStatus = settings.quotaStatusService?.listeners.unixListeners ?? []
        for listener in settings.lmtpService.unixListeners + quotaStatus where listener.mode != 0 {
            if !listener.user.isEmpty, SystemAccounts.uid(listener.user) == nil {
                diagnostics.error(
                    "unix_listener \(listener.path): user '\(listener.user)' does not exist", at: listener.location)
            }
            if !listener.group.isEmpty, SystemAccounts.gid(listener.group) == nil {
                diagnostics.error(
                    "unix_listener \(listener.path): group '\(listener.group)' does not exist", at: listener.location)
            }
        }
    }

    private static func checkLogPath(
        _ settings: HomingSettings, _ loaded: LoadedConfiguration, into diagnostics: inout ConfigDiagnostics
    ) {
        let path = settings.logPath
        guard path.hasPrefix("/"), path != "/dev/stderr" else { return }
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        var info = stat()
        let location = loaded.location(ofSetting: "log_path")
        if stat(path, &info) == 0 {
            if access(path, W_OK) != 0 {
                diagnostics.error("log_path \(path): cannot write to it (\(String(cString: strerror(errno))))", at: location)
            }
        } else if stat(directory.isEmpty ? "/" : directory, &info) != 0 || (info.st_mode & S_IFMT) != S_IFDIR {
            diagnostics.error(
                "log_path \(path): the directory \(directory) does not exist: create it or change log_path", at: location)
        } else if access(directory, W_OK) != 0 {
            diagnostics.error("log_path \(path): cannot create it in \(directory) (\(String(cString: strerror(errno))))", at: location)
        }
    }

    /// `mail_location` must be a maildir location Homing can store into; an empty one is only
    /// usable when the userdbs return `mail` for every user.
    private static func checkMailLocation(
        _ settings: HomingSettings, _ loaded: LoadedConfiguration, into diagnostics: inout ConfigDiagnostics
    ) {
        let location = loaded.location(ofSetting: "mail_location") ?? loaded.location(ofSetting: "mail_driver")
            ?? loaded.location(ofSetting: "mail_path")
        let template = settings.mailLocation
        guard !template.isEmpty else {
            // Written in the file but not taken (say, mail_location in a 2.4 file): the error
            // that rejected it already names it; a second message about its absence is noise.
            guard location == nil else { return }
            let fileOnly = !settings.userdbs.isEmpty && settings.userdbs.allSatisfy { ["passwd"].contains($0.driver) }
            let message = "mail_location is not set: every user then needs a `mail` field from the userdb"
            if fileOnly {
                diagnostics.error("\(message), and the passwd userdb returns none: set mail_location (e.g. maildir:~/Maildir)")
            } else {
                diagnostics.warning(message + " (set mail_location, e.g. maildir:~/Maildir)")
            }
            return
        }
        do {
            let expanded = try RecipientResolver.expandMailLocation(
                template, user: "user@example.com", home: "/home/user", service: "lmtp", syntax: settings.variableSyntax)
            _ = try MailLocation.parse(expanded, home: "/home/user")
        } catch {
            diagnostics.error("mail_location: \(error)", at: location)
        }
    }

    private static func checkAccounts(
        _ settings: HomingSettings, _ loaded: LoadedConfiguration, into diagnostics: inout ConfigDiagnostics
    ) {
        if let name = settings.mailUID, !name.isEmpty, SystemAccounts.uid(name) == nil {
            diagnostics.error("mail_uid: unknown user '\(name)'", at: loaded.location(ofSetting: "mail_uid"))
        }
        if let name = settings.mailGID, !name.isEmpty, SystemAccounts.gid(name) == nil {
            diagnostics.error("mail_gid: unknown group '\(name)'", at: loaded.location(ofSetting: "mail_gid"))
        }
    }

    /// The quota and Sieve plugins' settings, each error at its line (the plugins check them
    /// again when they are built).
    private static func checkPluginSettings(
        _ settings: HomingSettings, _ loaded: LoadedConfiguration, into diagnostics: inout ConfigDiagnostics
    ) {
        if settings.mailPlugins.contains("quota") {
            do {
                _ = try QuotaRootSetting.parse(settings.plugin["quota"] ?? "maildir:User quota")
            } catch {
                diagnostics.error("plugin { }: \(error)", at: loaded.location(ofPluginSetting: error.setting))
            }
            do {
                _ = try QuotaConfiguration(plugin: settings.plugin)
            } catch {
                diagnostics.error("plugin { }: \(error)", at: loaded.location(ofPluginSetting: error.setting))
            }
        }
        if settings.mailPlugins.contains("sieve") {
            do {
                try SievePlugin.checkSettings(settings)
            } catch {
                diagnostics.error(locate(ConfigError("plugin { }: \(error.message)"), in: loaded))
            }
        }
    }

    /// Quota and Sieve settings that no plugin reads.
    private static func warnAboutUnusedPluginSettings(
        _ settings: HomingSettings, _ loaded: LoadedConfiguration, into diagnostics: inout ConfigDiagnostics
    ) {
        let plugins = Set(settings.mailPlugins)
        for key in settings.plugin.keys.sorted() {
            if key.hasPrefix("quota"), !plugins.contains("quota") {
                diagnostics.warning(
                    "\(key) is set but mail_plugins has no quota: the limits are not enforced (add quota to mail_plugins)",
                    at: loaded.location(ofPluginSetting: key))
            } else if key.hasPrefix("sieve"), !plugins.contains("sieve") {
                diagnostics.warning(
                    "\(key) is set but mail_plugins has no sieve: no script runs (add sieve to mail_plugins)",
                    at: loaded.location(ofPluginSetting: key))
            }
        }
        if !plugins.contains("quota") {
            for key in ["lmtp_rcpt_check_quota", "quota_full_tempfail"] where loaded.location(ofSetting: key) != nil {
                diagnostics.warning(
                    "\(key) is set but mail_plugins has no quota: it does nothing", at: loaded.location(ofSetting: key))
            }
        }
    }
}
