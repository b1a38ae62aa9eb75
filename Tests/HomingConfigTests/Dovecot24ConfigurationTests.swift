import HomingTestSupport
import Testing

@testable import HomingConfig

/// Effective settings, compared across syntaxes: plain values as they are, templates by what
/// they expand to for a sample user (a 2.3 `%d` and a 2.4 `%{user | domain}` are the same).
struct EffectiveSettings: Equatable, CustomStringConvertible {
    var values: [String: String] = [:]

    init(_ settings: HomingSettings) {
        let syntax = settings.variableSyntax
        func expand(_ template: String, log: Bool = false) -> String {
            var values = VariableExpander.userValues(user: "Alice.Smith@Example.COM", extra: ["home": "/home/alice"])
            if log {
                values = ["m": "<id@x>", "$": "saved mail to INBOX", "msgid": "<id@x>", "message": "saved mail to INBOX",
                          "s": "hi", "subject": "hi", "f": "a@b", "from": "a@b"]
            }
            let ldap: @Sendable (String) -> String? = { "attr:\($0)" }
            return (try? VariableExpander(values: values, providers: ["ldap": ldap], syntax: syntax).expand(template))
                ?? "unexpandable: \(template)"
        }
        let templates: Set<String> = ["mail_location", "auth_username_format", "deliver_log_format", "postmaster_address"]
        for (name, definition) in SettingDefinitions.all {
            let value = definition.render(settings)
            values[name] = templates.contains(name) ? expand(value, log: name == "deliver_log_format") : value
        }
        // Options of a mail location in any order; `::` kept inside a value.
        if let location = values["mail_location"] {
            let parts = Dovecot24Printer.locationArguments(location)
            values["mail_location"] = ([parts.first ?? ""] + parts.dropFirst().sorted()).joined(separator: " ")
        }
        for (key, value) in settings.plugin {
            var value = TemplateChecks.sievePathSetting(key) ? expand(value) : value
            // 2.3's bare storage=N is in kilobytes: the same as 2.4's Nk.
            if key.hasPrefix("quota_rule") {
                value = value.split(separator: ":").map { limit -> String in
                    let bare = limit.hasPrefix("storage=") && limit.dropFirst(8).allSatisfy(\.isNumber)
                    return bare ? limit + "k" : String(limit)
                }.joined(separator: ":")
            }
            values["plugin/\(key)"] = value
        }
        for (index, userdb) in settings.userdbs.enumerated() {
            let prefix = "userdb\(index)/"
            values[prefix + "driver"] = userdb.driver
            values[prefix + "rules"] = [userdb.skip, userdb.resultSuccess, userdb.resultFailure, userdb.resultInternalfail]
                .joined(separator: " ")
            // 2.4 has no username_format: %u is what 2.4 always matches.
            let args = userdb.args.hasPrefix("username_format=%u ") ? String(userdb.args.dropFirst(19)) : userdb.args
            values[prefix + "args"] = expand(args)
            values[prefix + "default_fields"] = expand(userdb.defaultFields)
            values[prefix + "override_fields"] = expand(userdb.overrideFields)
        }
        for listener in settings.lmtpService.unixListeners {
            values["unix/\(listener.path)"] = "\(listener.user) \(listener.group) \(listener.mode)"
        }
        for listener in settings.lmtpService.inetListeners {
            values["inet/\(listener.name)"] = "\(listener.addresses) \(listener.port)"
        }
    }

    var description: String { values.keys.sorted().map { "\($0)=\(values[$0] ?? "")" }.joined(separator: "\n") }

    /// The keys whose values differ.
    func differences(_ other: EffectiveSettings) -> [String] {
        Set(values.keys).union(other.values.keys).sorted().filter { values[$0] != other.values[$0] }
            .map { "\($0): \(values[$0] ?? "-") vs \(other.values[$0] ?? "-")" }
    }
}

