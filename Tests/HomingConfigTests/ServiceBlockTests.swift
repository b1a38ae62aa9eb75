import Testing

@testable import HomingConfig

@Suite("service blocks other than lmtp, protocol lda { } and -o overrides")
struct ServiceBlockTests {
    static let base = "postmaster_address = pm@example.com\nprotocols = lmtp\n"

    @Test("service quota-status is read with its listeners; the other services are warned about once and ignored")
    func quotaStatus() throws {
        let loaded = try ConfigurationLoader.parse(text: Self.base + """
            service quota-status {
              executable = /usr/lib/dovecot/quota-status -p postfix
              client_limit = 1
              inet_listener {
                port = 12340
                address = 127.0.0.1
              }
              unix_listener /var/spool/postfix/private/quota-status {
                user = postfix
                group = postfix
                mode = 0660
              }
            }
            service imap {
              executable = imap
            }
            """, file: "homing.conf")
        let service = try #require(loaded.settings.quotaStatusService)
        #expect(service.name == "quota-status")
        #expect(service.kind == .quotaStatus)
        #expect(service.listeners.inetListeners.map(\.port) == [12340])
        #expect(service.listeners.inetListeners.first?.addresses == ["127.0.0.1"])
        let unix = try #require(service.listeners.unixListeners.first)
        #expect(unix.path == "/var/spool/postfix/private/quota-status")
        #expect(unix.user == "postfix" && unix.group == "postfix" && unix.mode == 0o660)
        #expect(loaded.settings.services.count == 1)
        #expect(loaded.warnings.map(\.description) == [
            "homing.conf:5: service quota-status { client_limit } is not used by Homing (ignored)",
            "homing.conf:16: service imap { } is not used by Homing (ignored)",
        ])
    }

    @Test("quota-status without -p postfix, or with another protocol, stops start-up at the executable's line")
    func quotaStatusNeedsPostfix() {
        let missing = ConfigurationLoader.parseAll(text: Self.base + "service quota-status {\n  executable = quota-status\n}\n", file: "c")
        #expect(missing.diagnostics.errors.map(\.description) == [
            "c:4: service quota-status: quota-status needs -p postfix (executable = quota-status -p postfix)",
        ])
        let other = ConfigurationLoader.parseAll(text: Self.base + "service qs {\n  executable = quota-status -p exim\n}\n", file: "c")
        #expect(other.diagnostics.errors.map(\.description) == [
            "c:4: service qs: quota-status: unknown -p parameter 'exim' (only postfix is supported)",
        ])
    }

    @Test("a script service names the program quota warnings run, and the user it runs as")
    func scriptService() throws {
        let loaded = try ConfigurationLoader.parse(text: Self.base + """
            service quota-warning {
              executable = script /usr/local/bin/quota-warning.sh --quiet
              user = vmail
              unix_listener quota-warning {
                user = vmail
              }
            }
            plugin {
              quota_warning = storage=95%% quota-warning 95 %u
            }
            """, file: "c")
        let service = try #require(loaded.settings.service(named: "quota-warning"))
        #expect(service.kind == .script(program: "/usr/local/bin/quota-warning.sh", arguments: ["--quiet"]))
        #expect(service.user == "vmail")
        #expect(loaded.settings.plugin["quota_warning"] == "storage=95%% quota-warning 95 %u")
        #expect(loaded.warnings.isEmpty)
        let bare = ConfigurationLoader.parseAll(text: Self.base + "service w {\n  executable = script\n}\n", file: "c")
        #expect(bare.diagnostics.errors.first?.message.hasPrefix("service w: executable = script needs the program to run") == true)
    }

    @Test("a Dovecot 2.4 file's service quota-status, with listen for the address")
    func quotaStatus24() throws {
        let loaded = ConfigurationLoader.parseAll(text: """
            dovecot_config_version = 2.4.1
            dovecot_storage_version = 2.4.1
            protocols = lmtp
            service quota-status {
              executable = quota-status -p postfix
              inet_listener quota-status {
                listen = 127.0.0.1
                port = 12340
              }
            }
            service auth {
            }
            """, file: "c")
        #expect(loaded.diagnostics.errors.isEmpty, "\(loaded.diagnostics.errors)")
        let service = try #require(loaded.settings.quotaStatusService)
        #expect(service.listeners.inetListeners.first?.addresses == ["127.0.0.1"])
        #expect(service.listeners.inetListeners.first?.port == 12340)
        #expect(loaded.warnings.map(\.message) == ["service auth { } is not used by Homing (ignored)"])
    }

    @Test("homing deliver reads protocol lda { } instead of protocol lmtp { }, without requiring lmtp in protocols")
    func protocolLDA() {
        let text = """
            protocols = imap
            mail_plugins = quota
            protocol lmtp {
              mail_plugins = $mail_plugins sieve
              postmaster_address = lmtp@example.com
            }
            protocol lda {
              mail_plugins = $mail_plugins sieve
              postmaster_address = lda@example.com
              lda_mailbox_autocreate = yes
            }
            """
        let lda = ConfigurationLoader.parseAll(text: text, file: "c", protocolName: "lda")
        #expect(lda.diagnostics.errors.isEmpty, "\(lda.diagnostics.errors)")
        #expect(lda.settings.postmasterAddress == "lda@example.com")
        #expect(lda.settings.ldaMailboxAutocreate)
        #expect(lda.settings.mailPlugins == ["quota", "sieve"])
        #expect(lda.warnings.isEmpty)
        let lmtp = ConfigurationLoader.parseAll(text: text, file: "c")
        #expect(lmtp.settings.postmasterAddress == "lmtp@example.com")
        #expect(!lmtp.settings.ldaMailboxAutocreate)
        #expect(lmtp.warnings.isEmpty)
    }

    @Test("-o overrides win over the file and the protocol filter; plugin/key sets a plugin setting")
    func overrides() {
        let loaded = ConfigurationLoader.parseAll(
            text: Self.base + "protocol lda {\n  mail_location = maildir:~/Maildir\n}\nplugin {\n  quota_rule = *:storage=1G\n}\n",
            file: "c", protocolName: "lda",
            overrides: [
                ConfigOverride(key: "mail_location", value: "maildir:/var/mail/%u"),
                ConfigOverride(key: "plugin/quota_rule", value: "*:storage=1M"),
                ConfigOverride(key: "no_such_setting", value: "x"),
            ])
        #expect(loaded.settings.mailLocation == "maildir:/var/mail/%u")
        #expect(loaded.settings.plugin["quota_rule"] == "*:storage=1M")
        #expect(loaded.warnings.map(\.description) == ["(-o):0: no_such_setting is not used by Homing (ignored)"])
        #expect(ConfigOverride(parsing: "a = b") == ConfigOverride(key: "a", value: "b"))
        #expect(ConfigOverride(parsing: "=b") == nil)
        #expect(ConfigOverride(parsing: "ab") == nil)
    }
}
