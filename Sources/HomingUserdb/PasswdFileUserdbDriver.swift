import HomingConfig
import Logging

/// `driver = passwd-file`: users from a file in Dovecot's passwd-file format.
///
/// `args = [username_format=%u] [scheme=...] /path/to/file`. The path may hold `%` variables
/// (`/etc/homing/users.%d` for one file per domain); substituted values are escaped so they
/// cannot leave the directory. `username_format` (default `%u`) gives the name matched against
/// the file's first column. `scheme` is for passdbs and ignored.
///
/// As a passdb, a found user's fields are the extra fields without the `userdb_` prefix
/// (`proxy=y host=10.0.0.2`); the password, uid, gid and home columns are not passdb fields.
///
/// The file is read on first use and re-read when it changes (see ``PasswdFileStore``).
/// A fixed path must exist at start; if it disappears later lookups fail temporarily (Dovecot
/// would answer "unknown user" and bounce mail). A missing per-domain file means the domain
/// has no users: not found. A malformed line fails its user temporarily and is logged with
/// file and line; other users are unaffected. With duplicate names the first line wins.
public struct PasswdFileUserdbDriver: UserdbDriver {
    /// `passwd-file`.
    public var driverName: String { "passwd-file" }

    /// The parsed `args`.
    struct Arguments: Sendable, Hashable {
        var usernameFormat = "%u"
        var path = ""

        /// Parses `[username_format=...] [scheme=...] path`; everything after the options is
        /// the path (spaces included).
        static func parse(_ args: String, at location: ConfigLocation?) throws(ConfigError) -> Arguments {
            var result = Arguments()
            var rest = Substring(args)
            while true {
                rest = rest.drop { $0 == " " || $0 == "\t" }
                let token = rest.prefix { $0 != " " && $0 != "\t" }
                if token.hasPrefix("username_format=") {
                    result.usernameFormat = String(token.dropFirst("username_format=".count))
                } else if token.hasPrefix("scheme=") {
                    // The default password scheme: passdb only.
                } else {
                    break
                }
                rest = rest.dropFirst(token.count)
            }
            var path = rest
            while let last = path.last, last == " " || last == "\t" { path = path.dropLast() }
            result.path = String(path)
            if result.path.isEmpty {
                throw ConfigError(
                    "passwd-file userdb args need the path of the file (args = /etc/homing/users)", at: location)
            }
            if result.usernameFormat.isEmpty {
                throw ConfigError("passwd-file userdb args: username_format is empty", at: location)
            }
            if !result.path.hasPrefix("/") {
                if let first = result.path.split(separator: " ").first, first.contains("=") {
                    throw ConfigError(
                        "passwd-file userdb args: unknown option '\(first)' (known: username_format, scheme)",
                        at: location)
                }
                throw ConfigError("passwd-file userdb args: the path '\(result.path)' is not absolute", at: location)
            }
            return result
        }
    }

    let arguments: Arguments
    let syntax: VariableSyntax
    let pathHasVariables: Bool
    let store: PasswdFileStore
    let logger: Logger
    let role: DatabaseRole

    /// Creates the driver from a `userdb { }` block. A fixed path must name a readable file.
    public init(settings: UserdbSettings, context: UserdbDriverContext) throws(ConfigError) {
        var arguments = try Arguments.parse(settings.args, at: settings.location)
        // Dovecot 2.4 has no username_format: the file's first column is matched against %{user}.
        if settings.variableSyntax == .dovecot24 { arguments.usernameFormat = "%{user}" }
        try UserdbVariables.validate(arguments.path, setting: "passwd-file userdb path", at: settings.location,
                                     syntax: settings.variableSyntax)
        try UserdbVariables.validate(
            arguments.usernameFormat, setting: "passwd-file userdb username_format", at: settings.location,
            syntax: settings.variableSyntax)
        self.arguments = arguments
        self.syntax = settings.variableSyntax
        self.pathHasVariables = arguments.path.contains("%")
        self.logger = context.logger
        self.role = context.role
        self.store = PasswdFileStore(threadPool: context.threadPool, logger: context.logger)
        if !pathHasVariables {
            switch PasswdFileReader.identity(of: arguments.path) {
            case .identity:
                break
            case .missing:
                throw ConfigError("passwd-file userdb: \(arguments.path) does not exist", at: settings.location)
            case .failed(let reason):
                throw ConfigError("passwd-file userdb: \(reason)", at: settings.location)
            }
            if case .failed(let reason) = PasswdFileReader.read(arguments.path) {
                throw ConfigError("passwd-file userdb: \(reason)", at: settings.location)
            }
        }
    }

    /// Finds the line whose first field equals `username_format` expanded for the user.
    public func lookup(_ request: UserdbRequest) async -> UserdbResult {
        let variables = UserdbVariables(request: request, syntax: syntax)
        let name: String
        let path: String
        do {
            name = try variables.expand(arguments.usernameFormat)
            path = try variables.expand(arguments.path, escape: UserdbVariables.pathEscape)
        } catch {
            return .temporaryFailure(reason: "passwd-file userdb args: \(error)")
        }
        switch await store.contents(of: path) {
        case .missing:
            if pathHasVariables {
                logger.debug("passwd-file(\(request.user)): missing passwd file \(path): user not found")
                return .notFound
            }
            return .temporaryFailure(reason: "passwd-file \(path) does not exist")
        case .failed(let reason):
            return .temporaryFailure(reason: reason)
        case .contents(let contents):
            switch contents.records[name] {
            case nil:
                return .notFound
            case .malformed(let problem):
                return .temporaryFailure(reason: "malformed line for this user: \(problem)")
            case .entry(let entry):
                return record(for: entry, request: request, path: path)
            }
        }
    }

    private func record(for entry: PasswdFileEntry, request: UserdbRequest, path: String) -> UserdbResult {
        var record = UserRecord(user: request.user)
        if role == .userdb {
            record["uid"] = entry.uid
            record["gid"] = entry.gid
            record["home"] = entry.home
        }
        do {
            let extra = try UserdbVariables(request: request, home: entry.home, syntax: syntax)
                .expand(role == .passdb ? entry.passdbFields : entry.userdbFields)
            for field in extra { record[field.name] = field.value }
        } catch {
            return .temporaryFailure(reason: "\(path):\(entry.line): extra fields: \(error)")
        }
        return .found(record)
    }

    /// The file's user names in file order. Unsupported with a `%` variable path (which file?).
    public func iterateUsers() async throws(UserdbIterationError) -> [String] {
        if pathHasVariables { throw .unsupported(driver: driverName) }
        switch await store.contents(of: arguments.path) {
        case .contents(let contents): return contents.users
        case .missing: throw .failed(reason: "passwd-file \(arguments.path) does not exist")
        case .failed(let reason): throw .failed(reason: reason)
        }
    }
}
