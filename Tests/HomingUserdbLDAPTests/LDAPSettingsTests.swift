import HomingConfig
import Testing

@testable import HomingUserdbLDAP

@Suite("dovecot-ldap.conf.ext settings")
struct LDAPSettingsTests {
    func parse(_ text: String) throws(ConfigError) -> LDAPSettings {
        try LDAPSettings.parse(ExtConfigFile.parse(text: text, file: "/etc/homing/ldap.conf.ext"),
                               path: "/etc/homing/ldap.conf.ext")
    }

    func error(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("Dovecot's defaults apply to what the file leaves out")
    func defaults() throws {
        let settings = try parse("hosts = ldap1 ldap2:3389\nbase = dc=example,dc=com\n")
        #expect(settings.uris == ["ldap://ldap1", "ldap://ldap2:3389"])
        #expect(settings.bindDN == nil)
        #expect(settings.scope == .subtree)
        #expect(settings.deref == .never)
        #expect(settings.ldapVersion == 3)
        #expect(settings.userFilter == "(&(objectClass=posixAccount)(uid=%u))")
        #expect(settings.iterateFilter == "(objectClass=posixAccount)")
        #expect(settings.userAttributes.fields.map(\.name) == ["home", "uid", "gid"])
        #expect(settings.iterateAttributes.fields.map(\.ldapAttribute) == ["uid"])
        #expect(!settings.startTLS)
    }

    @Test("Every setting the driver acts on is read")
    func allSettings() throws {
        let settings = try parse("""
            uris = ldap://a/ ldaps://b:636/ ldapi://%2Frun%2Fslapd%2Fldapi
            dn = cn=homing,dc=example,dc=com
            dnpass = "s3cret # not a comment"
            tls_ca_cert_file = /etc/ca.pem
            tls_cert_file = /etc/c.pem
            tls_key_file = /etc/k.pem
            tls_require_cert = Demand
            ldap_version = 3
            base = ou=%d,dc=example,dc=com
            scope = onelevel
            deref = always
            user_filter = (mail=%u)
            user_attrs = =home=%{ldap:homeDirectory}
            iterate_filter = (objectClass=inetOrgPerson)
            iterate_attrs = mail=user
            """)
        #expect(settings.uris == ["ldap://a/", "ldaps://b:636/", "ldapi://%2Frun%2Fslapd%2Fldapi"])
        #expect(settings.bindDN == "cn=homing,dc=example,dc=com")
        #expect(settings.bindPassword == "s3cret # not a comment")
        #expect(settings.tlsCACertFile == "/etc/ca.pem")
        #expect(settings.tlsCertFile == "/etc/c.pem")
        #expect(settings.tlsKeyFile == "/etc/k.pem")
        #expect(settings.tlsRequireCert == .demand)
        #expect(settings.base == "ou=%d,dc=example,dc=com")
        #expect(settings.scope == .onelevel)
        #expect(settings.deref == .always)
        #expect(settings.userFilter == "(mail=%u)")
        #expect(settings.userAttributes.fields.map(\.name) == ["home"])
        #expect(settings.iterateFilter == "(objectClass=inetOrgPerson)")
        #expect(settings.iterateAttributes.fields.map(\.ldapAttribute) == ["mail"])
    }

    @Test("Password-checking, SASL detail and debugging keys are accepted and listed as ignored")
    func ignoredKeys() throws {
        let settings = try parse("""
            uris = ldap://a/
            base = dc=x
            pass_attrs = uid=user,userPassword=password
            pass_filter = (uid=%u)
            auth_bind = yes
            auth_bind_userdn = uid=%n,dc=x
            default_pass_scheme = SSHA
            debug_level = 0
            sasl_bind = no
            sasl_mech = EXTERNAL
            blocking = yes
            pass_filter = (mail=%u)
            """)
        #expect(settings.ignoredKeys == [
            "pass_attrs", "pass_filter", "auth_bind", "auth_bind_userdn", "default_pass_scheme", "debug_level",
            "sasl_mech", "blocking",
        ])
    }

    @Test("Each configuration mistake is reported at its file and line")
    func errorsAtLines() {
        let path = "/etc/homing/ldap.conf.ext"
        #expect(error("uris = ldap://a/\nbase = dc=x\nuser_filtr = (uid=%u)\n")
            == "\(path):3: Unknown setting: user_filtr")
        #expect(error("uris = ldap://a/\nbase = dc=x\nscope = sub\n")
            == "\(path):3: scope: unknown value 'sub' (known: base, onelevel, subtree)")
        #expect(error("uris = ldap://a/\nderef = sometimes\nbase = dc=x\n")
            == "\(path):2: deref: unknown value 'sometimes' (known: never, searching, finding, always)")
        #expect(error("uris = http://a/\nbase = dc=x\n")
            == "\(path):1: uris: 'http://a/' is not an ldap://, ldaps:// or ldapi:// URI")
        #expect(error("uris = ldap://a/\nbase = dc=x\ntls = maybe\n")
            == "\(path):3: tls: invalid boolean value 'maybe' (use yes or no)")
        #expect(error("uris = ldaps://a/\nbase = dc=x\ntls = yes\n")
            == "\(path):3: Don't use both tls=yes and ldaps URI")
        #expect(error("uris = ldap://a/\nbase = dc=x\nldap_version = 4\n")
            == "\(path):3: ldap_version: '4' is not 2 or 3")
        #expect(error("uris = ldap://a/\nbase = dc=x\nsasl_bind = yes\n")
            == "\(path):3: sasl_bind=yes is not supported by Homing: use a simple bind with dn and dnpass")
        #expect(error("uris = ldap://a/\nbase = dc=x\n\nuser_attrs = uid=uid, =\n")
            == "\(path):4: user_attrs: Invalid attrs entry '=': no field name")
        #expect(error("uris = ldap://a/\nbase = dc=x\nuser_attrs = =home=%{ldap:homeDirectory\n")
            == "\(path):3: user_attrs: '%{' at position 0 has no closing '}'")
        #expect(error("uris = ldap://a/\nbase = dc=x\nuser_filter = (uid=%z)\n")
            == "\(path):3: user_filter: unknown variable %z at position 5")
        #expect(error("uris = ldap://a/\nbase = ou=%{nothing},dc=x\n")
            == "\(path):2: base: unknown variable %{nothing} at position 3")
        #expect(error("uris = ldap://a/\n") == "ldap \(path): No base given (set base = the DN to search under)")
        #expect(error("base = dc=x\n") == "ldap \(path): No uris or hosts set")
        #expect(error("uris = ldap://a/\nbase = dc=x\ntls_require_cert = sometimes\n")
            == "\(path):3: tls_require_cert: unknown value 'sometimes' (known: never, hard, demand, allow, try)")
    }
}
