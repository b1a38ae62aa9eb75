/// The limits in force for one user and mailbox. Zero means "no limit".
public struct QuotaLimits: Sendable, Hashable {
    /// Storage limit in bytes, 0 for none.
    public var bytes: Int64
    /// Message count limit, 0 for none.
    public var messages: Int64
    /// The mailbox (or the user) is outside quota: nothing is limited or counted.
    public var ignored: Bool

    public init(bytes: Int64, messages: Int64, ignored: Bool = false) {
        self.bytes = max(0, bytes)
        self.messages = max(0, messages)
        self.ignored = ignored
    }

    /// No limit at all.
    public static let unlimited = QuotaLimits(bytes: 0, messages: 0)

    /// Whether nothing is limited.
    public var isUnlimited: Bool { ignored || (bytes == 0 && messages == 0) }
}
