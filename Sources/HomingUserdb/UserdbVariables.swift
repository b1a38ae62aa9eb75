import HomingConfig

/// The `%` variables of one userdb lookup, for every driver: `%u %n %d` (the name looked up),
/// `%{orig_user}`, `%{orig_username}`, `%{orig_domain}` (the name before
/// `auth_username_format`), `%s` (service), `%l %r` (`local_ip`/`lip`, `remote_ip`/`rip`), `%h`
/// (the home found so far, empty before), `%p` and `%{hostname}`. Drivers add their own
/// providers on top (`%{ldap:attr}`).
public struct UserdbVariables: Sendable {
    /// The values by Dovecot's long variable names.
    public var values: [String: String]
    /// The syntax of the templates expanded (the userdb block's: 2.3 `%d` or 2.4 `%{user | domain}`).
    public var syntax: VariableSyntax

    /// The variables of `request`, with `home` when one is known.
    public init(request: UserdbRequest, home: String? = nil, syntax: VariableSyntax = .dovecot23) {
        self.syntax = syntax
        var values = Self.processValues
        values["service"] = request.service
        values["local_ip"] = request.localIP ?? ""
        values["remote_ip"] = request.remoteIP ?? ""
        values["lip"] = request.localIP ?? ""
        values["rip"] = request.remoteIP ?? ""
        values["home"] = home ?? ""
        let original = request.originalUser ?? request.user
        let parts = VariableExpander.splitUser(original)
        values["orig_user"] = original
        values["orig_username"] = parts.username
        values["orig_domain"] = parts.domain
        self.values = values
        setUser(request.user)
    }

    /// Variables used to check templates at start.
    public static func sample(syntax: VariableSyntax = .dovecot23) -> UserdbVariables {
        UserdbVariables(
            request: UserdbRequest(user: "user@example.com", localIP: "127.0.0.1", remoteIP: "127.0.0.1"),
            home: "/home/user", syntax: syntax)
    }

    /// `pid` and `hostname`, read once.
    private static let processValues = VariableExpander.processValues()

    /// Replaces the user (a `user` field a driver returned), updating `%n` and `%d`.
    public mutating func setUser(_ user: String) {
        let parts = VariableExpander.splitUser(user)
        values["user"] = user
        values["username"] = parts.username
        values["domain"] = parts.domain
    }

    /// `%h`.
    public var home: String {
        get { values["home"] ?? "" }
        set { values["home"] = newValue }
    }

    /// An expander over these values and `providers` (`%{name:key}`).
    public func expander(providers: [String: @Sendable (String) -> String?] = [:]) -> VariableExpander {
        VariableExpander(values: values, providers: providers, syntax: syntax)
    }

    /// Expands a template, passing each substituted value through `escape`.
    public func expand(_ template: String, escape: (String) -> String = { $0 })
        throws(VariableExpansionError) -> String
    {
        try expander().expand(template, escape: escape)
    }

    /// Expands each value of a field list.
    func expand(_ fields: UserdbFieldTemplate) throws(VariableExpansionError) -> [UserdbField] {
        var expanded: [UserdbField] = []
        expanded.reserveCapacity(fields.entries.count)
        for entry in fields.entries {
            expanded.append(UserdbField(entry.name, try expand(entry.template)))
        }
        return expanded
    }

    /// Escapes a value substituted into a file path so a user name cannot leave the directory:
    /// `/` becomes `%2F`, NUL `%00`, and a value that is exactly `.` or `..` has its dots
    /// written `%2E`. (A per-domain file path `/etc/homing/%d/users` with the domain `..`
    /// would otherwise point one directory up.)
    static func pathEscape(_ value: String) -> String {
        if value == "." { return "%2E" }
        if value == ".." { return "%2E%2E" }
        guard value.contains(where: { $0 == "/" || $0 == "\0" }) else { return value }
        var escaped = ""
        for character in value {
            switch character {
            case "/": escaped += "%2F"
            case "\0": escaped += "%00"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Checks a template at start by expanding it with sample values (and `providers`); an
    /// unknown variable or a syntax error becomes a ``ConfigError`` naming the setting.
    public static func validate(
        _ template: String, setting: String, at location: ConfigLocation?, syntax: VariableSyntax = .dovecot23,
        providers: [String: @Sendable (String) -> String?] = [:]
    ) throws(ConfigError) {
        do {
            _ = try sample(syntax: syntax).expander(providers: providers).expand(template)
        } catch {
            throw ConfigError("\(setting): \(error)", at: location)
        }
    }

    /// Checks each value of a field list at start.
    static func validate(
        _ fields: UserdbFieldTemplate, setting: String, at location: ConfigLocation?, syntax: VariableSyntax = .dovecot23
    ) throws(ConfigError) {
        for entry in fields.entries {
            try validate(entry.template, setting: "\(setting) \(entry.name)", at: location, syntax: syntax)
        }
    }
}