@Suite("Dovecot 2.4 configuration files")
struct Dovecot24ConfigurationTests {
    private func load(_ text: String) -> LoadedConfiguration {
        ConfigurationLoader.parseAll(text: text, file: "/etc/homing/homing.conf")
    }

    private func errors(_ text: String) -> [String] {
        load(text).diagnostics.errors.map(\.description)
    }

    static let header = "dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\n"

    @Test("The seed setup written in 2.4 syntax gives the same settings as the 2.3 seed")
    func seedIn24() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let old = try ConfigurationLoader.load(path: try SeedTree.write(into: directory))
        let new = load(Self.header + """
            protocols = imap lmtp
            service lmtp {
             unix_listener /var/spool/postfix/private/dovecot-lmtp {
               group = postfix
               mode = 0600
               user = postfix
             }
            }
            protocol lmtp {
              postmaster_address = postmaster@domainname
              mail_plugins {
                quota = yes
                sieve = yes
              }
            }
            """)
        #expect(new.diagnostics.errors.isEmpty, "\(new.diagnostics.report)")
        #expect(new.syntax == .dovecot24)
        var expected = EffectiveSettings(old.settings)
        // 2.4's own defaults.
        expected.values["auth_username_format"] = EffectiveSettings(old.settings).values["auth_username_format"]
        expected.values["lmtp_user_concurrency_limit"] = "10"
        let got = EffectiveSettings(new.settings)
        #expect(got.differences(expected).isEmpty, "\(got.differences(expected))")
    }

    @Test("mail_driver, mail_path and the layout settings become one mail_location with 2.4 variables")
    func mailLocation() {
        let loaded = load(Self.header + """
            protocols = lmtp
            mail_driver = maildir
            mail_path = /var/vmail/%{user | domain}/%{user | username}
            mail_inbox_path = /var/vmail/inbox:%{user}
            mailbox_list_layout = fs
            mailbox_list_utf8 = yes
            """)
        #expect(loaded.diagnostics.errors.isEmpty, "\(loaded.diagnostics.report)")
        #expect(loaded.settings.mailLocation
            == "maildir:/var/vmail/%{user | domain}/%{user | username}:INBOX=/var/vmail/inbox::%{user}:LAYOUT=fs:UTF-8")
        #expect(load(Self.header + "protocols = lmtp\nmail_driver = maildir\n").settings.mailLocation == "maildir:%{home}/Maildir")
        #expect(loaded.location(ofSetting: "mail_path") == ConfigLocation(file: "/etc/homing/homing.conf", line: 5))
    }

    @Test("Quota and Sieve settings of 2.4 become the plugin entries the plugins read")
    func quotaAndSieve() {
        let loaded = load(Self.header + """
            protocols = lmtp
            mail_plugins = quota sieve
            quota_storage_size = 2G
            quota "User quota" {
              driver = maildir
              message_count = 1000
              storage_grace = 5 M
            }
            quota_mail_size = 20M
            sieve_script personal {
              driver = file
              path = ~/sieve
              active_path = ~/.dovecot.sieve
            }
            sieve_script spam {
              type = before
              path = /etc/sieve/spam.sieve
            }
            sieve_script more {
              type = before
              path = /etc/sieve/more.sieve
            }
            sieve_script global {
              type = global
              path = /etc/sieve/global
            }
            sieve_user_log_path = ~/sieve.log
            sieve_max_redirects = 2
            """)
        #expect(loaded.diagnostics.errors.isEmpty, "\(loaded.diagnostics.report)")
        let plugin = loaded.settings.plugin
        #expect(plugin["quota"] == "maildir:User quota")
        #expect(plugin["quota_rule"] == "*:storage=2G:messages=1000")
        #expect(plugin["quota_grace"] == "5M")
        #expect(plugin["quota_max_mail_size"] == "20M")
        #expect(plugin["sieve"] == "file:~/sieve;active=~/.dovecot.sieve")
        #expect(plugin["sieve_before"] == "/etc/sieve/spam.sieve")
        #expect(plugin["sieve_before2"] == "/etc/sieve/more.sieve")
        #expect(plugin["sieve_global"] == "/etc/sieve/global")
        #expect(plugin["sieve_user_log"] == "~/sieve.log")
        #expect(plugin["sieve_max_redirects"] == "2")
        #expect(loaded.location(ofPluginSetting: "quota_rule")?.line == 8)
    }

    @Test("userdb blocks: the name is the driver, passwd_file_path, static fields, fields with :default")
    func userdbs() {
        let loaded = load(Self.header + """
            protocols = lmtp
            userdb passwd-file {
              passwd_file_path = /etc/homing/%{user | domain}/users
              skip = found
              fields {
                home:default = /var/vmail/%{user}
                quota_rule = *:storage=1G
              }
            }
            userdb static {
              allow_all_users = yes
              fields {
                uid = 5000
                home = /var/vmail/%{user | domain}/%{user | username}
              }
            }
            userdb db {
              driver = sql
              query = SELECT home FROM users WHERE user = '%{user}'
            }
            sql_driver = pgsql
            pgsql localhost {
              parameters {
                dbname = mail
              }
            }
            """)
        #expect(loaded.diagnostics.errors.isEmpty, "\(loaded.diagnostics.report)")
        let userdbs = loaded.settings.userdbs
        #expect(userdbs.map(\.driver) == ["passwd-file", "static", "sql"])
        #expect(userdbs.allSatisfy { $0.variableSyntax == .dovecot24 })
        #expect(userdbs[0].args == "/etc/homing/%{user | domain}/users")
        #expect(userdbs[0].skip == "found")
        #expect(userdbs[0].defaultFields == "home=/var/vmail/%{user}")
        #expect(userdbs[0].overrideFields == "quota_rule=*:storage=1G")
        #expect(userdbs[1].args == "uid=5000 home=/var/vmail/%{user | domain}/%{user | username} allow_all_users=yes")
        #expect(userdbs[2].driverSettings.map(\.key) == ["sql_driver", "pgsql/localhost", "pgsql/localhost/parameters/dbname", "query"])
    }

    @Test("A file with several errors reports every one of them with its line")
    func everyError() {
        let found = errors(Self.header + """
            protocols = lmtp
            lmtp_save_to_detail_mailbox = perhaps
            mail_location = maildir:~/Maildir
            auth_username_format = %Lu
            plugin {
              sieve = ~/.dovecot.sieve
            }
            userdb {
              driver = static
            }
            userdb users {
              driver = passwd-file
              args = /etc/users
            }
            mail_path = /var/vmail/%{user | nosuchfilter}
            quota_storage_size = 1G
            this line is wrong
            lmtp_add_received_header = maybe
            """)
        let lines = found.compactMap { $0.split(separator: ":").dropFirst().first.flatMap { Int($0) } }
        #expect(lines.contains(4), "\(found)")   // bad boolean
        #expect(lines.contains(5))                // mail_location
        #expect(lines.contains(6))                // %Lu
        #expect(lines.contains(7))                // plugin { }
        #expect(lines.contains(10))               // unnamed userdb
        #expect(lines.contains(15))               // args
        #expect(lines.contains(17))               // unknown filter
        #expect(lines.contains(19))               // syntax error
        #expect(lines.contains(20))               // second bad boolean
        #expect(found.contains { $0.contains("%Lu") && $0.contains("%{user | lower}") })
        #expect(found.contains { $0.contains("mail_location") && $0.contains("mail_driver = maildir") })
        #expect(found.contains { $0.contains("args") && $0.contains("passwd_file_path") })
    }

    @Test("2.3 one-letter and long variables in a 2.4 file are errors that name their 2.4 form")
    func oldVariables() {
        let found = errors(Self.header + """
            protocols = lmtp
            mail_driver = maildir
            mail_path = /var/vmail/%d/%n
            postmaster_address = postmaster@%{domain}
            """)
        #expect(found.contains { $0.hasSuffix("homing.conf:5: mail_path: %d at position 11 is Dovecot 2.3 variable syntax, which a 2.4 file cannot use: use %{user | domain} instead (write %{literal('%d')} for the text itself)") }, "\(found)")
        #expect(found.contains { $0.contains("%n") && $0.contains("%{user | username}") })
        #expect(found.contains { $0.contains("homing.conf:6") && $0.contains("%{user | domain}") })
    }

    @Test("2.4 names in a 2.3 file are errors that name the 2.3 form; every error is kept")
    func newNamesIn23() {
        let loaded = load("""
            protocols = lmtp
            postmaster_address = postmaster@example.com
            mail_driver = maildir
            quota_storage_size = 1G
            mail_location = maildir:~/%z
            dovecot_config_version = 2.4.1
            """)
        let found = loaded.diagnostics.errors.map(\.description)
        #expect(found.count == 4, "\(found)")
        #expect(found[0].contains("homing.conf:3: mail_driver is Dovecot 2.4 syntax") && found[0].contains("mail_location = maildir:PATH"))
        #expect(found[1].contains("plugin { quota_rule = *:storage=SIZE }"))
        #expect(found[2].contains("dovecot_config_version must be the first setting"))
        #expect(found[3].contains("homing.conf:5: mail_location: unknown variable %z"))
        #expect(loaded.location(ofSetting: "postmaster_address")?.line == 2)
    }

    @Test("2.4 defaults: no protocol, no postmaster_address needed, lmtp_user_concurrency_limit 10 from 2.4.1")
    func defaults() {
        let missingProtocols = errors(Self.header)
        #expect(missingProtocols.count == 1)
        #expect(missingProtocols.first?.contains("Dovecot 2.4 enables no protocol by default") == true)
        let loaded = load(Self.header + "protocols = lmtp\n")
        #expect(loaded.diagnostics.errors.isEmpty)
        #expect(loaded.settings.lmtpUserConcurrencyLimit == 10)
        #expect(loaded.settings.authUsernameFormat == "%{user | lower}")
        #expect(load("dovecot_config_version = 2.4.0\ndovecot_storage_version = 2.4.0\nprotocols = lmtp\n")
            .settings.lmtpUserConcurrencyLimit == 0)
        #expect(errors("dovecot_config_version = 2.3.21\nprotocols = lmtp\n").contains {
            $0.contains("Homing reads Dovecot 2.4 files") })
        #expect(errors("dovecot_config_version = 2.4.1\nprotocols = lmtp\n").contains {
            $0.contains("dovecot_storage_version is not set") })
    }

    @Test("$SET: and $ENV: references; a 2.3 $name is an error naming $SET:name")
    func references() {
        let loaded = load(Self.header + "protocols = lmtp\nmail_plugins = quota\nmail_plugins = $SET:mail_plugins sieve\n")
        #expect(loaded.settings.mailPlugins == ["quota", "sieve"])
        #expect(errors(Self.header + "protocols = lmtp\nmail_plugins = $mail_plugins sieve\n").first?
            .contains("write $SET:mail_plugins") == true)
    }

    // MARK: - --print-2.4

    /// Prints `old` in 2.4 syntax, reads it back and compares the effective settings.
    private func roundTrip(_ old: LoadedConfiguration, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        #expect(old.diagnostics.errors.isEmpty, "\(old.diagnostics.report)", sourceLocation: sourceLocation)
        let text = Dovecot24Printer.text(for: old)
        let new = load(text)
        #expect(new.syntax == .dovecot24, sourceLocation: sourceLocation)
        #expect(new.diagnostics.errors.isEmpty, "\(new.diagnostics.report)\n\(text)", sourceLocation: sourceLocation)
        var expected = EffectiveSettings(old.settings)
        var got = EffectiveSettings(new.settings)
        // Documented: 2.3's default quota_grace (10%) has no 2.4 form; 2.4's default is 10M.
        if old.settings.plugin["quota"] != nil, old.settings.plugin["quota_grace"] == nil {
            expected.values["plugin/quota_grace"] = nil
            got.values["plugin/quota_grace"] = nil
        }
        #expect(got.differences(expected).isEmpty, "\(got.differences(expected))\n\(text)", sourceLocation: sourceLocation)
        return text
    }

    @Test("--print-2.4 of the seed reads back to the same effective settings")
    func printSeed() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let text = roundTrip(try ConfigurationLoader.load(path: try SeedTree.write(into: directory)))
        #expect(text.hasPrefix("dovecot_config_version = 2.4.1\n"))
        #expect(text.contains("unix_listener /var/spool/postfix/private/dovecot-lmtp {"))
    }

    @Test("--print-2.4 of the integration tests' passwd-file setup (listeners, mail, quota, Sieve) reads back the same")
    func printIntegrationSetup() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        try directory.write("users", "alice@example.com::1000:1000::/home/alice::\n")
        let text = roundTrip(load("""
            protocols = lmtp
            base_dir = /run/homing-test
            postmaster_address = postmaster@example.com
            hostname = mx.example.com
            mail_location = maildir:~/Maildir:LAYOUT=fs:INBOX=~/Maildir/INBOX
            mail_temp_dir = /tmp
            first_valid_uid = 100
            recipient_delimiter = +
            auth_username_format = %Ln@%d
            mail_plugins = $mail_plugins quota sieve
            lmtp_save_to_detail_mailbox = yes
            service lmtp {
              unix_listener lmtp {
                mode = 0600
              }
              inet_listener lmtp {
                address = 127.0.0.1
                port = 2424
              }
            }
            userdb {
              driver = passwd-file
              args = username_format=%u \(directory.path)/%d/users
              default_fields = home=/var/vmail/%d/%n
            }
            userdb {
              driver = static
              args = uid=1000 gid=1000 home=/var/vmail/%d/%1n/%n allow_all_users=yes
              result_success = continue-ok
            }
            plugin {
              quota = maildir:User quota
              quota_rule = *:storage=1024
              quota_grace = 5M
              sieve = file:~/sieve;active=~/.dovecot.sieve
              sieve_before = /etc/sieve/before.sieve
              sieve_default = /etc/sieve/default.sieve
              sieve_user_log = ~/.sieve-log
              sieve_max_actions = 10
            }
            protocol lmtp {
              deliver_log_format = msgid=%m: %$ (%s)
            }
            """))
        #expect(text.contains("passwd_file_path = \(directory.path)/%{user | domain}/users"))
        #expect(text.contains("home = /var/vmail/%{user | domain}/%{user | username | truncate(1)}/%{user | username}"))
        #expect(text.contains("storage_size = 1024k"))
    }

    @Test("A 2.4 file printed by homing config reads back to the same effective settings")
    func print24Itself() {
        let source = Self.header + """
            protocols = lmtp
            mail_driver = maildir
            mail_path = /var/vmail/%{user | domain}/%{userdb:box | default('x')}
            mailbox_list_layout = fs
            quota "User quota" {
              driver = maildir
              storage_size = 2G
            }
            sieve_script personal {
              path = ~/sieve
              active_path = ~/.dovecot.sieve
            }
            userdb static {
              allow_all_users = yes
              fields {
                uid = 5000
                home = /var/vmail/%{user | domain}/%{user | username | lower}
              }
            }
            sql_driver = pgsql
            pgsql db {
              parameters {
                dbname = mail
              }
            }
            userdb sql {
              query = SELECT home FROM users WHERE user = '%{user}'
            }
            """
        let old = load(source)
        #expect(old.diagnostics.errors.isEmpty, "\(old.diagnostics.report)")
        let text = Dovecot24Printer.text(for: old)
        let new = load(text)
        #expect(new.diagnostics.errors.isEmpty, "\(new.diagnostics.report)\n\(text)")
        let differences = EffectiveSettings(new.settings).differences(EffectiveSettings(old.settings))
        #expect(differences.isEmpty, "\(differences)\n\(text)")
        #expect(new.settings.userdbs.last?.driverSettings.map(\.key).sorted() == old.settings.userdbs.last?.driverSettings.map(\.key).sorted())
    }

    @Test("--print-2.4 lists what it cannot carry over as comments")
    func printUnconvertible() {
        let text = Dovecot24Printer.text(for: load("""
            protocols = lmtp
            postmaster_address = postmaster@example.com
            mail_location = maildir:/var/vmail/%Hu
            plugin {
              quota = maildir:User quota
              quota_rule2 = Trash:storage=+100M
              zlib_save = gz
            }
            """))
        #expect(text.contains("# mail_path = /var/vmail/%Hu"), "\(text)")
        #expect(text.contains("%H modifier has no 2.4 equivalent"))
        #expect(text.contains("# quota_rule2 = Trash:storage=+100M"))
        #expect(text.contains("# plugin { zlib_save = gz }"))
        #expect(text.contains("# Not carried over"))
    }

    @Test("2.3 templates are rewritten with the upgrade guide's replacements")
    func conversion() throws {
        func convert(_ text: String) throws -> String { try Dovecot23Syntax.convert(text, context: .mail) }
        #expect(try convert("/home/vmail/%d/%u") == "/home/vmail/%{user | domain}/%{user}")
        #expect(try convert("%Ln") == "%{user | username | lower}")
        #expect(try convert("%Lu") == "%{user | lower}")
        #expect(try convert("%2.256Nu") == "%{user | md5 | substr(0, 8) % 256 | hex(2)}")
        #expect(try convert("%256Nu") == "%{user | md5 | substr(0, 8) % 256 | hex}")
        #expect(try convert("%{orig_user}") == "%{original_user}")
        #expect(try convert("%{lip}:%{rip}") == "%{local_ip}:%{remote_ip}")
        #expect(try convert("100%% %{ldap:x:none}") == "100% %{ldap:x | default('none')}")
        #expect(try convert("literal %%{x}") == "literal %%{x}")
        // Same values through both engines.
        let values = VariableExpander.userValues(user: "Alice@Example.com", extra: ["home": "/h"])
        for template in ["%u/%Ld/%Ln", "%-3.2n", "%0.-2u", "%2n", "%1.2n", "%h/%d", "%Uu", "%Ru", "%D{domain}"] {
            let old = try VariableExpander(values: values).expand(template)
            let converted = try convert(template)
            let new = try VariableExpander(values: values, syntax: .dovecot24).expand(converted)
            #expect(old == new, "\(template) -> \(converted)")
        }
    }
}

@Suite("Fields a Dovecot 2.4 userdb returns")
struct MailStorage24FieldTests {
    @Test("mail_driver and mail_path become mail; quota_storage_size becomes quota_rule; empty values are dropped")
    func normalised() {
        let fields = MailStorage24.normalisedFields(
            [("uid", "1000"), ("mail_path", "/var/vmail/%{user}"), ("quota_storage_size", "1G"),
             ("quota_message_count", "100"), ("home", ""), ("sieve_user_log_path", "~/log"), ("extra", "x")],
            defaults: ["mail_driver": "maildir", "mailbox_list_layout": "fs"])
        #expect(fields.map(\.name) == ["uid", "sieve_user_log", "extra", "mail", "quota_rule"])
        #expect(fields.first { $0.name == "mail" }?.value == "maildir:/var/vmail/%{user}:LAYOUT=fs")
        #expect(fields.first { $0.name == "quota_rule" }?.value == "*:storage=1G:messages=100")
        #expect(MailStorage24.normalisedFields([("quota_storage_size", "1048576")], defaults: [:]).first?.value
            == "*:bytes=1048576")
        #expect(MailStorage24.normalisedFields([("quota_storage_size", "")], defaults: [:]).isEmpty)
    }
}
