import HomingConfig

/// The `%` variables of one userdb lookup: `%u %n %d %s %l %r` from the request, `%h` the home
/// found so far (empty when none).
struct UserdbVariables: Sendable {
    var request: UserdbRequest
    var home: String?
    /// The syntax of the templates expanded (the userdb block's).
    var syntax: VariableSyntax

    init(request: UserdbRequest, home: String? = nil, syntax: VariableSyntax = .dovecot23) {
        self.request = request
        self.home = home
        self.syntax = syntax
    }

    /// The values by Dovecot's long variable names (`lip`/`rip` are 2.3's older aliases of
    /// `local_ip`/`remote_ip`), plus `pid` and `hostname`.
    var values: [String: String] {
        var values = Self.processValues
        values["user"] = request.user
        values["username"] = request.username
        values["domain"] = request.domain
        values["service"] = request.service
        values["local_ip"] = request.localIP ?? ""
        values["remote_ip"] = request.remoteIP ?? ""
        values["lip"] = request.localIP ?? ""
        values["rip"] = request.remoteIP ?? ""
        values["home"] = home ?? ""
        return values
    }

    /// `pid` and `hostname`, read once.
    private static let processValues = VariableExpander.processValues()

    /// Expands a template, passing each substituted value through `escape`.
    func expand(_ template: String, escape: (String) -> String = { $0 })
        throws(VariableExpansionError) -> String
    {
        try VariableExpander(values: values, syntax: syntax).expand(template, escape: escape)
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

    /// Checks a template at start by expanding it with sample values; an unknown variable or a
    /// syntax error becomes a ``ConfigError`` naming the setting.
    static func validate(_ template: String, setting: String, at location: ConfigLocation?,
                         syntax: VariableSyntax = .dovecot23)
        throws(ConfigError)
    {
        let sample = UserdbVariables(
            request: UserdbRequest(user: "user@example.com", localIP: "127.0.0.1", remoteIP: "127.0.0.1"),
            home: "/home/user", syntax: syntax)
        do {
            _ = try sample.expand(template)
        } catch {
            throw ConfigError("\(setting): \(error)", at: location)
        }
    }

    /// Checks each value of a field list at start.
    static func validate(_ fields: UserdbFieldTemplate, setting: String, at location: ConfigLocation?,
                         syntax: VariableSyntax = .dovecot23)
        throws(ConfigError)
    {
        for entry in fields.entries {
            try validate(entry.template, setting: "\(setting) \(entry.name)", at: location, syntax: syntax)
        }
    }
}
