/// Whether a message may be saved, decided as Dovecot 2.3's quota plugin does for LDA/LMTP.
public enum QuotaDecision: Sendable, Hashable {
    /// Save it.
    case allowed
    /// The mailbox is full: refuse with `552 5.2.2` (or `452 4.2.2` with `quota_full_tempfail`).
    case overQuota
    /// The message alone is larger than the whole storage limit (also "Quota exceeded" in replies;
    /// kept apart so the log can say why).
    case largerThanQuota
    /// The message is larger than `quota_max_mail_size`: refuse with `552 5.2.3`.
    case overMaxMailSize(limit: Int64)

    /// Whether the message may be saved.
    public var isAllowed: Bool { self == .allowed }

    /// The decision.
    ///
    /// - A message larger than `maxMailSize` (when not 0) is refused first, even for ignored mailboxes.
    /// - Ignored mailboxes and unlimited users accept anything else.
    /// - Messages: accepted while the count is below its limit.
    /// - Storage: a user below the limit may save a message as long as usage + size stays
    ///   within limit + grace (so the grace lets the last message overshoot); a user at or over
    ///   the limit gets nothing (a zero-size probe, the RCPT check, is refused only when strictly over).
    public static func decide(messageSize: Int64, usage: QuotaUsage, limits: QuotaLimits,
                              graceBytes: Int64, maxMailSize: Int64) -> QuotaDecision {
        if maxMailSize > 0, messageSize > maxMailSize { return .overMaxMailSize(limit: maxMailSize) }
        if limits.ignored { return .allowed }
        var over = false
        if limits.messages > 0, usage.messages >= limits.messages { over = true }
        if limits.bytes > 0 {
            if usage.bytes >= limits.bytes {
                if messageSize > 0 || usage.bytes > limits.bytes { over = true }
            } else {
                let room = (limits.bytes - usage.bytes).addingReportingOverflow(max(0, graceBytes))
                let ceiling = room.overflow ? Int64.max : room.partialValue
                if messageSize > ceiling { over = true }
            }
        }
        guard over else { return .allowed }
        if limits.bytes > 0, messageSize > limits.bytes { return .largerThanQuota }
        return .overQuota
    }
}
