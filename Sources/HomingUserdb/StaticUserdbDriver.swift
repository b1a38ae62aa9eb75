import HomingConfig
import Logging

/// `driver = static`: every user exists, with fields from a template.
///
/// `args = uid=vmail gid=vmail home=/var/vmail/%d/%n [allow_all_users=yes]`: each `key=value`
/// becomes a field, `%` variables expanded per lookup. `uid`/`gid` names without variables
/// are resolved when the driver is created, so a missing system user stops start-up.
/// Dovecot would check that a user exists with a passdb lookup unless `allow_all_users=yes`;
/// Homing does not check users with a passdb, so it warns once at start that every address is
/// accepted.
///
/// As a passdb (`passdb { driver = static  args = proxy=y host=10.0.0.2 nopassword=y }`), the
/// args are the passdb fields, `%` variables expanded per lookup; no name is resolved and
/// nothing is warned about (the chain drops `password`/`nopassword`).
public struct StaticUserdbDriver: UserdbDriver {
    /// `static`.
    public var driverName: String { "static" }

    /// The fields each lookup returns, `%` variables unexpanded.
    let fields: UserdbFieldTemplate
    let syntax: VariableSyntax
    /// `allow_all_users=yes` was given.
    public let allowAllUsers: Bool

    /// Creates the driver from a `userdb { }` block; bad `args` are a ``ConfigError`` there.
    public init(settings: UserdbSettings, context: UserdbDriverContext) throws(ConfigError) {
        let location = settings.location
        let parsed: UserdbFieldTemplate
        do {
            parsed = try UserdbFieldTemplate.parse(settings.args)
        } catch {
            throw ConfigError("static \(context.role.rawValue) args: \(error)", at: location)
        }
        if context.role == .passdb {
            try UserdbVariables.validate(parsed, setting: "static passdb args", at: location, syntax: settings.variableSyntax)
            self.fields = parsed
            self.syntax = settings.variableSyntax
            self.allowAllUsers = true
            return
        }
        var allowAll = false
        var fields = UserdbFieldTemplate()
        for var entry in parsed.entries {
            switch entry.name {
            case "allow_all_users":
                switch entry.template.lowercased() {
                case "yes", "": allowAll = true
                case "no": allowAll = false
                default:
                    throw ConfigError(
                        "static userdb args: allow_all_users must be yes or no, not '\(entry.template)'", at: location)
                }
                continue
            case "uid", "gid":
                if !entry.template.contains("%") {
                    entry.template = try Self.resolveAtStart(entry.template, field: entry.name, at: location)
                }
            case "password", "nopassword":
                // passdb fields of `passdb { driver = static }`; meaningless in a userdb.
                continue
            default:
                break
            }
            fields.entries.append(entry)
        }
        try UserdbVariables.validate(fields, setting: "static userdb args", at: location, syntax: settings.variableSyntax)
        self.fields = fields
        self.syntax = settings.variableSyntax
        self.allowAllUsers = allowAll
        if !allowAll {
            context.logger.warning(
                """
                userdb static: without allow_all_users=yes Dovecot verifies each user with a passdb lookup, \
                but Homing does not verify users with a passdb: every address will be accepted as an existing user \
                (add allow_all_users=yes to args to silence this warning)
                """,
                metadata: location.map { ["config": "\($0)"] })
        }
    }

    /// Resolves a `uid`/`gid` name at start (blocking, acceptable before serving).
    private static func resolveAtStart(_ value: String, field: String, at location: ConfigLocation?) throws(ConfigError) -> String {
        let kind: UserdbIDResolver.Kind = field == "uid" ? .uid : .gid
        switch UserdbIDResolver.resolve(value, as: kind) {
        case .number(let number):
            return String(number)
        case .unknownName:
            let database = kind == .uid ? "user" : "group"
            throw ConfigError(
                "static userdb args: \(field)=\(value): no system \(database) named '\(value)'", at: location)
        case .invalid:
            throw ConfigError(
                "static userdb args: \(field)=\(value) is neither a number nor a valid name", at: location)
        case .failed(let message):
            throw ConfigError("static userdb args: \(field)=\(value): \(message)", at: location)
        }
    }

    /// Always finds the user, with the args' fields expanded for it.
    public func lookup(_ request: UserdbRequest) async -> UserdbResult {
        do {
            let expanded = try UserdbVariables(request: request, syntax: syntax).expand(fields)
            return .found(UserRecord(user: request.user, fields: expanded))
        } catch {
            return .temporaryFailure(reason: "static userdb args: \(error)")
        }
    }

    /// A static userdb has no list of users.
    public func iterateUsers() async throws(UserdbIterationError) -> [String] {
        throw .unsupported(driver: driverName)
    }
}
