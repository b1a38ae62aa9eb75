/// `userdb` blocks in 2.4 syntax, with the sql and ldap `.conf.ext` contents folded in.
extension Dovecot24Printer {
    // MARK: - userdb

    mutating func userdb(_ userdb: UserdbSettings, index: Int, all: [UserdbSettings]) {
        block(userdb, kind: "userdb", index: index, all: all)
    }

    /// A `passdb { }` block (read for `lmtp_proxy`'s fields): the same form as a userdb, with
    /// the sql `password_query` as `query` and the ldap `pass_filter` and `pass_attrs` as
    /// `filter` and `fields { }`.
    mutating func passdb(_ passdb: UserdbSettings, index: Int, all: [UserdbSettings]) {
        block(passdb, kind: "passdb", index: index, all: all)
    }

    private mutating func block(_ userdb: UserdbSettings, kind: String, index: Int, all: [UserdbSettings]) {
        let isPassdb = kind == "passdb"
        var name = userdb.name ?? userdb.driver
        if all.enumerated().contains(where: { $0.offset < index && ($0.element.name ?? $0.element.driver) == name }) {
            name += String(index + 1)
        }
        lines.append("\(kind) \(Self.name(name)) {")
        if name != userdb.driver { lines.append("  driver = \(userdb.driver)") }
        let defaults = UserdbSettings(driver: userdb.driver)
        if userdb.skip != defaults.skip { lines.append("  skip = \(userdb.skip)") }
        if userdb.resultSuccess != defaults.resultSuccess { lines.append("  result_success = \(userdb.resultSuccess)") }
        if userdb.resultFailure != defaults.resultFailure { lines.append("  result_failure = \(userdb.resultFailure)") }
        if userdb.resultInternalfail != defaults.resultInternalfail {
            lines.append("  result_internalfail = \(userdb.resultInternalfail)")
        }
        if isPassdb, userdb.deny { lines.append("  deny = yes") }
        if isPassdb, userdb.master { lines.append("  master = yes") }
        var fields: [(String, String)] = []
        switch userdb.driver {
        case "static":
            for (key, value) in Self.pairs(userdb.args) {
                if key == "allow_all_users", !isPassdb {
                    lines.append("  allow_all_users = \(value.isEmpty ? "yes" : value)")
                } else if key == "password", isPassdb {
                    setting("password", value, context: .userdb, indent: "  ")
                } else if key == "nopassword", isPassdb {
                    fields.append((key, value.isEmpty ? "yes" : value))
                } else if key != "password" && key != "nopassword" {
                    fields.append((key, value))
                }
            }
        case "passwd-file":
            passwdFile(userdb.args)
        case "sql" where configuration.syntax == .dovecot24, "ldap" where configuration.syntax == .dovecot24:
            driverSettings24(userdb.driverSettings)
        case "sql":
            sql(userdb.args, isPassdb: isPassdb)
        case "ldap":
            ldap(userdb.args, fields: &fields, isPassdb: isPassdb)
        default:
            if !userdb.args.isEmpty { unconvertible("\(kind) \(userdb.driver) args = \(userdb.args)", "ignored by Homing", indent: "  ") }
        }
        for (key, value) in Self.pairs(userdb.defaultFields) { fields.append(("\(key):default", value)) }
        for (key, value) in Self.pairs(userdb.overrideFields) { fields.append((key, value)) }
        if !fields.isEmpty {
            lines.append("  fields {")
            for (key, value) in fields { setting(key, value, context: .userdb, indent: "    ") }
            lines.append("  }")
        }
        lines.append("}")
    }

    static func pairs(_ text: String) -> [(String, String)] {
        MailStorage24.blankSeparated(text).map { token in
            guard let equals = token.firstIndex(of: "=") else { return (String(token), "") }
            return (String(token[..<equals]), String(token[token.index(after: equals)...]))
        }
    }

