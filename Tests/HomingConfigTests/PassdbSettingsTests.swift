import Testing
@testable import HomingConfig

@Suite("passdb { } blocks")
struct PassdbSettingsTests {
    private func error(_ text: String) -> ConfigError? {
        do throws(ConfigError) {
            _ = try ConfigurationLoader.parse(text: text, file: "/etc/dovecot/dovecot.conf")
            return nil
        } catch {
            return error
        }
    }

    @Test("passdb blocks are read like userdb blocks, in order, with deny and master, and printed back")
    func parsed() throws {
        let loaded = try ConfigurationLoader.parse(text: """
            postmaster_address = pm@example.com
            passdb {
              driver = passwd-file
              args = /etc/dovecot/deny.%d
              deny = yes
            }
            passdb proxied {
              driver = sql
              args = /etc/dovecot/dovecot-sql.conf.ext
              skip = authenticated
              result_success = continue-ok
              result_failure = return-fail
              result_internalfail = return
              default_fields = port=24
              override_fields = proxy_timeout=30
            }
            passdb {
              driver = static
              args = password=x
              master = yes
            }
            protocol lmtp {
              passdb {
                driver = ldap
                args = /etc/dovecot/dovecot-ldap.conf.ext
                mechanisms = plain
              }
            }
            userdb {
              driver = passwd
            }
            """, file: "/etc/dovecot/dovecot.conf")
        let passdbs = loaded.settings.passdbs
        #expect(passdbs.map(\.driver) == ["passwd-file", "sql", "static", "ldap"])
        #expect(passdbs[0].deny && !passdbs[0].master)
        #expect(passdbs[0].location == ConfigLocation(file: "/etc/dovecot/dovecot.conf", line: 2))
        #expect(passdbs[1].name == "proxied")
        #expect(passdbs[1].skip == "authenticated")
        #expect(passdbs[1].resultSuccess == "continue-ok")
        #expect(passdbs[1].resultFailure == "return-fail")
        #expect(passdbs[1].resultInternalfail == "return")
        #expect(passdbs[1].defaultFields == "port=24")
        #expect(passdbs[1].overrideFields == "proxy_timeout=30")
        #expect(passdbs[2].master && !passdbs[2].deny)
        #expect(passdbs[3].resultSuccess == "return-ok" && passdbs[3].resultFailure == "continue"
            && passdbs[3].resultInternalfail == "continue" && passdbs[3].skip == "never")
        #expect(loaded.settings.userdbs.map(\.driver) == ["passwd"])
        // Authentication-only settings are warned about, not errors.
        #expect(loaded.warnings.map(\.description)
            == ["/etc/dovecot/dovecot.conf:26: passdb { mechanisms } is not used by Homing (ignored)"])
        let printed = loaded.nonDefaultSettingsText()
        #expect(printed.contains("passdb {\n  args = /etc/dovecot/deny.%d\n  deny = yes\n  driver = passwd-file\n}\n"))
        #expect(printed.contains("passdb proxied {\n"))
        #expect(printed.contains("  skip = authenticated\n"))
    }

    @Test("a passdb without a driver, or with a bad skip or result value, is an error at its line")
    func errors() {
        #expect(error("postmaster_address = a@b\npassdb {\n  args = x\n}\n")?.description
            == "/etc/dovecot/dovecot.conf:2: passdb { } has no driver: add one, e.g. driver = passwd-file")
        #expect(error("postmaster_address = a@b\npassdb sqlusers {\n}\n")?.description
            == "/etc/dovecot/dovecot.conf:2: passdb sqlusers { } has no driver: add one, e.g. driver = passwd-file")
        let skip = error("postmaster_address = a@b\npassdb {\n  driver = static\n  skip = found\n}\n")
        #expect(skip?.location?.line == 4)
        #expect(skip?.message.contains("authenticated") == true)
        let result = error("postmaster_address = a@b\npassdb {\n  driver = static\n  result_success = ok\n}\n")
        #expect(result?.location?.line == 4)
        let deny = error("postmaster_address = a@b\npassdb {\n  driver = static\n  deny = perhaps\n}\n")
        #expect(deny?.location?.line == 4)
        #expect(error("postmaster_address = a@b\npassdb {\n  driver = pam\n}\n") == nil)
    }

    @Test("a userdb keeps its own skip values: authenticated is not one of them")
    func userdbSkipUnchanged() {
        let skip = error("postmaster_address = a@b\nuserdb {\n  driver = passwd\n  skip = authenticated\n}\n")
        #expect(skip?.location?.line == 4)
    }

    @Test("2.4 setting names inside a 2.3 passdb block are errors, as in a userdb block")
    func dovecot24Names() {
        let found = error("postmaster_address = a@b\npassdb {\n  driver = passwd-file\n  passwd_file_path = /x\n}\n")
        #expect(found?.location?.line == 4)
        #expect(found?.message.hasPrefix("passwd_file_path is Dovecot 2.4 syntax") == true)
        let query = error("postmaster_address = a@b\npassdb {\n  driver = sql\n  query = SELECT 1\n}\n")
        #expect(query?.message.contains("put password_query in the dovecot-sql.conf.ext") == true)
        let filter = error("postmaster_address = a@b\npassdb {\n  driver = ldap\n  filter = (uid=%u)\n}\n")
        #expect(filter?.message.contains("put pass_filter in the dovecot-ldap.conf.ext") == true)
    }

    @Test("Dovecot 2.4: passdb NAME { } blocks are read with the driver from the name, fields, deny and passdb_ prefixes")
    func dovecot24() throws {
        let loaded = ConfigurationLoader.parseAll(text: """
            dovecot_config_version = 2.4.1
            dovecot_storage_version = 2.4.1
            protocols = lmtp
            passdb passwd-file {
              passwd_file_path = /etc/dovecot/deny
              deny = yes
            }
            passdb proxy {
              driver = static
              passdb_static_password = secret
              fields {
                proxy = y
                host = 10.0.0.2
              }
              skip = authenticated
            }
            userdb static {
              fields {
                home = /var/vmail/%{user}
              }
            }
            """, file: "/etc/dovecot/dovecot.conf")
        #expect(loaded.diagnostics.errors.isEmpty, "\(loaded.diagnostics.report)")
        let passdbs = loaded.settings.passdbs
        #expect(passdbs.map(\.driver) == ["passwd-file", "static"])
        #expect(passdbs[0].args == "/etc/dovecot/deny")
        #expect(passdbs[0].deny)
        #expect(passdbs[1].args == "proxy=y host=10.0.0.2")
        #expect(passdbs[1].skip == "authenticated")
        #expect(passdbs.allSatisfy { $0.variableSyntax == .dovecot24 })
        #expect(loaded.settings.userdbs.map(\.driver) == ["static"])
    }
}
