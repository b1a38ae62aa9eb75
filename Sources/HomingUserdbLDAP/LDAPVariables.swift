import HomingConfig
import HomingUserdb

extension UserdbVariables {
    /// An expander over these values where `%{ldap:attr}` asks `ldap` (nil: the entry has no
    /// such attribute); without an entry (checking templates at start) every attribute is
    /// `sample`.
    func expander(ldap: (@Sendable (String) -> String?)?) -> VariableExpander {
        expander(providers: ["ldap": ldap ?? { _ in "sample" }])
    }
}