    /// A 2.4 block's driver settings as they were written (global ones repeated in the block,
    /// where 2.4 allows them too).
    mutating func driverSettings24(_ entries: [ExtConfigEntry]) {
        var hosts: [String: [(String, String)]] = [:]
        var hostOrder: [String] = []
        var blocks: [String: [(String, String)]] = [:]
        var plain: [(String, String)] = []
        for entry in entries {
            let parts = entry.key.split(separator: "/", maxSplits: 3).map(String.init)
            if parts.first == "pgsql", parts.count >= 2 {
                if !hostOrder.contains(parts[1]) { hostOrder.append(parts[1]) }
                if parts.count == 4 { hosts[parts[1], default: []].append((parts[3], entry.value)) }
            } else if parts.count == 2, parts[0] == "fields" || parts[0] == "iterate_fields" {
                blocks[parts[0], default: []].append((parts[1], entry.value))
            } else {
                plain.removeAll { $0.0 == entry.key }
                plain.append((entry.key, entry.value))
            }
        }
        for (key, value) in plain { lines.append("  " + NonDefaultSettingsPrinter.line(key, value)) }
        for host in hostOrder {
            lines.append("  pgsql \(Self.name(host)) {")
            lines.append("    parameters {")
            for (key, value) in hosts[host] ?? [] { lines.append("      " + NonDefaultSettingsPrinter.line(key, value)) }
            lines.append("    }")
            lines.append("  }")
        }
        for block in ["fields", "iterate_fields"] {
            guard let entries = blocks[block] else { continue }
            lines.append("  \(block) {")
            for (key, value) in entries { lines.append("    " + NonDefaultSettingsPrinter.line(key, value)) }
            lines.append("  }")
        }
    }

