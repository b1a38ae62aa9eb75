import HomingConfig
import HomingUserdb

/// Entry point of the `ldap` userdb driver.
public enum LDAPUserdb {
    /// Adds the `ldap` driver to `registry`: `userdb { driver = ldap  args = PATH }`, where PATH
    /// is a dovecot-ldap.conf.ext.
    public static func register(in registry: inout UserdbDriverRegistry) {
        registry.register("ldap") { settings, context throws(ConfigError) in
            try LDAPUserdbDriver(settings: settings, context: context)
        }
    }
}
