/// What one userdb answered, without its fields.
enum UserdbOutcome: Sendable, Hashable {
    case found
    case notFound
    case internalFailure
}

/// The chain's bookkeeping between userdbs, as Dovecot keeps it: whether the user is known to
/// exist so far, and whether some userdb failed internally. Pure: ``UserdbChain`` drives it.
struct UserdbChainProgress: Sendable, Hashable {
    /// Dovecot's "user existence state"; starts as not found.
    private(set) var userExists = false
    /// Some userdb failed internally and the chain went on past it.
    private(set) var sawInternalFailure = false
    /// passdb chains: Dovecot's "authenticated" state, which a passdb's `skip` tests: set when
    /// one found the user and the chain went on (`continue`), or by `continue-ok`.
    private(set) var authenticated = false

    /// Whether a userdb with this `skip` is passed over in the current state. For a passdb
    /// (`passdb`), `found` / `notFound` stand for `authenticated` / `unauthenticated`.
    func skips(_ skip: UserdbSkip, passdb: Bool = false) -> Bool {
        let state = passdb ? authenticated : userExists
        switch skip {
        case .never: return false
        case .found: return state
        case .notFound: return !state
        }
    }

    /// Records an answer and the rule that applies to it; returns whether the chain goes on
    /// (if a further userdb is left to try).
    mutating func record(_ outcome: UserdbOutcome, rule: UserdbResultRule) -> Bool {
        switch rule {
        case .returnOK, .continueOK: userExists = true
        case .returnFail, .continueFail: userExists = false
        case .return, .continue: break
        }
        if rule == .continueOK || (rule == .continue && outcome == .found) { authenticated = true }
        return rule.continues
    }

    /// Notes that the chain goes on past a userdb that answered `outcome`.
    mutating func movingOn(after outcome: UserdbOutcome) {
        if outcome == .internalFailure { sawInternalFailure = true }
    }

    /// The chain's verdict once it stops after `lastOutcome` (nil when every userdb was skipped):
    /// found if the existence state says so, else a temporary failure if any userdb failed
    /// internally (the user might have been there), else not found.
    func verdict(lastOutcome: UserdbOutcome?) -> UserdbOutcome {
        if userExists { return .found }
        if sawInternalFailure || lastOutcome == .internalFailure { return .internalFailure }
        return .notFound
    }
}
