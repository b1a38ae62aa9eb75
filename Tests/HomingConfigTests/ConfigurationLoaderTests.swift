import Testing
@testable import HomingConfig

/// The smallest configuration Homing accepts.
let minimalConfiguration = "postmaster_address = postmaster@example.com\n"

@Suite("Loading settings")
struct ConfigurationLoaderTests {
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

    @Test("defaults when nothing else is set")
    func defaults() throws {
        let settings = try load("").settings
        var expected = HomingSettings()
        expected.postmasterAddress = "postmaster@example.com"
        #expect(settings == expected)
        #expect(settings.lmtpService.unixListeners == [UnixListenerSettings(path: "lmtp")])
    }

    @Test("every implemented setting is mapped")
    func mapping() throws {
        let settings = try load("""
            protocols = lmtp imap
            base_dir = /run/x
            hostname = mx.example.com
            mail_location = maildir:~/Maildir
            mail_uid = vmail
            mail_gid = 5000
            first_valid_uid = 1000
            last_valid_uid = 2000
            first_valid_gid = 100
            last_valid_gid = 200
            mail_plugins = quota, sieve  acl
            recipient_delimiter = +-
            lmtp_save_to_detail_mailbox = yes
            lmtp_add_received_header = NO
            lmtp_hdr_delivery_address = original
            lmtp_rcpt_check_quota = Yes
            lmtp_user_concurrency_limit = 10
            quota_full_tempfail = yes
            auth_username_format = %Ln
            mail_fsync = always
            lda_mailbox_autocreate = yes
            lda_mailbox_autosubscribe = yes
            mail_temp_dir = /var/tmp
            sendmail_path = /usr/lib/sendmail
            submission_host = smtp.example.com:587
            deliver_log_format = %$ msgid=%m
            log_path = /var/log/homing.log
            mail_debug = yes
            listen = 127.0.0.1, ::1
            """).settings
        #expect(settings.protocols == ["lmtp", "imap"])
        #expect(settings.baseDir == "/run/x")
        #expect(settings.hostname == "mx.example.com")
        #expect(settings.mailLocation == "maildir:~/Maildir")
        #expect(settings.mailUID == "vmail")
        #expect(settings.mailGID == "5000")
        #expect([settings.firstValidUID, settings.lastValidUID, settings.firstValidGID, settings.lastValidGID] == [1000, 2000, 100, 200])
        #expect(settings.mailPlugins == ["quota", "sieve", "acl"])
        #expect(settings.recipientDelimiter == "+-")
        #expect(settings.lmtpSaveToDetailMailbox)
        #expect(!settings.lmtpAddReceivedHeader)
        #expect(settings.lmtpHdrDeliveryAddress == .original)
        #expect(settings.lmtpRcptCheckQuota)
        #expect(settings.lmtpUserConcurrencyLimit == 10)
        #expect(settings.quotaFullTempfail)
        #expect(settings.authUsernameFormat == "%Ln")
        #expect(settings.mailFsync == .always)
        #expect(settings.ldaMailboxAutocreate && settings.ldaMailboxAutosubscribe)
        #expect(settings.mailTempDir == "/var/tmp")
        #expect(settings.sendmailPath == "/usr/lib/sendmail")
        #expect(settings.submissionHost == "smtp.example.com:587")
        #expect(settings.deliverLogFormat == "%$ msgid=%m")
        #expect(settings.logPath == "/var/log/homing.log")
        #expect(settings.mailDebug)
        #expect(settings.listen == ["127.0.0.1", "::1"])
    }

    @Test("an empty recipient_delimiter disables details; empty hostname means the system's")
    func emptyValues() throws {
        let settings = try load("recipient_delimiter =\nhostname = \"\"\n").settings
        #expect(settings.recipientDelimiter == "")
        #expect(settings.hostname == nil)
    }

