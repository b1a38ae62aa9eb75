/// Which `%` variable language a template is written in.
///
/// A configuration file has one syntax for all its templates: a file that starts with
/// `dovecot_config_version = 2.4.x` uses Dovecot 2.4's (`%{user | domain}`), any other file
/// Dovecot 2.3's (`%d`). The syntax travels with the settings (``HomingSettings/variableSyntax``,
/// ``UserdbSettings/variableSyntax``) to every place that expands a template, so that a 2.4
/// template is never read by the 2.3 engine or the reverse.
public enum VariableSyntax: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Dovecot 2.3: `%u`, `%Ld`, `%2.1Mn`, `%{name}`, `%{ldap:attr:default}`.
    case dovecot23 = "2.3"
    /// Dovecot 2.4: `%{user}`, `%{user | domain | lower}`, `%{ldap:attr | default('x')}`.
    case dovecot24 = "2.4"

    public var description: String { rawValue }
}

/// A template together with the syntax it is written in.
public struct VariableTemplate: Sendable, Hashable, CustomStringConvertible {
    /// The template as written in the configuration.
    public var text: String
    /// The language of its `%` variables.
    public var syntax: VariableSyntax

    public init(_ text: String, syntax: VariableSyntax) {
        self.text = text
        self.syntax = syntax
    }

    public var description: String { text }

    /// Expands the template with `values` and `providers` (see ``VariableExpander``).
    public func expand(
        values: [String: String], providers: [String: @Sendable (String) -> String?] = [:],
        escape: (String) -> String = { $0 }
    ) throws(VariableExpansionError) -> String {
        try VariableExpander(values: values, providers: providers, syntax: syntax).expand(text, escape: escape)
    }
}
