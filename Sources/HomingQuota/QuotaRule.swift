/// One `quota_rule` value, Dovecot 2.3 syntax: `<mailbox mask>:<limits>`.
///
/// - `*:storage=1G` — the default rule (the user's whole quota). `storage=` is in kilobytes
///   unless a unit follows (`storage=1024` is 1 MiB); `bytes=` is in bytes; `messages=` counts
///   messages. Several limits join with `:` (`*:storage=1G:messages=10000`).
/// - `?:storage=1G` — the default rule, but an existing `maildirsize` file's limits win.
/// - `Trash:storage=+100M`, `Trash:storage=+10%` — a mailbox rule, added to the default rule's
///   limits when saving into a matching mailbox (`-` lowers it; a value without a sign is the
///   obsolete spelling of `+`). Masks take `*` and `?` wildcards.
/// - `Junk:ignore` — mail in that mailbox is not limited and not counted; `*:ignore` — no quota.
/// - `*:storage=0` (or no limit at all) — unlimited; `noquota` is read as `*:ignore`.
/// - `*:backend=...` is refused: the Maildir++ back end takes no backend rules.
public struct QuotaRule: Sendable, Hashable {
    /// The mailbox mask: `*` or `?` for the default rule, else a mailbox name or wildcard.
    public var mask: String
    /// Whether the mask is `*` or `?` (the default rule).
    public var isDefault: Bool { mask == "*" || mask == "?" }
    /// `ignore`: the mailbox (or, for the default rule, the whole user) has no quota.
    public var ignore: Bool
    /// The storage limit, nil when the rule does not set one.
    public var bytes: QuotaSize?
    /// The message count limit, nil when the rule does not set one.
    public var messages: QuotaSize?

    public init(mask: String, ignore: Bool = false, bytes: QuotaSize? = nil, messages: QuotaSize? = nil) {
        self.mask = mask
        self.ignore = ignore
        self.bytes = bytes
        self.messages = messages
    }

    /// Parses one rule. `setting` names where it came from, for the error.
    public static func parse(_ value: String, setting: String = "quota_rule") throws(QuotaRuleError) -> QuotaRule {
        func fail(_ reason: String) -> QuotaRuleError {
            QuotaRuleError(setting: setting, value: value, reason: reason)
        }
        // `noquota`: Dovecot 1.x's spelling of "no quota for this user", still found in userdbs.
        if value == "noquota" { return QuotaRule(mask: "*", ignore: true) }
        guard let colon = value.firstIndex(of: ":") else {
            throw fail("invalid rule: expected '<mailbox>:<limits>', e.g. '*:storage=1G'")
        }
        let mask = String(value[..<colon])
        guard !mask.isEmpty else { throw fail("missing mailbox name before ':' (use '*' for the default rule)") }
        var rule = QuotaRule(mask: mask.uppercased() == "INBOX" ? "INBOX" : mask)
        let limits = value[value.index(after: colon)...]
        if limits == "ignore" {
            rule.ignore = true
            return rule
        }
        if limits.hasPrefix("backend=") {
            throw fail("backend rules are not supported by the maildir quota back end")
        }
        for item in limits.split(separator: ":", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let text = parts.count > 1 ? String(parts[1]) : ""
            if rule.isDefault, text.hasPrefix("+") {
                throw fail("the default rule cannot have '+' in '\(item)'")
            }
            let multiplier: Int64
            switch key {
            case "storage": multiplier = 1024
            case "bytes", "messages": multiplier = 1
            case "": throw fail("empty limit (expected storage=, bytes=, messages= or ignore)")
            default: throw fail("unknown limit '\(key)' (expected storage, bytes, messages or ignore)")
            }
            let size: QuotaSize
            do {
                size = try QuotaSize.parse(text, defaultMultiplier: multiplier)
            } catch {
                throw fail(error.reason)
            }
            if case .percent(let percent) = size {
                if rule.isDefault { throw fail("the default rule cannot be a percentage ('\(item)')") }
                if percent <= -100 || percent >= Int64(UInt32.max) { throw fail("invalid percentage '\(text)'") }
            }
            if rule.isDefault, case .absolute(let amount) = size, amount < 0 {
                throw fail("the default rule's \(key) limit cannot be negative")
            }
            if key == "messages" { rule.messages = size } else { rule.bytes = size }
        }
        return rule
    }

    /// Overlays `other` (the same mask, defined later) as Dovecot does: limits it sets replace
    /// these, `ignore` sticks.
    func merged(with other: QuotaRule) -> QuotaRule {
        var result = self
        result.ignore = ignore || other.ignore
        if let bytes = other.bytes { result.bytes = bytes }
        if let messages = other.messages { result.messages = messages }
        return result
    }
}