    @Test("protocol lmtp { } overrides global values only in the LMTP view")
    func protocolFilter() throws {
        let loaded = try load("""
            mail_plugins = quota
            protocol lmtp {
              mail_plugins = $mail_plugins sieve
              lmtp_save_to_detail_mailbox = yes
            }
            protocol imap {
              mail_plugins = $mail_plugins imap_quota
            }
            protocol !imap {
              recipient_delimiter = -
            }
            """)
        #expect(loaded.settings.mailPlugins == ["quota", "sieve"])
        #expect(loaded.settings.lmtpSaveToDetailMailbox)
        #expect(loaded.settings.recipientDelimiter == "-")
        #expect(loaded.globalSettings.mailPlugins == ["quota"])
        #expect(loaded.globalSettings.lmtpSaveToDetailMailbox == false)
    }

    @Test("userdb blocks in order, with names and all keys")
    func userdbs() throws {
        let settings = try load("""
            userdb {
              driver = passwd-file
              args = username_format=%n /etc/dovecot/users
              default_fields = uid=vmail gid=vmail home=/var/vmail/%d/%n
              override_fields = mail=maildir:~/Maildir
              skip = notfound
              result_success = continue-ok
              result_failure = return-fail
              result_internalfail = return
            }
            userdb static {
              driver = static
              args = uid=vmail gid=vmail
            }
            """).settings
        #expect(settings.userdbs.count == 2)
        var first = UserdbSettings(driver: "passwd-file", location: ConfigLocation(file: "/etc/dovecot/dovecot.conf", line: 2))
        first.args = "username_format=%n /etc/dovecot/users"
        first.defaultFields = "uid=vmail gid=vmail home=/var/vmail/%d/%n"
        first.overrideFields = "mail=maildir:~/Maildir"
        first.skip = "notfound"
        first.resultSuccess = "continue-ok"
        first.resultFailure = "return-fail"
        first.resultInternalfail = "return"
        #expect(settings.userdbs[0] == first)
        #expect(settings.userdbs[1].name == "static")
        #expect(settings.userdbs[1].driver == "static")
        #expect(settings.userdbs[1].args == "uid=vmail gid=vmail")
        #expect(settings.userdbs[1].skip == "never")
    }

