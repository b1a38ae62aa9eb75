import HomingConfig
import HomingUserdb

extension LDAPAttributeMap {
    /// What a list gives for one entry: the fields in order, and warnings for attributes that
    /// had several values (the first one is used).
    struct Mapped: Sendable, Hashable {
        var fields: [UserdbField] = []
        var warnings: [String] = []
    }

    /// Maps `entry` to userdb fields. `variables` are the lookup's `%` variables; a `user` field
    /// changes `%u %n %d` and a `home` field `%h` for the fields after it.
    func map(_ entry: LDAPEntry, variables start: UserdbVariables) throws(VariableExpansionError) -> Mapped {
        var mapped = Mapped()
        var variables = start
        var warned: Set<String> = []
        let ldap: @Sendable (String) -> String? = { entry.values($0).first }
        func warnIfMultiple(_ attribute: String) {
            let values = entry.values(attribute)
            if values.count > 1, warned.insert(attribute.lowercased()).inserted {
                mapped.warnings.append("Multiple values found for '\(attribute)', using value '\(values[0])'")
            }
        }
        for field in fields where !field.skip {
            let values = field.ldapAttribute.isEmpty ? [] : entry.values(field.ldapAttribute)
            let value: String
            if let template = field.template {
                if !field.ldapAttribute.isEmpty, values.isEmpty { continue }
                if !field.ldapAttribute.isEmpty { warnIfMultiple(field.ldapAttribute) }
                field.referencedAttributes.forEach(warnIfMultiple)
                var local = variables
                local.values["$"] = values.first ?? ""
                local.syntax = syntax
                value = try local.expander(ldap: ldap).expand(template)
            } else {
                guard let first = values.first else { continue }
                warnIfMultiple(field.ldapAttribute)
                value = first
            }
            var name = field.name
            if name.contains("%") {
                variables.syntax = syntax
                name = try variables.expander(ldap: ldap).expand(name)
            }
            if name.isEmpty { continue }
            if let index = mapped.fields.firstIndex(where: { $0.name == name }) {
                mapped.fields[index].value = value
            } else {
                mapped.fields.append(UserdbField(name, value))
            }
            if name == "user" { variables.setUser(value) }
            if name == "home" { variables.home = value }
        }
        return mapped
    }

    /// The user names an entry gives for `iterate_attrs`: every value of a plain `attr=user`
    /// mapping (a multi-valued attribute lists several users, as in Dovecot), or the expanded
    /// template of `=user=...`.
    func userNames(_ entry: LDAPEntry, variables: UserdbVariables) throws(VariableExpansionError) -> [String] {
        var names: [String] = []
        let ldap: @Sendable (String) -> String? = { entry.values($0).first }
        for field in fields where !field.skip && field.name == "user" {
            let values = field.ldapAttribute.isEmpty ? [] : entry.values(field.ldapAttribute)
            if let template = field.template {
                if !field.ldapAttribute.isEmpty, values.isEmpty { continue }
                var local = variables
                local.values["$"] = values.first ?? ""
                local.syntax = syntax
                names.append(try local.expander(ldap: ldap).expand(template))
            } else {
                names += values
            }
        }
        return names
    }
}
