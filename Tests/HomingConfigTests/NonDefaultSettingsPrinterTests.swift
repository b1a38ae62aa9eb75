import Testing
@testable import HomingConfig
import HomingTestSupport

@Suite("homing config output")
struct NonDefaultSettingsPrinterTests {
    @Test("the seed prints like doveconf -n")
    func seed() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let path = try SeedTree.write(into: directory)
        let text = try ConfigurationLoader.load(path: path).nonDefaultSettingsText()
        #expect(text == """
            # Homing configuration: \(path)
            protocols = imap lmtp
            service lmtp {
              unix_listener /var/spool/postfix/private/dovecot-lmtp {
                group = postfix
                mode = 0600
                user = postfix
              }
            }
            protocol lmtp {
              mail_plugins = quota sieve
              postmaster_address = postmaster@domainname
            }

            """)
    }

    @Test("settings, plugin, userdbs and listeners sort by name; userdbs keep their order; defaults are left out")
    func full() throws {
        let loaded = try ConfigurationLoader.parse(text: """
            protocols = lmtp
            postmaster_address = pm@example.com
            mail_fsync = optimized
            recipient_delimiter =
            lmtp_save_to_detail_mailbox = yes
            mail_location = "maildir:~/Mail # box"
            ssl = no
            userdb {
              driver = static
              args = uid=vmail home=/var/vmail/%d/%n
              skip = found
            }
            userdb files {
              driver = passwd-file
              args = /etc/users
            }
            plugin {
              sieve = ~/.dovecot.sieve
              quota = maildir
            }
            service lmtp {
              inet_listener lmtp {
                port = 24
              }
              inet_listener local {
                address = 127.0.0.1
                port = 2424
              }
            }
            protocol lmtp {
              mail_plugins = sieve
              plugin {
                quota = count
              }
            }
            """, file: "/etc/dovecot/dovecot.conf")
        #expect(loaded.nonDefaultSettingsText() == """
            # Homing configuration: /etc/dovecot/dovecot.conf
            lmtp_save_to_detail_mailbox = yes
            mail_location = "maildir:~/Mail # box"
            plugin {
              quota = maildir
              sieve = ~/.dovecot.sieve
            }
            postmaster_address = pm@example.com
            protocols = lmtp
            recipient_delimiter = ""
            service lmtp {
              inet_listener lmtp {
                port = 24
              }
              inet_listener local {
                address = 127.0.0.1
                port = 2424
              }
            }
            userdb {
              args = uid=vmail home=/var/vmail/%d/%n
              driver = static
              skip = found
            }
            userdb files {
              args = /etc/users
              driver = passwd-file
            }
            protocol lmtp {
              mail_plugins = sieve
              plugin {
                quota = count
              }
            }

            """)
    }

    @Test("the printed configuration reads back to the same settings")
    func roundTrip() throws {
        let original = try ConfigurationLoader.parse(text: """
            postmaster_address = pm@example.com
            deliver_log_format = "$x # %m"
            listen = 127.0.0.1, ::1
            userdb {
              driver = static
            }
            service lmtp {
              unix_listener "with space" {
                mode = 0640
              }
            }
            """, file: "/x/dovecot.conf")
        let again = try ConfigurationLoader.parse(text: original.nonDefaultSettingsText(), file: "/x/dovecot.conf")
        #expect(again.nonDefaultSettingsText() == original.nonDefaultSettingsText())
        #expect(again.settings.deliverLogFormat == "$x # %m")
        #expect(again.settings.listen == ["127.0.0.1", "::1"])
        #expect(again.settings.lmtpService.unixListeners.map(\.path) == ["lmtp", "with space"])
        #expect(again.settings.lmtpService.unixListeners.map(\.mode) == [0o666, 0o640])
    }

    @Test("a quote or # followed by a combining mark is escaped in the printed configuration (fuzz-config crash)")
    func combiningMarksAfterQuotes() throws {
        // U+0616 combines with the character before it: `"` + U+0616 is one Character, but
        // the lexer still reads a quote byte there (and `#` + U+0301 still starts a comment).
        let name = "/var/q\"\u{0616}x/lmtp#1"
        let format = "\"\u{0616}quoted\"\u{0616} #\u{0301} %m"
        let original = try ConfigurationLoader.parse(text: """
            postmaster_address = pm@example.com
            deliver_log_format = "\\"\u{0616}quoted\\"\u{0616} #\u{0301} %m"
            service lmtp {
              unix_listener "/var/q\\"\u{0616}x/lmtp#1" {
                mode = 0600
              }
              unix_listener "=x" {
              }
            }
            """, file: "/x/dovecot.conf")
        #expect(original.settings.deliverLogFormat == format)
        #expect(original.settings.lmtpService.unixListeners.map(\.path) == ["lmtp", name, "=x"])
        let printed = original.nonDefaultSettingsText()
        let again = try ConfigurationLoader.parse(text: printed, file: "/x/dovecot.conf")
        #expect(again.settings.deliverLogFormat == format)
        #expect(again.settings.lmtpService.unixListeners.map(\.path) == ["lmtp", name, "=x"])
        #expect(again.nonDefaultSettingsText() == printed)
    }
}
