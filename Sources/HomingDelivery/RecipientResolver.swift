import Glibc
import HomingConfig
import HomingMaildir
import HomingUserdb
import Logging

/// A step of resolving a recipient, for a trace of ``RecipientResolver/resolve(address:localIP:remoteIP:trace:)``.
public enum ResolutionStep: Sendable, Hashable {
    /// The address without its detail (`recipient_delimiter`), and the detail.
    case split(user: String, detail: String?)
    /// The name asked of the userdb, after `auth_username_translation`, `auth_username_chars`
    /// and `auth_username_format`.
    case lookupName(String)
    /// One `userdb { }` block.
    case userdb(UserdbTraceStep)
}

/// Receives the steps of a traced resolution, in order.
public typealias ResolutionTrace = @Sendable (ResolutionStep) -> Void

/// Turns a recipient address into a `DeliveryUser`: detail split, `auth_username_translation`,
/// `auth_username_chars` and `auth_username_format` (``lookupName(for:)``), the userdb lookup,
/// then the checks that keep delivery safe (uid ranges, never root, values that would escape the
/// mail tree, homes and mail roots in system directories (``SystemDirectoryCheck``)) and the mail
/// location.
public struct RecipientResolver: Sendable {
    /// Why a recipient cannot be delivered to.
    public enum Failure: Error, Sendable, Hashable {
        /// The userdb answered that the user does not exist (550 5.1.1). `lookedUp` is the
        /// address without its detail, case as sent.
        case notFound(lookedUp: String)
        /// The address itself is unusable (a character `auth_username_chars` does not permit, a
        /// `/` in the user name...): refused like an unknown user, with the reason logged.
        case invalidAddress(lookedUp: String, reason: String)
        /// The userdb could not answer (down, timed out): retry later.
        case userdbUnavailable(reason: String)
        /// The userdb's answer (or the configuration) cannot be used for delivery: a uid not
        /// permitted, a relative home, a mail location that does not parse. Retryable, since an
        /// administrator can fix it; the reason is logged.
        case unusable(reason: String)
        /// This process may not act as the user: it is not root and the user's uid or gid is
        /// not its own. Retryable for delivery (451) like ``unusable(reason:)``; a command run
        /// by hand reports it as a permission problem.
        case notPermitted(reason: String)

        /// The delivery outcome this failure means.
        public var deliveryFailure: DeliveryFailure {
            switch self {
            case .notFound(let lookedUp), .invalidAddress(let lookedUp, _): return .refused(.noSuchUser(lookedUp: lookedUp))
            case .userdbUnavailable: return .deferred(.userdbUnavailable)
            case .unusable, .notPermitted: return .deferred(.unusableUser)
            }
        }

        /// Why a lookup failed temporarily, `nil` for a user that does not exist.
        public var temporaryReason: String? {
            switch self {
            case .notFound, .invalidAddress: return nil
            case .userdbUnavailable(let reason), .unusable(let reason), .notPermitted(let reason): return reason
            }
        }
    }

    public let settings: HomingSettings
    private let users: any UserLookup
    private let usernameFilter: UsernameFilter
    private let processUID: UInt32
    private let defaultUID: UInt32?
    private let defaultGID: UInt32?

    /// Resolves `mail_uid` and `mail_gid` now, so a wrong name stops start-up.
    public init(settings: HomingSettings, users: any UserLookup, processUID: UInt32 = geteuid())
        throws(ConfigError)
    {
        self.settings = settings
        self.users = users
        self.usernameFilter = UsernameFilter(settings: settings)
        self.processUID = processUID
        if let name = settings.mailUID, !name.isEmpty {
            guard let uid = SystemAccounts.uid(name) else {
                throw ConfigError("mail_uid: unknown user '\(name)'")
            }
            defaultUID = uid
        } else {
            defaultUID = nil
        }
        if let name = settings.mailGID, !name.isEmpty {
            guard let gid = SystemAccounts.gid(name) else {
                throw ConfigError("mail_gid: unknown group '\(name)'")
            }
            defaultGID = gid
        } else {
            defaultGID = nil
        }
    }

    /// The name the userdb is asked for, in Dovecot's order: `auth_username_translation`, the
    /// `auth_username_chars` check (a name with another character does not exist), then
    /// `auth_username_format`. An empty result does not exist either.
    public func lookupName(for user: String) throws(Failure) -> String {
        let translated: String
        switch usernameFilter.apply(user) {
        case .success(let name): translated = name
        case .failure(let refusal): throw .invalidAddress(lookedUp: user, reason: "\(refusal)")
        }
        let expanded: String
        do {
            expanded = try VariableExpander(
                values: VariableExpander.userValues(user: translated), syntax: settings.variableSyntax)
                .expand(settings.authUsernameFormat)
        } catch {
            throw .unusable(reason: "auth_username_format '\(settings.authUsernameFormat)': \(error)")
        }
        if expanded.isEmpty { throw .invalidAddress(lookedUp: user, reason: "Empty username") }
        return expanded
    }

