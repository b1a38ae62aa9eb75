import HomingConfig
import HomingUserdb

/// The contents of a dovecot-ldap.conf.ext, checked: what the `ldap` userdb driver connects to
/// and how it searches. Keys, defaults and accepted values are Dovecot 2.3's.
///
/// Built by ``parse(_:path:)`` from an ``ExtConfigFile``; every problem is a ``ConfigError`` at
/// the line of the offending key (Dovecot refuses unknown keys in this file, and so does Homing).
public struct LDAPSettings: Sendable, Equatable {
    /// The servers to try, in order, as libldap URIs (`ldap://`, `ldaps://`, `ldapi://`), from
    /// `uris`, or from the older `hosts` (`host[:port]`, turned into `ldap://host:port`).
    public var uris: [String]
    /// `dn` and `dnpass`: the simple bind; nil `dn` binds anonymously.
    public var bindDN: String?
    public var bindPassword: String?
    /// `tls = yes`: StartTLS after connecting.
    public var startTLS: Bool = false
    /// `tls_ca_cert_file`, `tls_ca_cert_dir`, `tls_cert_file`, `tls_key_file`, `tls_cipher_suite`.
    public var tlsCACertFile: String?
    public var tlsCACertDir: String?
    public var tlsCertFile: String?
    public var tlsKeyFile: String?
    public var tlsCipherSuite: String?
    /// `tls_require_cert` (never | hard | demand | allow | try); nil leaves libldap's default.
    public var tlsRequireCert: TLSRequireCert?
    /// `ldap_version` (3). Version 2 is accepted, as Dovecot does, but not with `tls = yes`.
    public var ldapVersion: Int = 3
    /// `base`, with `%` variables (values escaped as RFC 4514 requires).
    public var base: String
    /// `scope` (subtree) and `deref` (never).
    public var scope: Scope = .subtree
    public var deref: Deref = .never
    /// `user_filter` (`(&(objectClass=posixAccount)(uid=%u))`), values escaped as RFC 4515 requires.
    public var userFilter: String = "(&(objectClass=posixAccount)(uid=%u))"
    /// `user_attrs` (`homeDirectory=home,uidNumber=uid,gidNumber=gid`).
    public var userAttributes: LDAPAttributeMap
    /// `iterate_filter` (`(objectClass=posixAccount)`) and `iterate_attrs` (`uid=user`).
    public var iterateFilter: String = "(objectClass=posixAccount)"
    public var iterateAttributes: LDAPAttributeMap
    /// `pass_filter` (nil when not set; a passdb needs it) and `pass_attrs` (Dovecot's default
    /// `uid=user,userPassword=password`): what an `ldap` passdb searches for and returns, read
    /// as `user_filter` and `user_attrs` are. A userdb lists them in ``ignoredKeys``.
    public var passFilter: String?
    public var passAttributes: LDAPAttributeMap
    /// Keys present in the file that Homing reads but does not act on (password checking,
    /// SASL details, libldap debugging), for one notice at start.
    public var ignoredKeys: [String] = []
    /// The syntax of `base`, the filters and the attribute templates.
    public var syntax: VariableSyntax = .dovecot23

    /// `scope` values.
    public enum Scope: String, Sendable, Equatable, CaseIterable {
        case base, onelevel, subtree
    }

    /// `deref` values: when the server follows aliases.
    public enum Deref: String, Sendable, Equatable, CaseIterable {
        case never, searching, finding, always
    }

    /// `tls_require_cert` values, as libldap's `TLS_REQCERT`.
    public enum TLSRequireCert: String, Sendable, Equatable, CaseIterable {
        case never, hard, demand, allow, `try`
    }

    /// Default `user_attrs`, `iterate_attrs` as Dovecot has them.
    public static let defaultUserAttributes = "homeDirectory=home,uidNumber=uid,gidNumber=gid"
    public static let defaultIterateAttributes = "uid=user"
    public static let defaultPassAttributes = "uid=user,userPassword=password"

