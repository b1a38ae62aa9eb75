/// The dovecot.conf settings Homing implements, by name.
enum SettingDefinitions {
    /// All implemented global / `protocol lmtp { }` settings.
    static let all: [String: SettingDefinition] = {
        var table: [String: SettingDefinition] = [:]
        for definition in list { table[definition.name] = definition }
        return table
    }()

    private typealias P = SettingValueParser

    private static func string(_ name: String, _ keyPath: WritableKeyPath<HomingSettings, String> & Sendable) -> SettingDefinition {
        SettingDefinition(name: name, apply: { settings, value, _ in settings[keyPath: keyPath] = value },
                          render: { $0[keyPath: keyPath] })
    }

    private static func optionalString(_ name: String, _ keyPath: WritableKeyPath<HomingSettings, String?> & Sendable) -> SettingDefinition {
        SettingDefinition(name: name, apply: { settings, value, _ in settings[keyPath: keyPath] = value.isEmpty ? nil : value },
                          render: { $0[keyPath: keyPath] ?? "" })
    }

    private static func boolean(_ name: String, _ keyPath: WritableKeyPath<HomingSettings, Bool> & Sendable) -> SettingDefinition {
        SettingDefinition(name: name, apply: { settings, value, location throws(ConfigError) in
            settings[keyPath: keyPath] = try P.boolean(value, key: name, at: location)
        }, render: { $0[keyPath: keyPath] ? "yes" : "no" })
    }

    private static func id(_ name: String, _ keyPath: WritableKeyPath<HomingSettings, UInt32> & Sendable) -> SettingDefinition {
        SettingDefinition(name: name, apply: { settings, value, location throws(ConfigError) in
            settings[keyPath: keyPath] = try P.unsigned(value, as: UInt32.self, key: name, at: location)
        }, render: { String($0[keyPath: keyPath]) })
    }

    /// Seconds as doveconf prints an interval (`1 weeks`, `8 hours`, `90 secs`).
    static func intervalText(_ seconds: Int) -> String {
        for (unit, size) in [("weeks", 604_800), ("days", 86_400), ("hours", 3600), ("mins", 60)]
        where seconds != 0 && seconds % size == 0 {
            return "\(seconds / size) \(unit)"
        }
        return "\(seconds) secs"
    }

