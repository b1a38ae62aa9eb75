import HomingConfig

/// What a userdb lookup is asked: the user name after `auth_username_format`, and the
/// connection facts Dovecot offers as `%` variables.
public struct UserdbRequest: Sendable, Hashable {
    /// The name to look up (`%u`): for LMTP, the recipient with its detail removed and
    /// `auth_username_format` applied.
    public var user: String
    /// `%s`: the service asking (`lmtp`, `doveadm`).
    public var service: String
    /// `%l` and `%r`: local and remote IP of the LMTP connection, when known.
    public var localIP: String?
    public var remoteIP: String?
    /// `%{orig_user}`: the name before `auth_username_format` was applied, when it differs.
    public var originalUser: String?

    public init(
        user: String, service: String = "lmtp", localIP: String? = nil, remoteIP: String? = nil,
        originalUser: String? = nil
    ) {
        self.user = user
        self.service = service
        self.localIP = localIP
        self.remoteIP = remoteIP
        self.originalUser = originalUser
    }

    /// `%n`: the part before the last `@`, or the whole name.
    public var username: String {
        VariableExpander.splitUser(user).username
    }

    /// `%d`: the part after the last `@`, or empty.
    public var domain: String {
        VariableExpander.splitUser(user).domain
    }
}

/// One userdb field, as Dovecot names it (`uid`, `gid`, `home`, `mail`, `quota_rule`, or any extra).
public struct UserdbField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A found user: the (possibly changed) user name and its fields in the order the userdb gave them.
public struct UserRecord: Sendable, Hashable {
    /// The user name the userdb returned (`user` field), or the looked-up name.
    public var user: String
    /// Fields other than `user`, in order; a name appears at most once (a later set replaces).
    public private(set) var fields: [UserdbField]

    public init(user: String, fields: [UserdbField] = []) {
        self.user = user
        self.fields = []
        for field in fields { self[field.name] = field.value }
    }

    /// Reads or sets a field by name; setting `nil` removes it. Setting `user` changes `user`.
    public subscript(name: String) -> String? {
        get {
            if name == "user" { return user }
            return fields.first { $0.name == name }?.value
        }
        set {
            if name == "user" {
                if let newValue { user = newValue }
                return
            }
            if let index = fields.firstIndex(where: { $0.name == name }) {
                if let newValue { fields[index].value = newValue } else { fields.remove(at: index) }
            } else if let newValue {
                fields.append(UserdbField(name, newValue))
            }
        }
    }

    public var uid: String? { self["uid"] }
    public var gid: String? { self["gid"] }
    public var home: String? { self["home"] }
    public var mail: String? { self["mail"] }
    public var quotaRule: String? { self["quota_rule"] }
}

/// The answer of a lookup: never an optional plus an error.
public enum UserdbResult: Sendable, Hashable {
    /// The user exists; these are its fields.
    case found(UserRecord)
    /// The userdb answered, and the user does not exist (LMTP 550 5.1.1).
    case notFound
    /// The userdb could not answer (server down, timeout, a bad row...). Retryable:
    /// LMTP 451 4.3.0, `homing user` exit 75. The reason is logged, never shown to the client.
    case temporaryFailure(reason: String)
}

/// Why listing users failed.
public enum UserdbIterationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The driver cannot list users (static, passwd with `allow_all_users`).
    case unsupported(driver: String)
    /// The back end failed while listing.
    case failed(reason: String)

    public var description: String {
        switch self {
        case .unsupported(let driver): return "userdb \(driver) cannot list users"
        case .failed(let reason): return "user listing failed: \(reason)"
        }
    }
}

/// A userdb back end. Implementations never block the calling thread or an event loop:
/// blocking work (file reads, getpwnam_r, libpq, libldap) runs on a thread pool.
public protocol UserdbDriver: Sendable {
    /// The driver's name as configured (`static`, `passwd-file`, `sql`, ...), for messages.
    var driverName: String { get }
    /// Looks one user up.
    func lookup(_ request: UserdbRequest) async -> UserdbResult
    /// Lists every user name, in the back end's order. Throws `.unsupported` where the driver cannot.
    func iterateUsers() async throws(UserdbIterationError) -> [String]
    /// Releases connections and threads. Called once at shutdown.
    func shutdown() async
}

extension UserdbDriver {
    public func shutdown() async {}
}