    /// Keys Homing accepts without acting on them.
    static let ignoredKeyNames: Set<String> = [
        "pass_attrs", "pass_filter", "auth_bind", "auth_bind_userdn", "default_pass_scheme",
        "sasl_mech", "sasl_realm", "sasl_authz_id", "debug_level", "ldaprc_path", "blocking",
        "userdb_warning_disable",
    ]

    /// Reads and checks the settings of `file` (loaded from `path`).
    public static func parse(_ file: ExtConfigFile, path: String) throws(ConfigError) -> LDAPSettings {
        var raw: [String: ExtConfigEntry] = [:]
        var ignored: [String] = []
        for entry in file.entries {
            switch entry.key {
            case "uris", "hosts", "dn", "dnpass", "tls", "tls_ca_cert_file", "tls_ca_cert_dir", "tls_cert_file",
                "tls_key_file", "tls_cipher_suite", "tls_require_cert", "ldap_version", "base", "scope", "deref",
                "user_attrs", "user_filter", "iterate_attrs", "iterate_filter", "sasl_bind":
                raw[entry.key] = entry
            case let key where ignoredKeyNames.contains(key):
                if !ignored.contains(key) { ignored.append(key) }
                if key == "pass_attrs" || key == "pass_filter" { raw[key] = entry }
            default:
                throw ConfigError("Unknown setting: \(entry.key)", at: entry.location)
            }
        }

        func string(_ key: String) -> String? { raw[key]?.value }
        func bool(_ key: String) throws(ConfigError) -> Bool {
            guard let entry = raw[key] else { return false }
            switch entry.value.lowercased() {
            case "yes": return true
            case "no": return false
            default: throw ConfigError("\(key): invalid boolean value '\(entry.value)' (use yes or no)", at: entry.location)
            }
        }
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(ConfigError) -> T?
        where T.RawValue == String {
            guard let entry = raw[key] else { return nil }
            if let value = T(rawValue: entry.value.lowercased()) { return value }
            let known = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError("\(key): unknown value '\(entry.value)' (known: \(known))", at: entry.location)
        }
        func attributeMap(_ key: String, default text: String) throws(ConfigError) -> LDAPAttributeMap {
            do {
                return try LDAPAttributeMap.parse(string(key) ?? text)
            } catch {
                throw ConfigError("\(key): \(error)", at: raw[key]?.location)
            }
        }

        guard let base = string("base") else {
            throw ConfigError("ldap \(path): No base given (set base = the DN to search under)")
        }
        var uris: [String] = []
        if let value = string("uris"), !value.isEmpty {
            uris = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
            for uri in uris {
                let lower = uri.lowercased()
                guard lower.hasPrefix("ldap://") || lower.hasPrefix("ldaps://") || lower.hasPrefix("ldapi://") else {
                    throw ConfigError(
                        "uris: '\(uri)' is not an ldap://, ldaps:// or ldapi:// URI", at: raw["uris"]?.location)
                }
            }
        } else if let value = string("hosts"), !value.isEmpty {
            uris = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map { "ldap://\($0)" }
        }
        if uris.isEmpty {
            throw ConfigError("ldap \(path): No uris or hosts set")
        }

        var settings = LDAPSettings(
            uris: uris, base: base,
            userAttributes: try attributeMap("user_attrs", default: defaultUserAttributes),
            iterateAttributes: try attributeMap("iterate_attrs", default: defaultIterateAttributes),
            passAttributes: try attributeMap("pass_attrs", default: defaultPassAttributes))
        settings.passFilter = string("pass_filter")
        settings.ignoredKeys = ignored
        if let dn = string("dn"), !dn.isEmpty {
            settings.bindDN = dn
            settings.bindPassword = string("dnpass") ?? ""
        }
        settings.startTLS = try bool("tls")
        settings.tlsCACertFile = string("tls_ca_cert_file")
        settings.tlsCACertDir = string("tls_ca_cert_dir")
        settings.tlsCertFile = string("tls_cert_file")
        settings.tlsKeyFile = string("tls_key_file")
        settings.tlsCipherSuite = string("tls_cipher_suite")
        settings.tlsRequireCert = try choice("tls_require_cert", TLSRequireCert.self)
        if let entry = raw["ldap_version"] {
            guard let version = Int(entry.value), version == 2 || version == 3 else {
                throw ConfigError("ldap_version: '\(entry.value)' is not 2 or 3", at: entry.location)
            }
            if version < 3, settings.startTLS {
                throw ConfigError("tls=yes requires ldap_version=3", at: entry.location)
            }
            settings.ldapVersion = version
        }
        if settings.startTLS, settings.uris.contains(where: { $0.lowercased().hasPrefix("ldaps://") }) {
            throw ConfigError("Don't use both tls=yes and ldaps URI", at: raw["tls"]?.location)
        }
        if try bool("sasl_bind") {
            throw ConfigError(
                "sasl_bind=yes is not supported by Homing: use a simple bind with dn and dnpass",
                at: raw["sasl_bind"]?.location)
        }
        settings.scope = try choice("scope", Scope.self) ?? .subtree
        settings.deref = try choice("deref", Deref.self) ?? .never
        if let filter = string("user_filter") { settings.userFilter = filter }
        if let filter = string("iterate_filter") { settings.iterateFilter = filter }

        for (key, template) in [("base", settings.base), ("user_filter", settings.userFilter),
                                ("iterate_filter", settings.iterateFilter), ("pass_filter", settings.passFilter ?? "")] {
            do {
                _ = try UserdbVariables.sample().expander().expand(template)
            } catch {
                throw ConfigError("\(key): \(error)", at: raw[key]?.location)
            }
        }
        for (key, map) in [("user_attrs", settings.userAttributes), ("iterate_attrs", settings.iterateAttributes),
                           ("pass_attrs", settings.passAttributes)] {
            do {
                try map.validate()
            } catch {
                throw ConfigError("\(key): \(error)", at: raw[key]?.location)
            }
        }
        return settings
    }

