import HomingConfig

/// The configured `passdb { }` blocks, looked up for their fields only (LMTP proxying: no
/// password is checked), with Dovecot's passdb chain rules.
///
/// The walk is the userdb chain's (see ``UserdbChain``): each block's `skip` (`never`,
/// `authenticated`: skip once an earlier passdb found the user, `unauthenticated`: skip until
/// one has) and `result_success` (default `return-ok`), `result_failure` (`continue`) and
/// `result_internalfail` (`continue`); a passdb that found the user and lets the chain go on
/// keeps its fields for the next ones to add to. When the chain stops without the user found,
/// a temporary failure on the way makes the answer a temporary failure, else "not found".
/// `default_fields` and `override_fields` apply around each block's answer. A `deny = yes`
/// block that finds the user ends the lookup with "not found"; `master = yes` blocks serve
/// master logins only and are left out.
///
/// The answer carries no `password`, `nopassword` or `password_noscheme` field, nor the
/// `userdb_` prefetch fields some passdbs return. Temporary failures are logged at error
/// level with the user and the driver (`passdb sql(alice@example.com): ...`).
public final class PassdbChain: PassdbLookup {
    /// Fields dropped from every answer: password checking is no part of a lookup.
    static let passwordFields: Set<String> = ["password", "nopassword", "password_noscheme"]

    private let chain: UserdbChain

    /// Builds the chain from `settings.passdbs` (without the `master = yes` ones), creating
    /// each driver in passdb mode with `registry`.
    ///
    /// Throws a ``ConfigError`` at the block when a driver is unknown or a block's settings are
    /// invalid (a sql passdb without `password_query`, an ldap one without `pass_filter`...),
    /// and when there is no passdb to look up in (see ``isConfigured(in:)``).
    public init(
        settings: HomingSettings, registry: UserdbDriverRegistry = .builtIn, context: UserdbDriverContext
    ) throws(ConfigError) {
        guard Self.isConfigured(in: settings) else {
            throw ConfigError(
                "no passdb configured for lookups: add a passdb { driver = ... } block that is not master = yes (for "
                    + "example passdb { driver = sql  args = /etc/dovecot/dovecot-sql.conf.ext } with a password_query)")
        }
        chain = try UserdbChain(
            blocks: settings.passdbs.filter { !$0.master }, role: .passdb, settings: settings, registry: registry,
            context: context)
    }

    /// Whether `settings` has a passdb lookups can use (one that is not `master = yes`).
    public static func isConfigured(in settings: HomingSettings) -> Bool {
        settings.passdbs.contains { !$0.master }
    }

    /// The drivers' names in chain order.
    public var driverNames: [String] { chain.driverNames }

    /// Looks the recipient's passdb fields up through the chain.
    public func lookupPassdb(_ request: UserdbRequest) async -> UserdbResult {
        await lookupPassdb(request, trace: nil)
    }

    /// Looks up as ``lookupPassdb(_:)`` does, reporting each block passed over or asked to
    /// `trace`.
    public func lookupPassdb(_ request: UserdbRequest, trace: UserdbTrace?) async -> UserdbResult {
        switch await chain.walk(request, trace: trace) {
        case .found(let record, _):
            return .found(Self.passdbFields(of: record))
        case .notFound:
            return .notFound
        case .failed(let reason):
            return .temporaryFailure(reason: reason)
        }
    }

    /// `record` without password and `userdb_` fields.
    static func passdbFields(of record: UserRecord) -> UserRecord {
        UserRecord(
            user: record.user,
            fields: record.fields.filter { !passwordFields.contains($0.name) && !$0.name.hasPrefix("userdb_") })
    }

    /// Shuts every driver down, in chain order.
    public func shutdown() async {
        await chain.shutdown()
    }
}