    private static let list: [SettingDefinition] = [
        SettingDefinition(name: "protocols", apply: { settings, value, _ in
            let words = P.list(value)
            settings.protocols = words == ["none"] ? [] : words
        }, render: { $0.protocols.isEmpty ? "none" : $0.protocols.joined(separator: " ") }),
        string("base_dir", \.baseDir),
        optionalString("hostname", \.hostname),
        optionalString("postmaster_address", \.postmasterAddress),
        string("mail_location", \.mailLocation),
        optionalString("mail_uid", \.mailUID),
        optionalString("mail_gid", \.mailGID),
        id("first_valid_uid", \.firstValidUID),
        id("last_valid_uid", \.lastValidUID),
        id("first_valid_gid", \.firstValidGID),
        id("last_valid_gid", \.lastValidGID),
        SettingDefinition(name: "mail_plugins", apply: { settings, value, _ in
            settings.mailPlugins = P.list(value, separators: [" ", "\t", ","])
        }, render: { $0.mailPlugins.joined(separator: " ") }),
        string("recipient_delimiter", \.recipientDelimiter),
        boolean("lmtp_save_to_detail_mailbox", \.lmtpSaveToDetailMailbox),
        boolean("lmtp_add_received_header", \.lmtpAddReceivedHeader),
        SettingDefinition(name: "lmtp_hdr_delivery_address", apply: { settings, value, location throws(ConfigError) in
            settings.lmtpHdrDeliveryAddress = try P.choice(value, as: HomingSettings.DeliveryAddressHeader.self,
                                                           choices: ["none", "final", "original"],
                                                           key: "lmtp_hdr_delivery_address", at: location)
        }, render: { $0.lmtpHdrDeliveryAddress.rawValue }),
        boolean("lmtp_rcpt_check_quota", \.lmtpRcptCheckQuota),
        SettingDefinition(name: "lmtp_user_concurrency_limit", apply: { settings, value, location throws(ConfigError) in
            settings.lmtpUserConcurrencyLimit = try P.integer(value, in: 0...Int(Int32.max),
                                                              key: "lmtp_user_concurrency_limit", at: location)
        }, render: { String($0.lmtpUserConcurrencyLimit) }),
        boolean("lmtp_proxy", \.lmtpProxy),
        boolean("lmtp_verbose_replies", \.lmtpVerboseReplies),
        SettingDefinition(name: "auth_proxy_self", apply: { settings, value, _ in
            settings.authProxySelf = P.list(value)
        }, render: { $0.authProxySelf.joined(separator: " ") }),
        boolean("quota_full_tempfail", \.quotaFullTempfail),
        string("auth_username_format", \.authUsernameFormat),
        string("auth_username_chars", \.authUsernameChars),
        string("auth_username_translation", \.authUsernameTranslation),
        SettingDefinition(name: "mail_fsync", apply: { settings, value, location throws(ConfigError) in
            settings.mailFsync = try P.choice(value, as: HomingSettings.FsyncMode.self,
                                              choices: ["optimized", "always", "never"], key: "mail_fsync", at: location)
        }, render: { $0.mailFsync.rawValue }),
        boolean("lda_mailbox_autocreate", \.ldaMailboxAutocreate),
        boolean("lda_mailbox_autosubscribe", \.ldaMailboxAutosubscribe),
        string("mail_temp_dir", \.mailTempDir),
        string("sendmail_path", \.sendmailPath),
        string("submission_host", \.submissionHost),
        string("deliver_log_format", \.deliverLogFormat),
        string("log_path", \.logPath),
        boolean("mail_debug", \.mailDebug),
        SettingDefinition(name: "listen", apply: { settings, value, _ in
            settings.listen = P.list(value, separators: [" ", "\t", ","])
        }, render: { $0.listen.joined(separator: ", ") }),
        SettingDefinition(name: "mail_temp_scan_interval", apply: { settings, value, location throws(ConfigError) in
            do {
                settings.mailTempScanInterval = try DovecotInterval.seconds(value)
            } catch {
                throw ConfigError("mail_temp_scan_interval: \(error)", at: location)
            }
        }, render: { intervalText($0.mailTempScanInterval) }),
        SettingDefinition(name: "mail_max_lock_timeout", apply: { settings, value, location throws(ConfigError) in
            do {
                settings.mailMaxLockTimeout = try DovecotInterval.seconds(value)
            } catch {
                throw ConfigError("mail_max_lock_timeout: \(error)", at: location)
            }
        }, render: { intervalText($0.mailMaxLockTimeout) }),
        SettingDefinition(name: "auth_cache_size", apply: { settings, value, location throws(ConfigError) in
            do {
                settings.authCacheSize = try DovecotSize.parse(value)
            } catch {
                throw ConfigError("auth_cache_size: \(error)", at: location)
            }
        }, render: { String($0.authCacheSize) }),
        SettingDefinition(name: "auth_cache_ttl", apply: { settings, value, location throws(ConfigError) in
            do {
                settings.authCacheTTL = try DovecotInterval.seconds(value)
            } catch {
                throw ConfigError("auth_cache_ttl: \(error)", at: location)
            }
        }, render: { intervalText($0.authCacheTTL) }),
        SettingDefinition(name: "auth_cache_negative_ttl", apply: { settings, value, location throws(ConfigError) in
            do {
                settings.authCacheNegativeTTL = try DovecotInterval.seconds(value)
            } catch {
                throw ConfigError("auth_cache_negative_ttl: \(error)", at: location)
            }
        }, render: { intervalText($0.authCacheNegativeTTL) }),
        SettingDefinition(name: "default_process_limit", apply: { settings, value, location throws(ConfigError) in
            settings.defaultProcessLimit = try P.integer(value, in: 1...Int(Int32.max), key: "default_process_limit", at: location)
        }, render: { String($0.defaultProcessLimit) }),
        SettingDefinition(name: "login_trusted_networks", apply: { settings, value, location throws(ConfigError) in
            do {
                settings.loginTrustedNetworks = try IPNetwork.parseList(value)
            } catch {
                throw ConfigError("login_trusted_networks: \(error)", at: location)
            }
        }, render: { $0.loginTrustedNetworks.map(\.description).joined(separator: " ") }),
        SettingDefinition(name: "default_client_limit", apply: { settings, value, location throws(ConfigError) in
            settings.defaultClientLimit = try P.integer(value, in: 1...Int(Int32.max), key: "default_client_limit", at: location)
        }, render: { String($0.defaultClientLimit) }),
    ]
}
