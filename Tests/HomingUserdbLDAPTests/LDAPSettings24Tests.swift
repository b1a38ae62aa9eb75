import HomingConfig
import HomingUserdb
import Testing

@testable import HomingUserdbLDAP

@Suite("ldap userdb settings in Dovecot 2.4 syntax")
struct LDAPSettings24Tests {
    static let header = "dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\nprotocols = lmtp\n"

    func settings(_ text: String) throws -> LDAPSettings {
        let loaded = ConfigurationLoader.parseAll(text: Self.header + text, file: "/etc/homing/homing.conf")
        #expect(loaded.diagnostics.errors.isEmpty, "\(loaded.diagnostics.report)")
        let block = try #require(loaded.settings.userdbs.first)
        return try LDAPSettings.parse24(block.driverSettings, blockLocation: block.location)
    }

    var variables24: UserdbVariables {
        var variables = variables
        variables.syntax = .dovecot24
        return variables
    }

    var variables: UserdbVariables {
        var variables = UserdbVariables(request: UserdbRequest(user: "alice@example.com"))
        variables.values["hostname"] = "mx"
        return variables
    }

    @Test("ldap_* settings, filter and fields { %{ldap:attr} } are read into the driver's settings")
    func settings() throws {
        let parsed = try settings("""
            ldap_uris = ldap://ldap1 ldaps://ldap2
            ldap_auth_dn = cn=homing,dc=example,dc=com
            ldap_auth_dn_password = secret
            ldap_base = ou=%{user | domain},dc=example,dc=com
            ldap_scope = onelevel
            userdb ldap {
              filter = (&(objectClass=posixAccount)(mail=%{user}))
              fields {
                home = %{ldap:homeDirectory}
                uid = %{ldap:uidNumber}
                quota_storage_size = %{ldap:quota | default('1G')}
              }
            }
            """)
        #expect(parsed.uris == ["ldap://ldap1", "ldaps://ldap2"])
        #expect(parsed.bindDN == "cn=homing,dc=example,dc=com")
        #expect(parsed.bindPassword == "secret")
        #expect(parsed.scope == .onelevel)
        #expect(parsed.syntax == .dovecot24)
        #expect(try variables24.expander().expand(parsed.base, escape: LDAPEscaping.dnValue)
            == "ou=example.com,dc=example,dc=com")
        #expect(parsed.userAttributes.requestedAttributes == ["homeDirectory", "uidNumber", "quota"])
        let entry = LDAPEntry(dn: "uid=a", attributes: [("homeDirectory", ["/home/a"]), ("uidNumber", ["1000"])])
        let mapped = try parsed.userAttributes.map(entry, variables: variables)
        #expect(mapped.fields == [UserdbField("home", "/home/a"), UserdbField("uid", "1000"), UserdbField("quota_storage_size", "1G")])
        // A missing attribute without a default fails the lookup, as in Dovecot 2.4.
        #expect(throws: VariableExpansionError.self) {
            try parsed.userAttributes.map(LDAPEntry(dn: "uid=b", attributes: [("homeDirectory", ["/h"])]), variables: variables)
        }
        #expect(parsed.iterateAttributes.fields.map(\.name) == ["user"])
    }

    @Test("Missing ldap_base, ldap_uris or filter are errors")
    func errors() throws {
        func error(_ text: String) throws -> String? {
            do {
                _ = try settings(text)
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(try error("ldap_uris = ldap://x\nuserdb ldap {\n  filter = (uid=%{user})\n}\n")?.contains("ldap_base") == true)
        #expect(try error("ldap_base = dc=x\nuserdb ldap {\n  filter = (uid=%{user})\n}\n")?.contains("ldap_uris") == true)
        #expect(try error("ldap_base = dc=x\nldap_uris = ldap://x\nuserdb ldap {\n}\n")?.contains("needs filter") == true)
        #expect(try error("ldap_base = dc=x\nldap_uris = http://x\nuserdb ldap {\n  filter = x\n}\n")?.contains("not an ldap://") == true)
    }
}