    /// Reads `path` (with its `!include`s) and checks it.
    public static func load(path: String) throws(ConfigError) -> LDAPSettings {
        try parse(ExtConfigFile.load(path: path), path: path)
    }

    // MARK: - Dovecot 2.4

    /// Reads the settings of a Dovecot 2.4 `userdb ldap { }` block (``UserdbSettings/driverSettings``):
    /// `ldap_uris`, `ldap_auth_dn`, `ldap_auth_dn_password`, `ldap_base`, `ldap_scope`,
    /// `ldap_deref`, `ldap_starttls`, `ldap_version`, and the block's `filter` (required),
    /// `iterate_filter`, `fields { }` and `iterate_fields { }` (default `user = %{ldap:uid}`).
    /// `kind` (`userdb`, `passdb`) names the block in messages.
    public static func parse24(
        _ entries: [ExtConfigEntry], blockLocation: ConfigLocation?, kind: String = "userdb"
    ) throws(ConfigError) -> LDAPSettings {
        var last: [String: ExtConfigEntry] = [:]
        var fields: [(String, String)] = []
        var iterateFields: [(String, String)] = []
        var ignored: [String] = []
        for entry in entries {
            if entry.key.hasPrefix("fields/") {
                fields.removeAll { $0.0 == String(entry.key.dropFirst(7)) }
                fields.append((String(entry.key.dropFirst(7)), entry.value))
            } else if entry.key.hasPrefix("iterate_fields/") {
                iterateFields.removeAll { $0.0 == String(entry.key.dropFirst(15)) }
                iterateFields.append((String(entry.key.dropFirst(15)), entry.value))
            } else {
                last[entry.key] = entry
            }
        }
        let known: Set<String> = [
            "ldap_uris", "ldap_auth_dn", "ldap_auth_dn_password", "ldap_base", "ldap_scope", "ldap_deref", "ldap_starttls",
            "ldap_version", "filter", "iterate_filter",
        ]
        for key in last.keys.sorted() where !known.contains(key) { ignored.append(key) }
        func value(_ key: String) -> String? { last[key]?.value }
        guard let base = value("ldap_base") else {
            throw ConfigError("\(kind) ldap needs ldap_base = the DN to search under", at: blockLocation)
        }
        let uris = (value("ldap_uris") ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
        guard !uris.isEmpty else { throw ConfigError("\(kind) ldap needs ldap_uris = ldap://HOST", at: blockLocation) }
        for uri in uris {
            let lower = uri.lowercased()
            guard lower.hasPrefix("ldap://") || lower.hasPrefix("ldaps://") || lower.hasPrefix("ldapi://") else {
                throw ConfigError("ldap_uris: '\(uri)' is not an ldap://, ldaps:// or ldapi:// URI", at: last["ldap_uris"]?.location)
            }
        }
        guard let filter = value("filter") else {
            throw ConfigError("\(kind) ldap { } needs filter = (&(objectClass=posixAccount)(uid=%{user}))", at: blockLocation)
        }
        var settings = LDAPSettings(
            uris: uris, base: base, userAttributes: LDAPAttributeMap.fields24(fields),
            iterateAttributes: LDAPAttributeMap.fields24(iterateFields.isEmpty ? [("user", "%{ldap:uid}")] : iterateFields),
            passAttributes: LDAPAttributeMap.fields24([]))
        settings.syntax = .dovecot24
        settings.ignoredKeys = ignored
        settings.userFilter = filter
        if let iterate = value("iterate_filter") { settings.iterateFilter = iterate }
        if let dn = value("ldap_auth_dn"), !dn.isEmpty {
            settings.bindDN = dn
            settings.bindPassword = value("ldap_auth_dn_password") ?? ""
        }
        if let entry = last["ldap_starttls"] {
            switch entry.value.lowercased() {
            case "yes": settings.startTLS = true
            case "no": settings.startTLS = false
            default: throw ConfigError("ldap_starttls: invalid boolean value '\(entry.value)' (use yes or no)", at: entry.location)
            }
        }
        if let entry = last["ldap_version"] {
            guard let version = Int(entry.value), version == 2 || version == 3 else {
                throw ConfigError("ldap_version: '\(entry.value)' is not 2 or 3", at: entry.location)
            }
            settings.ldapVersion = version
        }
        if let entry = last["ldap_scope"] {
            guard let scope = Scope(rawValue: entry.value.lowercased()) else {
                throw ConfigError("ldap_scope: unknown value '\(entry.value)' (known: base, onelevel, subtree)", at: entry.location)
            }
            settings.scope = scope
        }
        if let entry = last["ldap_deref"] {
            guard let deref = Deref(rawValue: entry.value.lowercased()) else {
                throw ConfigError("ldap_deref: unknown value '\(entry.value)' (known: never, searching, finding, always)",
                                  at: entry.location)
            }
            settings.deref = deref
        }
        for (key, template) in [("ldap_base", settings.base), ("filter", settings.userFilter), ("iterate_filter", settings.iterateFilter)] {
            do {
                _ = try UserdbVariables.sample(syntax: .dovecot24).expander().expand(template)
            } catch {
                throw ConfigError("\(key): \(error)", at: last[key]?.location ?? blockLocation)
            }
        }
        for (key, map) in [("fields", settings.userAttributes), ("iterate_fields", settings.iterateAttributes)] {
            do {
                try map.validate()
            } catch {
                throw ConfigError("\(key): \(error)", at: blockLocation)
            }
        }
        return settings
    }
}
