import HomingConfig
import HomingUserdb

/// A `user_attrs` / `iterate_attrs` list, as Dovecot 2.3 reads it: comma-separated entries,
/// spaces around them ignored, each one of
///
/// - `ldapAttr=field`: the field gets the attribute's value; left out when the entry has none.
/// - `ldapAttr`: the same with the field named like the attribute.
/// - `=field=template`: the field gets the template with `%` variables expanded, where
///   `%{ldap:attr}` is the attribute's value and `%{ldap:attr:default}` falls back to `default`;
///   a missing attribute expands to the default or to nothing, and the field is always set.
/// - `ldapAttr=field=template`: the template, with `%$` standing for `ldapAttr`'s value; left
///   out when the entry has no `ldapAttr`. A template without any `%` is a prefix:
///   `quotaBytes=quota_rule=*:bytes=` means `*:bytes=%$`.
/// - `=field`: the field, set to an empty value.
/// - `!ldapAttr`: the attribute is fetched (for `%{ldap:...}` elsewhere) but sets no field.
///
/// An attribute with several values gives its first one, with a warning (Dovecot does the same).
public struct LDAPAttributeMap: Sendable, Hashable {
    /// One entry of the list.
    public struct Field: Sendable, Hashable {
        /// The userdb field it sets (may hold `%` variables).
        public var name: String
        /// The LDAP attribute whose value it takes; empty for `=field=template`.
        public var ldapAttribute: String
        /// The template; nil when the attribute's value is used as it is.
        public var template: String?
        /// `!ldapAttr`: fetched, but sets nothing.
        public var skip: Bool
        /// The attributes named by `%{ldap:...}` in the template and the name.
        public var referencedAttributes: [String]
    }

    /// The entries in the order written.
    public var fields: [Field]
    /// The syntax of the templates (2.4 `fields { home = %{ldap:homeDirectory} }` or 2.3 `user_attrs`).
    public var syntax: VariableSyntax = .dovecot23

    /// Why a list could not be read.
    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// An entry with no field name (`homeDirectory=`, `=`).
        case emptyFieldName(entry: String)
        /// `@field=ldapAttr` (Dovecot's DN pointer sub-searches), which Homing does not do.
        case unsupportedDNReference(entry: String)

        public var description: String {
            switch self {
            case .emptyFieldName(let entry):
                return "Invalid attrs entry '\(entry)': no field name"
            case .unsupportedDNReference(let entry):
                return "Invalid attrs entry '\(entry)': @field=attr DN references are not supported by Homing"
            }
        }
    }

    /// Parses a list.
    public static func parse(_ text: String) throws(ParseError) -> LDAPAttributeMap {
        var fields: [Field] = []
        for piece in text.split(separator: ",") {
            let entry = piece.trimmingWhitespace()
            if entry.isEmpty { continue }
            var ldapAttribute: String
            var name: String
            var template: String?
            var skip = false
            if let equals = entry.firstIndex(of: "=") {
                if entry.first == "@" { throw .unsupportedDNReference(entry: entry) }
                ldapAttribute = String(entry[..<equals])
                name = String(entry[entry.index(after: equals)...])
                if let second = name.firstIndex(of: "=") {
                    var text = String(name[name.index(after: second)...])
                    name = String(name[..<second])
                    if !text.contains("%") { text += "%$" }
                    template = text
                } else if ldapAttribute.isEmpty {
                    template = ""
                }
            } else if entry.first == "!" {
                ldapAttribute = String(entry.dropFirst())
                name = ""
                skip = true
            } else {
                ldapAttribute = entry
                name = entry
            }
            ldapAttribute = ldapAttribute.trimmingWhitespace()
            name = name.trimmingWhitespace()
            if name.isEmpty, !skip { throw .emptyFieldName(entry: entry) }
            let referenced = Self.ldapReferences(in: (template ?? "") + name)
            fields.append(Field(name: name, ldapAttribute: ldapAttribute, template: template, skip: skip,
                                referencedAttributes: referenced))
        }
        return LDAPAttributeMap(fields: fields)
    }

    /// The attributes to ask the server for: every `ldapAttr` and every `%{ldap:attr}`, once.
    public var requestedAttributes: [String] {
        var seen: Set<String> = []
        var result: [String] = []
        for field in fields {
            for name in [field.ldapAttribute] + field.referencedAttributes where !name.isEmpty {
                if seen.insert(name.lowercased()).inserted { result.append(name) }
            }
        }
        return result
    }

    /// A Dovecot 2.4 `fields { NAME = TEMPLATE }` list: every field is a template, `%{ldap:attr}`
    /// an attribute's value (a missing attribute is an error unless `| default(...)` gives one).
    public static func fields24(_ entries: [(name: String, template: String)]) -> LDAPAttributeMap {
        var map = LDAPAttributeMap(fields: entries.map { entry in
            Field(name: entry.name, ldapAttribute: "", template: entry.template, skip: false,
                  referencedAttributes: ldapReferences(in: entry.template))
        })
        map.syntax = .dovecot24
        return map
    }

    /// Checks every template and `%` field name by expanding it with sample values.
    func validate() throws(VariableExpansionError) {
        var variables = UserdbVariables.sample(syntax: syntax)
        variables.values["$"] = "sample"
        let expander = variables.expander(ldap: nil)
        for field in fields {
            if let template = field.template { _ = try expander.expand(template) }
            if field.name.contains("%") { _ = try expander.expand(field.name) }
        }
    }

    /// The attribute names in `%{ldap:NAME}` and `%{ldap:NAME:default}` (with any modifiers
    /// between `%` and `{`).
    static func ldapReferences(in template: String) -> [String] {
        var names: [String] = []
        var rest = Substring(template)
        while let range = rest.range(of: "{ldap:") {
            let after = rest[range.upperBound...]
            let end = after.firstIndex(where: { $0 == ":" || $0 == "}" || $0 == " " || $0 == "|" || $0 == "\t" }) ?? after.endIndex
            let name = String(after[..<end])
            if !name.isEmpty { names.append(name) }
            rest = after[end...]
        }
        return names
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
