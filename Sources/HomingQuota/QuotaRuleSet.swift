/// The quota rules in force for one user: `quota_rule`, `quota_rule2`, `quota_rule3`, ... read
/// in that order and stopping at the first missing number, as Dovecot does. A userdb field
/// with one of these names (usually `quota_rule`) replaces the configured value of that name.
///
/// Rules with the same mask merge (a later `*:messages=100` adds a message limit to `*:storage=1G`).
public struct QuotaRuleSet: Sendable, Hashable {
    /// The merged default rule (`*` or `?`), nil when no rule sets one (unlimited).
    public private(set) var defaultRule: QuotaRule?
    /// The mailbox rules in definition order; the first matching one applies.
    public private(set) var mailboxRules: [QuotaRule]

    /// Builds a set from parsed rules (in definition order).
    public init(rules: [QuotaRule]) {
        defaultRule = nil
        mailboxRules = []
        for rule in rules {
            if rule.isDefault {
                // "*" and "?" are one rule; "*" (forced limits) wins if either is used.
                var merged = defaultRule.map { $0.merged(with: rule) } ?? rule
                if defaultRule?.mask == "*" || rule.mask == "*" { merged.mask = "*" }
                defaultRule = merged
            } else if let index = mailboxRules.firstIndex(where: { $0.mask == rule.mask }) {
                mailboxRules[index] = mailboxRules[index].merged(with: rule)
            } else {
                mailboxRules.append(rule)
            }
        }
    }

    /// Reads `quota_rule`, `quota_rule2`, ... from the `plugin { }` settings, with `userFields`
    /// (the userdb's extra fields) replacing settings of the same name.
    public init(plugin: [String: String], userFields: [String: String] = [:]) throws(QuotaRuleError) {
        var rules: [QuotaRule] = []
        for name in Self.ruleSettingNames(plugin: plugin, userFields: userFields) {
            guard let value = userFields[name] ?? plugin[name] else { break }
            if value.isEmpty { continue }
            rules.append(try QuotaRule.parse(value, setting: name))
        }
        self.init(rules: rules)
    }

    /// `quota_rule`, `quota_rule2`, ... up to the first name neither dictionary holds.
    static func ruleSettingNames(plugin: [String: String], userFields: [String: String]) -> [String] {
        var names: [String] = []
        var number = 1
        while true {
            let name = number == 1 ? "quota_rule" : "quota_rule\(number)"
            guard userFields[name] != nil || plugin[name] != nil else { break }
            names.append(name)
            number += 1
        }
        return names
    }

    /// Whether the default rule is `*` (its limits are written into `maildirsize`) rather than
    /// `?` (an existing `maildirsize` file's limits are used instead).
    public var defaultRuleIsForced: Bool { defaultRule?.mask != "?" }

    /// The user's overall limits: the default rule (what `maildirsize` records).
    public var userLimits: QuotaLimits {
        guard let rule = defaultRule else { return .unlimited }
        if rule.ignore { return QuotaLimits(bytes: 0, messages: 0, ignored: true) }
        return QuotaLimits(bytes: rule.bytes?.resolved(against: 0) ?? 0,
                           messages: rule.messages?.resolved(against: 0) ?? 0)
    }

    /// The limits that apply when saving into `mailbox` (a mailbox name such as `INBOX`,
    /// `Trash`, `Lists/Work`): the default limits plus the first matching mailbox rule's.
    /// A user without default limits has no quota at all, whatever the mailbox rules say.
    public func limits(forMailbox mailbox: String) -> QuotaLimits {
        let base = userLimits
        if base.isUnlimited { return base }
        guard let rule = mailboxRules.first(where: { MailboxMask.matches(mailbox, mask: $0.mask) }) else {
            return base
        }
        if rule.ignore { return QuotaLimits(bytes: 0, messages: 0, ignored: true) }
        let extraBytes = rule.bytes?.resolved(against: base.bytes) ?? 0
        let extraMessages = rule.messages?.resolved(against: base.messages) ?? 0
        return QuotaLimits(bytes: base.bytes.addingReportingOverflow(extraBytes).partialValue,
                           messages: base.messages.addingReportingOverflow(extraMessages).partialValue)
    }

    /// Whether mail in `mailbox` is left out of the quota (`Junk:ignore`).
    public func isIgnored(mailbox: String) -> Bool {
        limits(forMailbox: mailbox).ignored
    }
}