    /// Resolves an LMTP recipient (detail split by `recipient_delimiter`). `trace`, when
    /// given, is told how the address became the name looked up and what each userdb answered
    /// (`homing explain`); the resolution is the same either way.
    public func resolve(
        address: String, localIP: String? = nil, remoteIP: String? = nil, trace: ResolutionTrace? = nil
    ) async throws(Failure) -> DeliveryUser {
        let split = RecipientAddress(address, delimiters: settings.recipientDelimiter)
        trace?(.split(user: split.user, detail: split.detail))
        if let bad = PathComponentCheck.problem(username: split.username, domain: split.domain) {
            throw .invalidAddress(lookedUp: split.user, reason: "\(bad.part) '\(bad.value)' \(bad.problem)")
        }
        let name = try lookupName(for: split.user)
        trace?(.lookupName(name))
        let request = UserdbRequest(
            user: name, service: "lmtp", localIP: localIP, remoteIP: remoteIP, originalUser: split.user)
        var userdbTrace: UserdbTrace?
        if let trace {
            userdbTrace = { @Sendable step in trace(.userdb(step)) }
        }
        switch await users.lookup(request, trace: userdbTrace) {
        case .notFound:
            throw .notFound(lookedUp: split.user)
        case .temporaryFailure(let reason):
            throw .userdbUnavailable(reason: reason)
        case .found(let record):
            return try prepare(record, detail: split.detail, service: "lmtp")
        }
    }

    /// Looks a name up as `homing user` does: `auth_username_format` applied, no detail split.
    public func lookup(_ user: String, service: String = "doveadm") async throws(Failure) -> UserRecord {
        let name = try lookupName(for: user)
        switch await users.lookup(UserdbRequest(user: name, service: service, originalUser: user)) {
        case .notFound: throw .notFound(lookedUp: user)
        case .temporaryFailure(let reason): throw .userdbUnavailable(reason: reason)
        case .found(let record): return record
        }
    }

    /// Checks a found user and works out identity and mail location.
    public func prepare(_ record: UserRecord, detail: String?, service: String) throws(Failure) -> DeliveryUser {
        let user = record.user
        let request = UserdbRequest(user: user, service: service)
        if let bad = PathComponentCheck.problem(username: request.username, domain: request.domain) {
            throw .unusable(reason: "user \(user): userdb returned a \(bad.part) that \(bad.problem)")
        }
        let identity = try identity(for: record)
        let home = record.home
        if let home, !home.hasPrefix("/") {
            throw .unusable(reason: "user \(user): home '\(home)' is not an absolute path")
        }
        if let home, let problem = SystemDirectoryCheck.problem(with: home) {
            throw .unusable(reason: "user \(user): home '\(home)' \(problem): Homing does not deliver there; fix the userdb's home")
        }
        let template = record.mail ?? settings.mailLocation
        if template.isEmpty {
            throw .unusable(
                reason: "user \(user): no mail location: set mail_location or return 'mail' from the userdb")
        }
        let expanded: String
        do {
            expanded = try Self.expandMailLocation(
                template, user: user, home: home, service: service, syntax: settings.variableSyntax)
        } catch {
            throw .unusable(reason: "user \(user): mail location '\(template)': \(error)")
        }
        let location: MailLocation
        do {
            location = try MailLocation.parse(expanded, home: home)
        } catch {
            throw .unusable(reason: "user \(user): mail location '\(expanded)': \(error)")
        }
        for (what, path) in [("mail root", location.root), ("INBOX path", location.inboxPath)] {
            if let path, let problem = SystemDirectoryCheck.problem(with: path) {
                throw .unusable(
                    reason: "user \(user): \(what) '\(path)' \(problem): Homing does not deliver there; fix the mail location")
            }
        }
        var mailbox = "INBOX"
        if settings.lmtpSaveToDetailMailbox, let detail, !detail.isEmpty {
            mailbox = detail
        }
        return DeliveryUser(
            user: user, record: record, identity: identity, home: home, mailLocationText: expanded,
            mailLocation: location, detail: detail, mailbox: mailbox)
    }

    /// `mail_location` (or a userdb `mail`) with a user's `%` variables expanded; `~` is kept.
    public static func expandMailLocation(
        _ template: String, user: String, home: String?, service: String, syntax: VariableSyntax = .dovecot23
    ) throws(VariableExpansionError) -> String {
        var values = VariableExpander.userValues(user: user, service: service)
        if let home { values["home"] = home }
        return try VariableExpander(values: values, syntax: syntax).expand(template)
    }

    private func identity(for record: UserRecord) throws(Failure) -> FilesystemIdentity? {
        let user = record.user
        var uid = defaultUID
        if let value = record.uid {
            guard let number = UInt32(value) else {
                throw .unusable(reason: "user \(user): uid '\(value)' is not a number")
            }
            uid = number
        }
        var gid = defaultGID
        if let value = record.gid {
            guard let number = UInt32(value) else {
                throw .unusable(reason: "user \(user): gid '\(value)' is not a number")
            }
            gid = number
        }
        guard processUID == 0 else {
            // Not root: Homing can only write as itself.
            if let uid, uid != processUID {
                throw .notPermitted(
                    reason: "user \(user): cannot deliver as uid \(uid): Homing runs as uid \(processUID), not root")
            }
            return nil
        }
        guard let uid else {
            throw .unusable(reason: "user \(user): no uid: return one from the userdb or set mail_uid")
        }
        guard let gid else {
            throw .unusable(reason: "user \(user): no gid: return one from the userdb or set mail_gid")
        }
        if uid == 0 {
            throw .unusable(reason: "user \(user): mail delivery as root (uid 0) is not permitted")
        }
        if gid == 0 {
            throw .unusable(reason: "user \(user): mail delivery with gid 0 is not permitted")
        }
        if uid < settings.firstValidUID || (settings.lastValidUID != 0 && uid > settings.lastValidUID) {
            throw .unusable(
                reason: "user \(user): uid \(uid) is not permitted (see first_valid_uid/last_valid_uid)")
        }
        if gid < settings.firstValidGID || (settings.lastValidGID != 0 && gid > settings.lastValidGID) {
            throw .unusable(
                reason: "user \(user): gid \(gid) is not permitted (see first_valid_gid/last_valid_gid)")
        }
        return FilesystemIdentity(uid: uid, gid: gid)
    }
}
