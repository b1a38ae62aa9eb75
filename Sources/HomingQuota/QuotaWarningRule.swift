/// One `quota_warning` (`quota_warning2`, ...) setting, Dovecot 2.3 syntax:
/// `[+|-]<limits> <command> [arguments...]`, e.g. `storage=95%% quota-warning 95 %u`.
///
/// - The limits are a quota rule's (`storage=95%`, `bytes=`, `messages=80%`, joined by `:`); a
///   percentage is of the user's own limit (the default rule's).
/// - Without a sign, or with `+`, the warning is for usage crossing the limit upwards: it was
///   below before, it is at or above after. With `-` it is for crossing downwards.
/// - The command's words stay templates (`%u`, `%d`, `%n`, `%h`, `%%`) until it runs for a user;
///   its first word names what to run (see the quota plugin).
///
/// Pure: evaluating a warning needs only the usage before and after.
public struct QuotaWarningRule: Sendable, Hashable {
    /// Which way the usage must cross the limit.
    public enum Direction: Sendable, Hashable {
        /// `+` or no sign: from below to at-or-above.
        case upwards
        /// `-`: from at-or-above to below.
        case downwards
    }

    public var direction: Direction
    /// The storage limit (`storage=`, `bytes=`), nil when not set.
    public var bytes: QuotaSize?
    /// The message limit (`messages=`), nil when not set.
    public var messages: QuotaSize?
    /// The command's words, `%` variables not yet expanded.
    public var command: [String]
    /// The setting it came from (`quota_warning2`).
    public var setting: String

    public init(direction: Direction, bytes: QuotaSize?, messages: QuotaSize?, command: [String], setting: String) {
        self.direction = direction
        self.bytes = bytes
        self.messages = messages
        self.command = command
        self.setting = setting
    }

    /// Parses a setting's value.
    /// - Throws: `QuotaRuleError` naming the setting when the limits do not parse or no
    ///   command follows them.
    public static func parse(_ value: String, setting: String = "quota_warning") throws(QuotaRuleError) -> QuotaWarningRule {
        let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard words.count >= 2 else {
            throw QuotaRuleError(setting: setting, value: value, reason: "No command specified")
        }
        var limits = Substring(words[0])
        var direction = Direction.upwards
        if limits.hasPrefix("+") {
            limits = limits.dropFirst()
        } else if limits.hasPrefix("-") {
            limits = limits.dropFirst()
            direction = .downwards
        }
        // A mailbox rule's syntax, so that percentages are allowed.
        let rule: QuotaRule
        do {
            rule = try QuotaRule.parse("warning:" + limits, setting: setting)
        } catch {
            throw QuotaRuleError(setting: setting, value: value, reason: error.reason)
        }
        guard !rule.ignore else {
            throw QuotaRuleError(setting: setting, value: value, reason: "a warning needs a limit (storage=, bytes= or messages=)")
        }
        return QuotaWarningRule(
            direction: direction, bytes: rule.bytes, messages: rule.messages, command: Array(words.dropFirst()),
            setting: setting)
    }

    /// The limits for a user whose own limits are `userLimits` (0: not limited).
    public func limits(for userLimits: QuotaLimits) -> (bytes: Int64, messages: Int64) {
        (bytes?.resolved(against: userLimits.bytes) ?? 0, messages?.resolved(against: userLimits.messages) ?? 0)
    }

    /// Why the warning applies to a change of usage from `before` to `after` (Dovecot's
    /// reason text: `bytes=900 -> 1000 over limit 950`), nil when it does not. A limit of 0
    /// never applies.
    public func crossing(from before: QuotaUsage, to after: QuotaUsage, userLimits: QuotaLimits) -> String? {
        let (bytesLimit, messagesLimit) = limits(for: userLimits)
        func crossed(_ low: Int64, _ high: Int64, _ limit: Int64) -> Bool { limit > 0 && low < limit && high >= limit }
        switch direction {
        case .upwards:
            if crossed(before.bytes, after.bytes, bytesLimit) {
                return "bytes=\(before.bytes) -> \(after.bytes) over limit \(bytesLimit)"
            }
            if crossed(before.messages, after.messages, messagesLimit) {
                return "count=\(before.messages) -> \(after.messages) over limit \(messagesLimit)"
            }
        case .downwards:
            if crossed(after.bytes, before.bytes, bytesLimit) {
                return "bytes=\(before.bytes) -> \(after.bytes) below limit \(bytesLimit)"
            }
            if crossed(after.messages, before.messages, messagesLimit) {
                return "count=\(before.messages) -> \(after.messages) below limit \(messagesLimit)"
            }
        }
        return nil
    }
}

/// A user's quota warnings: `quota_warning`, `quota_warning2`, ... up to the first missing
/// number, a userdb field of the same name replacing the setting. As Dovecot, only the first
/// warning that applies to a change runs: list the highest limit first.
public struct QuotaWarningSet: Sendable, Hashable {
    public var rules: [QuotaWarningRule]

    public init(rules: [QuotaWarningRule]) {
        self.rules = rules
    }

    /// Reads the settings. - Throws: `QuotaRuleError` for one that does not parse.
    public init(plugin: [String: String], userFields: [String: String] = [:]) throws(QuotaRuleError) {
        var rules: [QuotaWarningRule] = []
        var number = 1
        while true {
            let name = number == 1 ? "quota_warning" : "quota_warning\(number)"
            guard let value = userFields[name] ?? plugin[name] else { break }
            if !value.isEmpty { rules.append(try QuotaWarningRule.parse(value, setting: name)) }
            number += 1
        }
        self.rules = rules
    }

    /// The first warning that applies to the change, with its reason.
    public func firstCrossing(from before: QuotaUsage, to after: QuotaUsage, userLimits: QuotaLimits)
        -> (rule: QuotaWarningRule, reason: String)?
    {
        for rule in rules {
            if let reason = rule.crossing(from: before, to: after, userLimits: userLimits) { return (rule, reason) }
        }
        return nil
    }
}