    mutating func passwdFile(_ args: String) {
        var rest = Substring(args)
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            let token = rest.prefix { $0 != " " && $0 != "\t" }
            if token.hasPrefix("username_format=") {
                if token != "username_format=%u" {
                    unconvertible("passwd-file \(token)", "2.4 matches the file against %{user}; apply the format in auth_username_format",
                                  indent: "  ")
                }
            } else if !token.hasPrefix("scheme=") {
                break
            }
            rest = rest.dropFirst(token.count)
        }
        setting("passwd_file_path", String(rest).trimmingBlanks(), context: .userdb, indent: "  ")
    }

    mutating func extFile(_ args: String, kind: String) -> ExtConfigFile? {
        let path = args.trimmingBlanks()
        do {
            return try ExtConfigFile.load(path: path)
        } catch {
            unconvertible("userdb \(kind) args = \(path)", "can't be folded in: \(error)", indent: "  ")
            return nil
        }
    }

    /// A dovecot-sql.conf.ext folded in: for a userdb its `user_query` and `iterate_query`, for
    /// a passdb its `password_query`, as the block's `query`.
    mutating func sql(_ args: String, isPassdb: Bool = false) {
        guard let file = extFile(args, kind: "sql") else { return }
        for entry in file.entries {
            switch entry.key {
            case "driver": lines.append("  sql_driver = \(entry.value)")
            case "connect": connect(entry.value)
            case "user_query" where !isPassdb, "password_query" where isPassdb:
                setting("query", entry.value, context: .userdb, indent: "  ")
            case "iterate_query" where !isPassdb: setting("iterate_query", entry.value, context: .userdb, indent: "  ")
            case "user_query", "iterate_query":
                lines.append("  # \(entry.key) (\(entry.location)): for the userdb, not this passdb")
            case "password_query":
                lines.append("  # \(entry.key) (\(entry.location)): for the passdb, not this userdb")
            default: lines.append("  # \(entry.key) (\(entry.location)): for Dovecot's passdb, not used by Homing")
            }
        }
    }

    /// `connect = host=H dbname=D ...` as `pgsql H { parameters { ... } }`: one block per
    /// `host=` word (Dovecot's several servers), each with the other parameters.
    mutating func connect(_ value: String) {
        var hosts: [String] = []
        var parameters: [(String, String)] = []
        for (key, raw) in Self.pairs(value) {
            var value = raw
            if value.count >= 2, value.first == "'", value.last == "'" { value = String(value.dropFirst().dropLast()) }
            switch key {
            case "host": hosts.append(value)
            case "maxconns": lines.append("  pgsql_connection_limit = \(value)")
            default: parameters.append((key, value))
            }
        }
        for host in hosts.isEmpty ? ["localhost"] : hosts {
            lines.append("  pgsql \(Self.name(host)) {")
            lines.append("    parameters {")
            for (key, value) in parameters { lines.append("      " + NonDefaultSettingsPrinter.line(key, value)) }
            lines.append("    }")
            lines.append("  }")
        }
    }

    /// A dovecot-ldap.conf.ext folded in: for a userdb its `user_filter`, `user_attrs` and the
    /// iteration settings, for a passdb its `pass_filter` and `pass_attrs`, as the block's
    /// `filter` and `fields { }`.
    mutating func ldap(_ args: String, fields: inout [(String, String)], isPassdb: Bool = false) {
        guard let file = extFile(args, kind: "ldap") else { return }
        var userAttrs = isPassdb ? "uid=user,userPassword=password" : "homeDirectory=home,uidNumber=uid,gidNumber=gid"
        var iterateAttrs = isPassdb ? "" : "uid=user"
        let renamed = ["dn": "ldap_auth_dn", "dnpass": "ldap_auth_dn_password", "scope": "ldap_scope", "deref": "ldap_deref",
                       "ldap_version": "ldap_version", "tls": "ldap_starttls"]
        var sawFilter = false
        for entry in file.entries {
            switch entry.key {
            case "uris": lines.append("  ldap_uris = \(entry.value)")
            case "hosts":
                let uris = entry.value.split(whereSeparator: { $0 == " " || $0 == "," }).map { "ldap://\($0)" }
                lines.append("  ldap_uris = \(uris.joined(separator: " "))")
            case "base": setting("ldap_base", entry.value, context: .userdb, indent: "  ")
            case "user_filter" where !isPassdb, "pass_filter" where isPassdb:
                sawFilter = true
                setting("filter", entry.value, context: .userdb, indent: "  ")
            case "iterate_filter" where !isPassdb: setting("iterate_filter", entry.value, context: .userdb, indent: "  ")
            case "user_attrs" where !isPassdb, "pass_attrs" where isPassdb: userAttrs = entry.value
            case "iterate_attrs" where !isPassdb: iterateAttrs = entry.value
            case let key where renamed[key] != nil:
                lines.append("  " + NonDefaultSettingsPrinter.line(renamed[key] ?? key, entry.value))
            default:
                lines.append("  # \(entry.key) (\(entry.location)): not carried over (not used by Homing's \(isPassdb ? "passdb" : "userdb"))")
            }
        }
        if !sawFilter { setting("filter", "(&(objectClass=posixAccount)(uid=%u))", context: .userdb, indent: "  ") }
        lines.append("  # 2.3 left a field out when its LDAP attribute was missing: | default keeps the lookup going "
                     + "(Homing drops an empty uid, gid, home, mail or quota field)")
        fields += ldapFields(userAttrs)
        let iterate = ldapFields(iterateAttrs)
        if !iterate.isEmpty {
            lines.append("  iterate_fields {")
            for (key, value) in iterate { setting(key, value, context: .userdb, indent: "    ") }
            lines.append("  }")
        }
    }

    /// `user_attrs` as `fields` entries with 2.3 templates (converted when printed).
    func ldapFields(_ attrs: String) -> [(String, String)] {
        var result: [(String, String)] = []
        for piece in attrs.split(separator: ",") {
            let entry = String(piece).trimmingBlanks()
            if entry.isEmpty || entry.hasPrefix("!") { continue }
            let parts = entry.split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            let attribute = parts[0]
            switch parts.count {
            case 1: result.append((attribute, "%{ldap:\(attribute)}"))
            case 2:
                if attribute.isEmpty { result.append((parts[1], "")) } else { result.append((parts[1], "%{ldap:\(attribute)}")) }
            default:
                // `attr=quota_rule=*:bytes=%$`: 2.4's own field, left out when the attribute is missing.
                if parts[1] == "quota_rule", !attribute.isEmpty, parts[2] == "*:bytes=%$" || parts[2] == "*:bytes=" {
                    result.append(("quota_storage_size", "%{ldap:\(attribute)}"))
                    continue
                }
                var template = parts[2]
                if !template.contains("%") { template += "%$" }
                template = template.replacingDollar(with: attribute.isEmpty ? "" : "%{ldap:\(attribute)}")
                result.append((parts[1], template))
            }
        }
        return result
    }
}

extension String {
    /// `%$` (2.3 LDAP attribute value) replaced by `replacement`.
    fileprivate func replacingDollar(with replacement: String) -> String {
        var out = ""
        var characters = Array(self)[...]
        while let character = characters.popFirst() {
            if character == "%", characters.first == "$" {
                characters.removeFirst()
                out += replacement
            } else {
                out.append(character)
            }
        }
        return out
    }
}
