import HomingDelivery
import HomingQuotaPlugin
import HomingServer
import Logging
import Synchronization

/// Dovecot's `quota-status -p postfix` on Homing's userdb and quota: answers a Postfix policy
/// request about one recipient with `quota_status_success`, `_overquota`, `_toolarge` or
/// `_nouser` (``QuotaStatusReplies``), or `DEFER_IF_PERMIT Temporary internal error` when the
/// userdb or the quota cannot answer.
///
/// - Requests in the `RCPT` state (`smtpd_recipient_restrictions`) and, as Dovecot 2.4 allows,
///   `END-OF-MESSAGE` (`smtpd_end_of_data_restrictions`, where Postfix knows the real `size`;
///   with several recipients Postfix sends no recipient and the answer is `DUNNO`) are
///   answered; any other state gets `DUNNO` and a warning, as Dovecot.
/// - The recipient is looked up as LMTP looks it up (detail removed, `auth_username_format`);
///   a message of `size` bytes (1 when unknown) is tested against the INBOX with the grace
///   deliveries get. Without `quota` in `mail_plugins` every known user is under quota.
public struct QuotaStatusService: Sendable {
    private let runtime: HomingRuntime
    private let replies: QuotaStatusReplies
    private let logger: Logger
    private static let warnedState = Mutex<Set<String>>([])

    public init(runtime: HomingRuntime) {
        self.runtime = runtime
        self.replies = QuotaStatusReplies(plugin: runtime.settings.plugin, syntax: runtime.settings.variableSyntax)
        var logger = runtime.logger
        logger[metadataKey: "service"] = "quota-status"
        self.logger = logger
    }

    /// The value after `action=` for `request`.
    public func answer(_ request: PolicyRequest) async -> String {
        if let state = request.protocolState?.uppercased(), state != "RCPT", state != "END-OF-MESSAGE" {
            if Self.warnedState.withLock({ $0.insert(state).inserted }) {
                logger.warning(
                    "quota-status: policy query in the unexpected state \(state) (use the service in smtpd_recipient_restrictions or smtpd_end_of_data_restrictions)")
            }
            return "DUNNO"
        }
        guard let recipient = request.recipient else { return "DUNNO" }
        guard let address = Self.address(recipient) else {
            logger.error("quota-status: client sent an invalid recipient address '\(recipient.prefix(256))'")
            return "DUNNO"
        }
        var log = logger
        log[metadataKey: "user"] = "\(address)"
        let user: DeliveryUser
        do throws(RecipientResolver.Failure) {
            user = try await runtime.resolver.resolve(address: address, localIP: nil, remoteIP: nil)
        } catch {
            switch error {
            case .notFound, .invalidAddress:
                log.debug("quota-status: user \(address) not found")
                return replies.noUser
            case .userdbUnavailable(let reason), .unusable(let reason), .notPermitted(let reason):
                log.error("quota-status: failed to look up user \(address): \(reason)")
                return QuotaStatusReplies.temporaryFailure
            }
        }
        guard let quota = runtime.quota else { return replies.action(for: .ok, user: user) }
        let allocation = await quota.testAllocation(for: user, size: request.size)
        if case .temporaryFailure(let reason) = allocation {
            log.error("quota-status: quota check failed: \(reason)")
        }
        return replies.action(for: allocation, user: user)
    }

    /// The recipient without angle brackets; nil when it cannot be an address (empty, spaces or
    /// control characters).
    static func address(_ text: String) -> String? {
        var value = Substring(text)
        if value.hasPrefix("<"), value.hasSuffix(">"), value.count >= 2 { value = value.dropFirst().dropLast() }
        guard !value.isEmpty, value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else { return nil }
        return String(value)
    }
}
