import HomingConfig
import HomingUserdb

/// The `sql` userdb: PostgreSQL through libpq, configured by a dovecot-sql.conf.ext.
public enum SQLUserdb {
    /// Adds the `sql` driver to `registry`: `userdb { driver = sql  args = /path/dovecot-sql.conf.ext }`.
    public static func register(in registry: inout UserdbDriverRegistry) {
        registry.register("sql") { settings, context throws(ConfigError) in
            try SQLUserdbDriver(settings: settings, context: context)
        }
    }
}
