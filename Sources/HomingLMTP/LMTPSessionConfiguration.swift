/// Limits and names for LMTP sessions.
public struct LMTPSessionConfiguration: Sendable, Hashable {
    /// The host name in the greeting, the LHLO reply and the idle-timeout reply;
    /// `nil` uses the backend's `hostname`.
    public var hostname: String?
    /// The most recipients accepted in one transaction; further RCPTs get `452 4.5.3 Too many recipients`.
    public var maxRecipients: Int
    /// The largest message accepted, in bytes as received (after dot-unstuffing); `nil` for no limit.
    /// Announced in the LHLO reply as `SIZE <n>` (bare `SIZE` without a limit).
    public var maxMessageSize: Int?
    /// The longest command line accepted, line end not counted (verb, space and 4096 bytes).
    public var maxCommandLineLength: Int

    /// Creates a configuration; the defaults match Dovecot's.
    public init(
        hostname: String? = nil,
        maxRecipients: Int = 1000,
        maxMessageSize: Int? = nil,
        maxCommandLineLength: Int = LMTPInputFramer.defaultMaximumLineLength
    ) {
        self.hostname = hostname
        self.maxRecipients = maxRecipients
        self.maxMessageSize = maxMessageSize
        self.maxCommandLineLength = maxCommandLineLength
    }
}
