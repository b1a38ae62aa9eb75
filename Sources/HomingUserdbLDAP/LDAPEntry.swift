/// One entry of a search result: its DN and its attributes. Attribute names compare without
/// regard to case, as LDAP's do.
public struct LDAPEntry: Sendable, Hashable {
    /// The entry's distinguished name.
    public var dn: String
    /// Values by lower-cased attribute name, in the order the server sent them.
    private var attributes: [String: [String]]

    /// Creates an entry; a name given twice (in any case) has its values appended.
    public init(dn: String, attributes: [(name: String, values: [String])]) {
        self.dn = dn
        var map: [String: [String]] = [:]
        for (name, values) in attributes { map[name.lowercased(), default: []] += values }
        self.attributes = map
    }

    /// The values of `name` (any case); empty when the entry has none.
    public func values(_ name: String) -> [String] {
        attributes[name.lowercased()] ?? []
    }
}
