/// Escaping of values substituted into LDAP strings, so that a recipient address can never
/// change the structure of a search filter or a DN.
enum LDAPEscaping {
    /// RFC 4515 section 3: in a filter value, `*`, `(`, `)`, `\` and NUL are written as `\2a`,
    /// `\28`, `\29`, `\5c` and `\00`. `*)(uid=*` becomes `\2a\29\28uid=\2a`.
    static func filterValue(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x2A || $0 == 0x28 || $0 == 0x29 || $0 == 0x5C || $0 == 0 }) else {
            return value
        }
        var out = ""
        out.reserveCapacity(value.utf8.count + 8)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "*": out += "\\2a"
            case "(": out += "\\28"
            case ")": out += "\\29"
            case "\\": out += "\\5c"
            case "\0": out += "\\00"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// RFC 4514 section 2.4: in an attribute value of a DN, `"`, `+`, `,`, `;`, `<`, `>`, `\`
    /// and `=` get a backslash, NUL becomes `\00`, and a leading space or `#` and a trailing space
    /// get a backslash.
    static func dnValue(_ value: String) -> String {
        let scalars = Array(value.unicodeScalars)
        var out = ""
        out.reserveCapacity(value.utf8.count + 8)
        for (index, scalar) in scalars.enumerated() {
            switch scalar {
            case "\"", "+", ",", ";", "<", ">", "\\", "=":
                out += "\\"
                out.unicodeScalars.append(scalar)
            case "\0":
                out += "\\00"
            case " " where index == 0 || index == scalars.count - 1:
                out += "\\ "
            case "#" where index == 0:
                out += "\\#"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
