/// The `quota` setting of `plugin { }`: `maildir:User quota` (back end, then the quota root's
/// name, then options), as Dovecot writes it.
public struct QuotaRootSetting: Sendable, Hashable {
    /// The root's name, shown by `homing quota get` (`User quota`).
    public var name: String
    /// `noenforcing`: usage is tracked but nothing is refused.
    public var enforcing: Bool

    /// Creates a setting.
    public init(name: String = "User quota", enforcing: Bool = true) {
        self.name = name
        self.enforcing = enforcing
    }

    /// Parses the setting. Only the Maildir++ back end (`maildir`) is implemented: other back
    /// ends are refused with a message saying so, so an administrator is not silently left
    /// without the accounting they configured.
    public static func parse(_ value: String) throws(QuotaRuleError) -> QuotaRootSetting {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let backend = parts[0].trimmingSpaces()
        switch backend {
        case "maildir":
            break
        case "":
            throw QuotaRuleError(setting: "quota", value: value, reason: "missing quota back end (expected 'maildir:User quota')")
        case "count", "dict", "fs", "imapc", "dirsize", "last", "ldap":
            throw QuotaRuleError(
                setting: "quota", value: value,
                reason: "the '\(backend)' quota back end is not supported by Homing (use 'maildir', the Maildir++ back end)")
        default:
            throw QuotaRuleError(setting: "quota", value: value, reason: "unknown quota back end '\(backend)'")
        }
        var setting = QuotaRootSetting()
        if parts.count > 1, !parts[1].trimmingSpaces().isEmpty { setting.name = parts[1].trimmingSpaces() }
        for option in parts.dropFirst(2) {
            switch option.trimmingSpaces() {
            case "": continue
            case "noenforcing": setting.enforcing = false
            // Options that change nothing for a delivery agent.
            case "ignoreunlimited", "hidden", "ns=": continue
            default:
                throw QuotaRuleError(setting: "quota", value: value, reason: "unknown quota option '\(option)'")
            }
        }
        return setting
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
