import HomingConfig
import HomingDelivery
import HomingQuota

/// Whether a message of some size could be saved for a user now, in the terms of Dovecot's
/// `quota_test_alloc` (what its `quota-status` policy service asks).
public enum QuotaAllocation: Sendable, Hashable {
    /// It fits (or the user has no quota).
    case ok
    /// The mailbox is full, or the message would take the user past the limit plus the grace;
    /// `message` is `quota_exceeded_message`.
    case overQuota(message: String)
    /// The message alone is larger than the user's whole storage limit.
    case overQuotaLimit(message: String)
    /// The message is larger than `quota_max_mail_size`.
    case overMaxSize(message: String)
    /// The usage could not be read (or the user's quota settings do not parse).
    case temporaryFailure(reason: String)
}

extension QuotaPlugin {
    /// Whether a message of `size` bytes (0 when unknown: 1 byte is tested, so a mailbox that
    /// is already full is refused) could be saved into `user`'s INBOX now, with the grace that
    /// deliveries get, as quota-status asks (Dovecot's `quota_test_alloc` with
    /// `MAILBOX_FLAG_POST_SESSION`). Reads `maildirsize` as the user (recalculating it when it
    /// must, as a delivery would).
    public func testAllocation(for user: DeliveryUser, size: Int64) async -> QuotaAllocation {
        let config: QuotaConfiguration
        do {
            config = try configuration(for: user)
        } catch {
            return .temporaryFailure(reason: "invalid userdb value: \(error)")
        }
        guard root.enforcing else { return .ok }
        let messageSize = max(1, size)
        let usage: QuotaUsage
        var limits = config.rules.limits(forMailbox: "INBOX")
        if config.rules.userLimits.ignored {
            usage = .zero
        } else {
            do {
                let contents = try await threadPool.runIfActive { try Self.status(of: user, config: config) }
                usage = contents.usage
                if !config.rules.defaultRuleIsForced { limits = contents.limits }
            } catch {
                return .temporaryFailure(reason: "Internal quota calculation error: \(error)")
            }
        }
        let decision = QuotaDecision.decide(
            messageSize: messageSize, usage: usage, limits: limits, graceBytes: config.graceBytes,
            maxMailSize: config.maxMailSize)
        switch decision {
        case .allowed: return .ok
        case .overQuota: return .overQuota(message: config.exceededMessage)
        case .largerThanQuota: return .overQuotaLimit(message: config.exceededMessage)
        case .overMaxMailSize: return .overMaxSize(message: Self.maxMailSizeMessage)
        }
    }
}

/// The `action=` values of the quota-status policy service, as Dovecot's `quota-status -p
/// postfix` answers, from the `plugin { }` settings (a userdb field of the same name wins):
///
/// | result | setting | default |
/// | --- | --- | --- |
/// | under quota | `quota_status_success` | `OK` |
/// | over quota | `quota_status_overquota` | `554 5.2.2 <quota_exceeded_message>` |
/// | larger than the whole quota, or `quota_max_mail_size` | `quota_status_toolarge` | as over quota |
/// | no such user | `quota_status_nouser` | `REJECT Unknown user` |
/// | userdb or quota failure | — | `DEFER_IF_PERMIT Temporary internal error` |
///
/// Values take the user's `%` variables and `%{error}` (the reason: `quota_exceeded_message`,
/// or the maximum size text). Dovecot's documentation suggests `quota_status_success = DUNNO`
/// and `quota_status_overquota = "552 5.2.2 Mailbox is full"`.
public struct QuotaStatusReplies: Sendable {
    public let plugin: [String: String]
    public let syntax: VariableSyntax

    /// Dovecot's answer when the userdb or the quota cannot answer now.
    public static let temporaryFailure = "DEFER_IF_PERMIT Temporary internal error"

    public init(plugin: [String: String], syntax: VariableSyntax = .dovecot23) {
        self.plugin = plugin
        self.syntax = syntax
    }

    /// The action for `allocation` of `user`'s message.
    public func action(for allocation: QuotaAllocation, user: DeliveryUser) -> String {
        func setting(_ name: String) -> String? {
            let value = user.record[name] ?? plugin[name]
            return value.flatMap { $0.isEmpty ? nil : $0 }
        }
        func overQuota(_ error: String) -> String {
            expand(setting("quota_status_overquota") ?? "554 5.2.2 %{error}", user: user.user, error: error)
        }
        switch allocation {
        case .ok:
            return expand(setting("quota_status_success") ?? "OK", user: user.user, error: "OK")
        case .overQuota(let message):
            return overQuota(message)
        case .overQuotaLimit(let message), .overMaxSize(let message):
            if let tooLarge = setting("quota_status_toolarge") { return expand(tooLarge, user: user.user, error: message) }
            return overQuota(message)
        case .temporaryFailure:
            return Self.temporaryFailure
        }
    }

    /// The action for a recipient the userdb does not know.
    public var noUser: String {
        let value = plugin["quota_status_nouser"].flatMap { $0.isEmpty ? nil : $0 } ?? "REJECT Unknown user"
        return expand(value, user: "", error: "")
    }

    /// `%{error}`, the user's variables and `%%`; one line (a policy reply cannot hold a line end).
    private func expand(_ template: String, user: String, error: String) -> String {
        var values = user.isEmpty ? [:] : VariableExpander.userValues(user: user, service: "quota-status")
        values["error"] = error
        let expanded = (try? VariableExpander(values: values, syntax: syntax).expand(template)) ?? template
        return String(expanded.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
