/// What a user has stored: bytes and messages (sums of a `maildirsize` file or of a scan).
public struct QuotaUsage: Sendable, Hashable {
    public var bytes: Int64
    public var messages: Int64

    public init(bytes: Int64, messages: Int64) {
        self.bytes = bytes
        self.messages = messages
    }

    public static let zero = QuotaUsage(bytes: 0, messages: 0)
}
