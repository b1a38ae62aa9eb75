/// A quota setting that does not parse: which setting, its value and what is wrong.
///
/// The description reads `quota_rule2: invalid size 'abc' (in 'Trash:storage=+abc')`.
public struct QuotaRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The setting or userdb field the value came from (`quota_rule`, `quota_rule2`, `quota_grace`...).
    public var setting: String
    /// The whole value as written.
    public var value: String
    /// What is wrong, in words for an administrator.
    public var reason: String

    public init(setting: String, value: String, reason: String) {
        self.setting = setting
        self.value = value
        self.reason = reason
    }

    public var description: String { "\(setting): \(reason) (in '\(value)')" }
}
