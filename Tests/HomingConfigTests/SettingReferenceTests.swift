import Testing
@testable import HomingConfig

@Suite("$setting references")
struct SettingReferenceTests {
    private func load(_ text: String) throws -> LoadedConfiguration {
        try ConfigurationLoader.parse(text: minimalConfiguration + text, file: "d.conf")
    }

    @Test("$name is the value set so far, or the default")
    func valueSoFar() throws {
        #expect(try load("mail_plugins = $mail_plugins quota\n").settings.mailPlugins == ["quota"])
        #expect(try load("mail_plugins = a\nmail_plugins = $mail_plugins b\nmail_plugins = $mail_plugins c\n").settings.mailPlugins == ["a", "b", "c"])
        #expect(try load("protocols = $protocols sieve\n").settings.protocols == ["imap", "pop3", "lmtp", "sieve"])
    }

    @Test("inside protocol lmtp, $name is the global value until set there")
    func filterReference() throws {
        let loaded = try load("""
            mail_plugins = quota
            protocol lmtp {
              mail_plugins = $mail_plugins sieve
              mail_plugins = $mail_plugins notify
            }
            mail_plugins = $mail_plugins acl
            """)
        #expect(loaded.settings.mailPlugins == ["quota", "sieve", "notify"])
        #expect(loaded.globalSettings.mailPlugins == ["quota", "acl"])
    }

    @Test("references to settings Homing ignores use their value")
    func ignoredSetting() throws {
        #expect(try load("ssl_cipher_list = HIGH\nplugin {\n  x = $ssl_cipher_list:!aNULL\n  y = $ssl_cipher_list\n}\n").settings.plugin
            == ["x": "$ssl_cipher_list:!aNULL", "y": "HIGH"])
    }

    @Test("a $ that is not at the start of a word is literal, and quoted values are not expanded")
    func literal() throws {
        let settings = try load("deliver_log_format = msgid=%m: %$\nplugin {\n  p = \"$mail_plugins\"\n}\n").settings
        #expect(settings.deliverLogFormat == "msgid=%m: %$")
        #expect(settings.plugin["p"] == "$mail_plugins")
    }

    @Test("a reference to an unknown setting is an error")
    func unknown() {
        #expect(throws: ConfigError("mail_plugins: $nosuch refers to an unknown or unset setting (quote the value to use a literal $)",
                                    at: ConfigLocation(file: "d.conf", line: 2))) {
            try load("mail_plugins = $nosuch quota\n")
        }
    }
}
