import Testing
@testable import HomingConfig

@Suite("Settings Homing ignores")
struct ConfigWarningTests {
    @Test("one warning per ignored setting name or section type, never an error")
    func warnings() throws {
        let loaded = try ConfigurationLoader.parse(text: """
            postmaster_address = pm@example.com
            ssl = required
            ssl_cert = </nonexistent-homing/cert.pem
            ssl = yes
            auth_mechanisms = plain login
            passdb {
              driver = pam
            }
            passdb {
              driver = sql
              args = /etc/dovecot/dovecot-sql.conf.ext
            }
            namespace inbox {
              inbox = yes
              mailbox Sent {
                special_use = \\Sent
              }
            }
            service imap-login {
              inet_listener imap {
                port = 143
              }
            }
            service lmtp {
              process_min_avail = 2
              unix_listener x {
                user = postfix
                ssl = no
              }
              inet_listener y {
                haproxy = yes
              }
            }
            protocol imap {
              mail_max_userip_connections = 10
            }
            local 127.0.0.1 {
              auth_mechanisms = plain
            }
            remote 10.0.0.0/8 {
            }
            userdb {
              driver = passwd
              auth_verbose = yes
            }
            protocol lmtp {
              imap_idle_notify_interval = 2 mins
            }
            totally_made_up = 1
            """, file: "conf.d/10-ssl.conf")
        #expect(loaded.warnings.map(\.description) == [
            "conf.d/10-ssl.conf:2: ssl is not used by Homing (ignored)",
            "conf.d/10-ssl.conf:3: ssl_cert is not used by Homing (ignored)",
            "conf.d/10-ssl.conf:5: auth_mechanisms is not used by Homing (ignored)",
            "conf.d/10-ssl.conf:15: mailbox { } inside namespace inbox { } is not used by Homing (ignored)",
            "conf.d/10-ssl.conf:19: service imap-login { } is not used by Homing (ignored)",
            "conf.d/10-ssl.conf:25: service lmtp { process_min_avail } is not used by Homing (ignored)",
            "conf.d/10-ssl.conf:28: unix_listener { ssl } is not used by Homing (ignored)",
            "conf.d/10-ssl.conf:31: inet_listener { haproxy } is not used by Homing (ignored)",
            "conf.d/10-ssl.conf:34: protocol imap { } is not used by Homing (ignored)",
            "conf.d/10-ssl.conf:37: local { } sections are not used by Homing (ignored)",
            "conf.d/10-ssl.conf:40: remote { } sections are not used by Homing (ignored)",
            "conf.d/10-ssl.conf:44: userdb { auth_verbose } is not used by Homing (ignored)",
            "conf.d/10-ssl.conf:47: imap_idle_notify_interval is not used by Homing (ignored)",
            "conf.d/10-ssl.conf:49: totally_made_up is not used by Homing (ignored)",
        ])
        #expect(loaded.settings.userdbs.map(\.driver) == ["passwd"])
        // passdb blocks are read (for lmtp_proxy), whatever their driver, without a warning.
        #expect(loaded.settings.passdbs.map(\.driver) == ["pam", "sql"])
    }

    @Test("<file values of ignored settings are not read; those of used settings are")
    func fileValuesOfIgnoredSettings() throws {
        let loaded = try ConfigurationLoader.parse(text: minimalConfiguration + "ssl_key = </nonexistent-homing/key.pem\n", file: "f.conf")
        #expect(loaded.warnings.map(\.description) == ["f.conf:2: ssl_key is not used by Homing (ignored)"])
        #expect(throws: ConfigError("sieve: can't read </nonexistent-homing/sieve: No such file or directory",
                                    at: ConfigLocation(file: "f.conf", line: 3))) {
            try ConfigurationLoader.parse(text: minimalConfiguration + "plugin {\n  sieve = </nonexistent-homing/sieve\n}\n", file: "f.conf")
        }
    }
}
