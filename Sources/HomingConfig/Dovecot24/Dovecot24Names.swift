/// The setting names that differ between Dovecot 2.3 and 2.4 in Homing's part of the
/// configuration, for messages that say which name to use instead.
enum Dovecot24Names {
    /// 2.4 settings (top level) that a 2.3 file cannot have, with what 2.3 writes instead.
    static let introduced: [String: String] = [
        "dovecot_storage_version": "2.3 has no such setting (remove it, or make the file a 2.4 one)",
        "mail_driver": "use mail_location = maildir:PATH",
        "mail_path": "use mail_location = maildir:PATH",
        "mail_inbox_path": "use mail_location = maildir:PATH:INBOX=PATH",
        "mailbox_list_layout": "use mail_location = maildir:PATH:LAYOUT=fs",
        "mailbox_list_utf8": "use mail_location = maildir:PATH:UTF-8",
        "mail_index_path": "use mail_location = maildir:PATH:INDEX=PATH",
        "mail_control_path": "use mail_location = maildir:PATH:CONTROL=PATH",
        "quota_storage_size": "use plugin { quota_rule = *:storage=SIZE }",
        "quota_message_count": "use plugin { quota_rule = *:messages=COUNT }",
        "quota_storage_grace": "use plugin { quota_grace = SIZE }",
        "quota_mail_size": "use plugin { quota_max_mail_size = SIZE }",
        "quota_driver": "use plugin { quota = maildir:NAME }",
        "sieve_user_log_path": "use plugin { sieve_user_log = PATH }",
        "sql_driver": "use driver = pgsql in the dovecot-sql.conf.ext named by userdb { args }",
        "ldap_uris": "use uris = ... in the dovecot-ldap.conf.ext named by userdb { args }",
        "ldap_base": "use base = ... in the dovecot-ldap.conf.ext named by userdb { args }",
        "ldap_auth_dn": "use dn = ... in the dovecot-ldap.conf.ext named by userdb { args }",
        "ldap_auth_dn_password": "use dnpass = ... in the dovecot-ldap.conf.ext named by userdb { args }",
    ]

    /// 2.4 section types, with what 2.3 writes instead.
    static let sections: [String: String] = [
        "sieve_script": "use plugin { sieve = file:PATH;active=PATH } (and sieve_before, sieve_after, sieve_default, sieve_global)",
        "quota": "use plugin { quota = maildir:NAME  quota_rule = *:storage=SIZE }",
        "pgsql": "use connect = host=... in the dovecot-sql.conf.ext named by userdb { args }",
        "fields": "use default_fields = key=value ... or override_fields = ...",
    ]

    /// The message for a 2.4 name in a 2.3 file, or nil when `key` is fine in 2.3.
    /// `inPassdb`: the key is inside a `passdb { }` block (whose query is `password_query`, whose
    /// filter is `pass_filter`).
    static func settingsIn23File(_ key: String, inUserdb: Bool, inPassdb: Bool = false) -> String? {
        if key == "dovecot_config_version" {
            return "dovecot_config_version must be the first setting of the file (then the whole file is read as Dovecot 2.4)"
        }
        if inUserdb {
            switch key {
            case "passwd_file_path": return "passwd_file_path is Dovecot 2.4 syntax, which a 2.3 file cannot use: use args = PATH"
            case "query", "sql_query", "userdb_sql_query", "passdb_sql_query":
                return "\(key) is Dovecot 2.4 syntax, which a 2.3 file cannot use: put \(inPassdb ? "password_query" : "user_query") "
                    + "in the dovecot-sql.conf.ext named by args"
            case "filter", "ldap_filter", "userdb_ldap_filter", "passdb_ldap_filter":
                return "\(key) is Dovecot 2.4 syntax, which a 2.3 file cannot use: put \(inPassdb ? "pass_filter" : "user_filter") "
                    + "in the dovecot-ldap.conf.ext named by args"
            default: return nil
            }
        }
        guard let older = introduced[key] else { return nil }
        return "\(key) is Dovecot 2.4 syntax, which a 2.3 file cannot use: \(older) (or start the file with dovecot_config_version = 2.4.1 and write it all in 2.4 syntax)"
    }

    /// 2.3 settings that a 2.4 file cannot have, with the 2.4 way.
    static let removed: [String: String] = [
        "mail_location": "use mail_driver = maildir and mail_path = PATH (mail_inbox_path, mailbox_list_layout... for its options)",
        "quota_rule": "use quota_storage_size = SIZE (and quota_message_count) at the top level or in quota NAME { }",
        "quota_grace": "use quota_storage_grace = SIZE",
        "quota_max_mail_size": "use quota_mail_size = SIZE",
        "sieve": "use sieve_script personal { driver = file  path = DIR  active_path = FILE }",
        "sieve_before": "use sieve_script NAME { type = before  path = PATH }",
        "sieve_after": "use sieve_script NAME { type = after  path = PATH }",
        "sieve_default": "use sieve_script NAME { type = default  path = PATH }",
        "sieve_global": "use sieve_script NAME { type = global  path = DIR }",
        "sieve_global_dir": "use sieve_script NAME { type = global  path = DIR }",
        "sieve_dir": "use sieve_script personal { path = DIR }",
        "sieve_user_log": "use sieve_user_log_path = PATH",
        "sieve_default_name": "use sieve_script_name in the sieve_script default { } block",
    ]

    /// 2.3 settings inside `userdb { }` that a 2.4 file cannot have.
    static let removedInUserdb: [String: String] = [
        "args": "write the driver's settings instead (passwd_file_path = PATH for passwd-file, fields { } for static, "
            + "query/iterate_query and sql_driver/pgsql { } for sql, filter/fields { } and ldap_* for ldap)",
        "default_fields": "use fields { NAME:default = VALUE }",
        "override_fields": "use fields { NAME = VALUE }",
    ]
}