    @Test("plugin { } keeps every key as a string; protocol lmtp's plugin { } overrides")
    func plugin() throws {
        let settings = try load("""
            plugin {
              quota = maildir:User quota
              quota_rule = *:storage=1G
              sieve = file:~/sieve;active=~/.dovecot.sieve
            }
            plugin/quota_grace = 10%%
            protocol lmtp {
              plugin {
                sieve = file:/srv/sieve
              }
            }
            """).settings
        #expect(settings.plugin == [
            "quota": "maildir:User quota", "quota_rule": "*:storage=1G", "sieve": "file:/srv/sieve", "quota_grace": "10%%",
        ])
    }

    @Test("service lmtp listeners: the built-in lmtp listener stays, new ones are added")
    func listeners() throws {
        let settings = try load("""
            listen = 192.0.2.1
            service lmtp {
              unix_listener /var/spool/postfix/private/dovecot-lmtp {
                user = postfix
                group = postfix
                mode = 0660
              }
              unix_listener relative {
              }
              inet_listener lmtp {
                port = 24
              }
              inet_listener other {
                address = 127.0.0.1, ::1
                port = 2424
              }
            }
            """).settings
        var postfix = UnixListenerSettings(path: "/var/spool/postfix/private/dovecot-lmtp",
                                           location: ConfigLocation(file: "/etc/dovecot/dovecot.conf", line: 4))
        postfix.user = "postfix"
        postfix.group = "postfix"
        postfix.mode = 0o660
        var relative = UnixListenerSettings(path: "relative", location: ConfigLocation(file: "/etc/dovecot/dovecot.conf", line: 9))
        relative.mode = 0o600
        #expect(settings.lmtpService.unixListeners == [UnixListenerSettings(path: "lmtp"), postfix, relative])
        #expect(settings.lmtpService.inetListeners.map(\.name) == ["lmtp", "other"])
        #expect(settings.lmtpService.inetListeners.map(\.addresses) == [["192.0.2.1"], ["127.0.0.1", "::1"]])
        #expect(settings.lmtpService.inetListeners.map(\.port) == [24, 2424])
    }

    @Test("redefining unix_listener lmtp changes the built-in listener")
    func redefineDefaultListener() throws {
        let settings = try load("service lmtp {\n  unix_listener lmtp {\n    mode = 0600\n  }\n}\n").settings
        #expect(settings.lmtpService.unixListeners.count == 1)
        #expect(settings.lmtpService.unixListeners[0].path == "lmtp")
        #expect(settings.lmtpService.unixListeners[0].mode == 0o600)
    }

    @Test("bad values of implemented settings are errors with file and line")
    func badValues() {
        #expect(error("lmtp_save_to_detail_mailbox = true\n")
            == "/etc/dovecot/dovecot.conf:2: lmtp_save_to_detail_mailbox: invalid boolean value 'true' (use yes or no)")
        #expect(error("first_valid_uid = -1\n") == "/etc/dovecot/dovecot.conf:2: first_valid_uid: invalid number '-1'")
        #expect(error("last_valid_gid = 99999999999\n")
            == "/etc/dovecot/dovecot.conf:2: last_valid_gid: number '99999999999' is too large (at most 4294967295)")
        #expect(error("mail_fsync = sometimes\n")
            == "/etc/dovecot/dovecot.conf:2: mail_fsync: invalid value 'sometimes' (use optimized, always or never)")
        #expect(error("lmtp_hdr_delivery_address = both\n")
            == "/etc/dovecot/dovecot.conf:2: lmtp_hdr_delivery_address: invalid value 'both' (use none, final or original)")
        #expect(error("lmtp_user_concurrency_limit = many\n")
            == "/etc/dovecot/dovecot.conf:2: lmtp_user_concurrency_limit: invalid number 'many'")
        #expect(error("service lmtp {\n unix_listener x {\n  mode = 0999\n }\n}\n")
            == "/etc/dovecot/dovecot.conf:4: mode: invalid octal number '0999'")
        #expect(error("service lmtp {\n inet_listener x {\n  port = 70000\n }\n}\n")
            == "/etc/dovecot/dovecot.conf:4: port: 70000 is out of range (0-65535)")
        #expect(error("userdb {\n driver = static\n skip = always\n}\n")
            == "/etc/dovecot/dovecot.conf:4: skip: invalid value 'always' (use never, found or notfound)")
        #expect(error("userdb {\n driver = static\n result_success = ok\n}\n")
            == "/etc/dovecot/dovecot.conf:4: result_success: invalid value 'ok' (use return-ok, return-fail, return, continue, continue-ok or continue-fail)")
        #expect(error("protocol lmtp {\n  mail_debug = 1\n}\n")
            == "/etc/dovecot/dovecot.conf:3: mail_debug: invalid boolean value '1' (use yes or no)")
    }

    @Test("section structure errors")
    func sectionErrors() {
        #expect(error("}\n") == "/etc/dovecot/dovecot.conf:2: unexpected '}' (no section is open)")
        #expect(error("service lmtp {\n  unix_listener x {\n  }\n") == "/etc/dovecot/dovecot.conf:2: section 'service lmtp' is not closed (missing '}')")
        #expect(error("protocol {\n}\n") == "/etc/dovecot/dovecot.conf:2: protocol { } needs a protocol name (protocol lmtp {)")
        #expect(error("protocol lmtp {\n protocol lmtp {\n }\n}\n")
            == "/etc/dovecot/dovecot.conf:3: protocol lmtp { } can't be inside another protocol { } section")
        #expect(error("userdb {\n  args = x\n}\n") == "/etc/dovecot/dovecot.conf:2: userdb { } has no driver: add one, e.g. driver = passwd-file")
        #expect(error("userdb sqlusers {\n}\n") == "/etc/dovecot/dovecot.conf:2: userdb sqlusers { } has no driver: add one, e.g. driver = passwd-file")
    }
}
