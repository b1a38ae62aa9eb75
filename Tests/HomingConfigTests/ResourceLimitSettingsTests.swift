import Testing

@testable import HomingConfig

@Suite("Resource limits and the tmp/ scan interval, with Dovecot's names and defaults")
struct ResourceLimitSettingsTests {
    private func load(_ text: String) throws -> LoadedConfiguration {
        try ConfigurationLoader.parse(text: minimalConfiguration + text, file: "/etc/dovecot/dovecot.conf")
    }

    private func error(_ text: String) -> String? {
        do throws(ConfigError) {
            _ = try ConfigurationLoader.parse(text: minimalConfiguration + text, file: "/etc/dovecot/dovecot.conf")
            return nil
        } catch {
            return error.description
        }
    }

    @Test("defaults: 100 × 1 LMTP sessions (default_process_limit × lmtp's client_limit), tmp/ scanned weekly")
    func defaults() throws {
        let settings = try load("").settings
        #expect(settings.lmtpService.processLimit == 0)
        #expect(settings.lmtpService.clientLimit == 1)
        #expect(settings.defaultProcessLimit == 100)
        #expect(settings.defaultClientLimit == 1000)
        #expect(settings.maximumLMTPSessions == 100)
        #expect(settings.mailTempScanInterval == 7 * 24 * 3600)
    }

    @Test("service lmtp { process_limit client_limit } multiply; 0 stands for the default_ setting")
    func serviceLimits() throws {
        let explicit = try load("service lmtp {\n  process_limit = 3\n  client_limit = 4\n}\n").settings
        #expect(explicit.maximumLMTPSessions == 12)
        let defaults = try load(
            "default_process_limit = 7\ndefault_client_limit = 5\nservice lmtp {\n  client_limit = 0\n}\n").settings
        #expect(defaults.maximumLMTPSessions == 35)
        let loaded = try load("service lmtp {\n  process_limit = 2\n}\n")
        #expect(loaded.warnings.isEmpty)
        #expect(loaded.nonDefaultSettingsText().contains("service lmtp {\n  process_limit = 2\n}"))
    }

    @Test("mail_temp_scan_interval takes Dovecot's intervals; 0 disables")
    func scanInterval() throws {
        #expect(try load("mail_temp_scan_interval = 8h\n").settings.mailTempScanInterval == 8 * 3600)
        #expect(try load("mail_temp_scan_interval = 0\n").settings.mailTempScanInterval == 0)
        #expect(try load("mail_temp_scan_interval = 2 days\n").nonDefaultSettingsText().contains("mail_temp_scan_interval = 2 days"))
    }

    @Test("mail_max_lock_timeout takes Dovecot's intervals; 0 (the default) means 120 s for the maildirsize lock")
    func lockTimeout() throws {
        #expect(try load("mail_max_lock_timeout = 30s\n").settings.effectiveLockTimeout == 30)
        #expect(try load("").settings.mailMaxLockTimeout == 0)
        #expect(try load("").settings.effectiveLockTimeout == 120)
        #expect(try load("mail_max_lock_timeout = 2 mins\n").nonDefaultSettingsText().contains("mail_max_lock_timeout = 2 mins"))
    }

    @Test("auth_cache_size, auth_cache_ttl and auth_cache_negative_ttl as Dovecot writes them; no cache by default")
    func authCache() throws {
        let defaults = try load("").settings
        #expect(defaults.authCacheSize == 0 && defaults.authCacheTTL == 3600 && defaults.authCacheNegativeTTL == 3600)
        let set = try load("auth_cache_size = 10M\nauth_cache_ttl = 5 mins\nauth_cache_negative_ttl = 0\n").settings
        #expect(set.authCacheSize == 10 << 20 && set.authCacheTTL == 300 && set.authCacheNegativeTTL == 0)
        #expect(error("auth_cache_size = big\n")?.hasPrefix("/etc/dovecot/dovecot.conf:2: auth_cache_size: invalid size 'big'") == true)
        #expect(error("auth_cache_ttl = soon\n")?.hasPrefix("/etc/dovecot/dovecot.conf:2: auth_cache_ttl: invalid time interval 'soon'") == true)
    }

    @Test("bad values are errors naming the setting")
    func badValues() {
        #expect(error("service lmtp {\n  process_limit = lots\n}\n")
            == "/etc/dovecot/dovecot.conf:3: process_limit: invalid number 'lots'")
        #expect(error("default_client_limit = 0\n")
            == "/etc/dovecot/dovecot.conf:2: default_client_limit: 0 is out of range (1-2147483647)")
        #expect(error("mail_temp_scan_interval = often\n")?.hasPrefix("/etc/dovecot/dovecot.conf:2: mail_temp_scan_interval: invalid time interval 'often'") == true)
    }
}
