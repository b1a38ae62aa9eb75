/// The quota settings for one user, read from `plugin { }` with the userdb's fields on top:
/// the rules, `quota_grace` and `quota_max_mail_size`.
public struct QuotaConfiguration: Sendable, Hashable {
    /// `quota_rule`, `quota_rule2`, ...
    public var rules: QuotaRuleSet
    /// `quota_grace` (default `10%`): how far the last accepted message may take the user past
    /// the storage limit.
    public var grace: QuotaSize
    /// `quota_max_mail_size` in bytes (default 0: no limit).
    public var maxMailSize: Int64
    /// `quota_exceeded_message` (default `Quota exceeded (mailbox for user is full)`).
    public var exceededMessage: String
    /// `quota_warning`, `quota_warning2`, ...
    public var warnings: QuotaWarningSet
    /// How long to wait for the `maildirsize` lock another process holds, in seconds (nil:
    /// without a bound): `mail_max_lock_timeout`, resolved by the plugin.
    public var lockTimeout: Double?

    /// Dovecot's default `quota_exceeded_message`.
    public static let defaultExceededMessage = "Quota exceeded (mailbox for user is full)"

    public init(rules: QuotaRuleSet, grace: QuotaSize = .percent(10), maxMailSize: Int64 = 0,
                exceededMessage: String = QuotaConfiguration.defaultExceededMessage,
                warnings: QuotaWarningSet = QuotaWarningSet(rules: [])) {
        self.rules = rules
        self.grace = grace
        self.maxMailSize = maxMailSize
        self.exceededMessage = exceededMessage
        self.warnings = warnings
    }

    /// Reads the settings; `userFields` (userdb extra fields) replace `plugin` entries of the same name.
    public init(plugin: [String: String], userFields: [String: String] = [:]) throws(QuotaRuleError) {
        let rules = try QuotaRuleSet(plugin: plugin, userFields: userFields)
        let grace = try Self.parseGrace(userFields["quota_grace"] ?? plugin["quota_grace"])
        let maxSize = try Self.parseMaxMailSize(userFields["quota_max_mail_size"] ?? plugin["quota_max_mail_size"])
        let message = userFields["quota_exceeded_message"] ?? plugin["quota_exceeded_message"]
        let warnings = try QuotaWarningSet(plugin: plugin, userFields: userFields)
        self.init(rules: rules, grace: grace, maxMailSize: maxSize,
                  exceededMessage: message.flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultExceededMessage,
                  warnings: warnings)
    }

    /// Parses `quota_grace`: `10%%` / `10%` (of the default storage limit) or a size (`10M`,
    /// bytes without a unit). Nil or empty gives the default, 10%.
    public static func parseGrace(_ value: String?) throws(QuotaRuleError) -> QuotaSize {
        guard let value, !value.isEmpty else { return .percent(10) }
        let size: QuotaSize
        do {
            size = try QuotaSize.parse(value, defaultMultiplier: 1)
        } catch {
            throw QuotaRuleError(setting: "quota_grace", value: value, reason: error.reason)
        }
        switch size {
        case .absolute(let amount) where amount < 0, .percent(let amount) where amount < 0:
            throw QuotaRuleError(setting: "quota_grace", value: value, reason: "the grace cannot be negative")
        default:
            return size
        }
    }

    /// Parses `quota_max_mail_size`: a size (`100M`, bytes without a unit); 0, nil or empty for no limit.
    public static func parseMaxMailSize(_ value: String?) throws(QuotaRuleError) -> Int64 {
        guard let value, !value.isEmpty else { return 0 }
        let size: QuotaSize
        do {
            size = try QuotaSize.parse(value, defaultMultiplier: 1)
        } catch {
            throw QuotaRuleError(setting: "quota_max_mail_size", value: value, reason: error.reason)
        }
        guard case .absolute(let amount) = size, amount >= 0 else {
            throw QuotaRuleError(setting: "quota_max_mail_size", value: value,
                                 reason: "expected a size such as '100M', not a percentage or a negative number")
        }
        return amount
    }

    /// The grace in bytes: a percentage is of the user's default storage limit.
    public var graceBytes: Int64 {
        max(0, grace.resolved(against: rules.userLimits.bytes))
    }

    /// Decides a delivery of `messageSize` bytes into `mailbox` for a user with `usage`.
    public func decide(messageSize: Int64, usage: QuotaUsage, mailbox: String = "INBOX") -> QuotaDecision {
        QuotaDecision.decide(messageSize: messageSize, usage: usage, limits: rules.limits(forMailbox: mailbox),
                             graceBytes: graceBytes, maxMailSize: maxMailSize)
    }

    /// The RCPT-time check (`lmtp_rcpt_check_quota = yes`): refuses only a user already over quota.
    public func rcptCheck(usage: QuotaUsage, mailbox: String = "INBOX") -> QuotaDecision {
        QuotaDecision.decide(messageSize: 0, usage: usage, limits: rules.limits(forMailbox: mailbox),
                             graceBytes: graceBytes, maxMailSize: 0)
    }
}
