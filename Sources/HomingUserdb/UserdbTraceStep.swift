import HomingConfig

/// One step of a lookup through the ``UserdbChain``, reported to a trace (`homing explain`):
/// which `userdb { }` block was passed over and why, what each one that was asked answered, and
/// the rule that then applied. Tracing only observes: the lookup is the one delivery makes.
public struct UserdbTraceStep: Sendable, Hashable {
    /// What happened at this block.
    public enum Event: Sendable, Hashable {
        /// Not asked: its `skip` passes over it in the chain's state.
        case skipped(skip: UserdbSkip, userFoundSoFar: Bool)
        /// Asked; it knows the user and answered with these fields (after `default_fields` and
        /// `override_fields`).
        case found(user: String, fields: [UserdbField])
        /// Asked; it does not know the user.
        case notFound
        /// Asked; it could not answer (down, timed out, a template that does not expand).
        case failed(reason: String)
    }

    /// The block's position in the configuration, from 1.
    public var index: Int
    /// Its driver (`passwd-file`, `sql`...).
    public var driver: String
    /// Its name (`userdb users { }`), when it has one.
    public var name: String?
    /// Where the block is written.
    public var location: ConfigLocation?
    public var event: Event
    /// For an asked block: the `result_*` rule that applied and whether the chain went on.
    public var rule: UserdbResultRule?
    public var chainGoesOn: Bool

    public init(
        index: Int, driver: String, name: String?, location: ConfigLocation?, event: Event, rule: UserdbResultRule?,
        chainGoesOn: Bool
    ) {
        self.index = index
        self.driver = driver
        self.name = name
        self.location = location
        self.event = event
        self.rule = rule
        self.chainGoesOn = chainGoesOn
    }
}

/// Receives the steps of a traced lookup, in order.
public typealias UserdbTrace = @Sendable (UserdbTraceStep) -> Void
