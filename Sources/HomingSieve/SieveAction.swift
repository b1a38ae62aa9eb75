/// What a script decided to do with a message, in the order the script asked.
public enum SieveAction: Sendable, Hashable {
    /// `keep` (explicit), with the imap4flags flags in effect.
    case keep(flags: [String])
    /// `fileinto`: store into `mailbox` (UTF-8 name, `/`-free hierarchy separator is `.`
    /// for Maildir++ only at storage time), with flags, `:create` and `:copy`.
    case fileInto(mailbox: String, flags: [String], create: Bool, copy: Bool)
    /// `redirect`: forward the message to `address`, `:copy` keeps the implicit keep.
    case redirect(address: String, copy: Bool)
    /// `reject` (or `ereject` when `extended`): refuse the message with `reason`.
    case reject(reason: String, extended: Bool)
    /// `discard`: cancel the implicit keep.
    case discard
    /// `vacation`: send an auto-reply (the decision whether to send is the executor's,
    /// using `SieveVacationRequest`).
    case vacation(SieveVacationRequest)
}

/// The parameters of one `vacation` action (RFC 5230, RFC 6131).
public struct SieveVacationRequest: Sendable, Hashable {
    /// The reason text (or MIME entity with `:mime`).
    public var reason: String
    /// `:subject`, or `nil` for the default (`Auto: <original subject>`).
    public var subject: String?
    /// `:from`, or `nil` for the recipient's address.
    public var from: String?
    /// `:addresses`: the user's other addresses.
    public var addresses: [String]
    /// `:mime`: `reason` is a MIME entity (headers + body).
    public var mime: Bool
    /// `:handle`, or `nil` (then reason+subject+from+mime identify the response).
    public var handle: String?
    /// The minimum time between two responses to the same sender, in seconds
    /// (`:days` × 86400 or `:seconds`), already clamped to the configured bounds.
    public var period: Int

    /// Creates a vacation request.
    public init(
        reason: String, subject: String? = nil, from: String? = nil, addresses: [String] = [],
        mime: Bool = false, handle: String? = nil, period: Int
    ) {
        self.reason = reason
        self.subject = subject
        self.from = from
        self.addresses = addresses
        self.mime = mime
        self.handle = handle
        self.period = period
    }
}

/// The outcome of running a script.
///
/// Delivery carries it out: `storeActions()` are the copies to store (flags split into system
/// flags and keywords, `editheader` changes attached), `actions` also holds the redirects,
/// rejections and vacation requests in script order, `notifications` the `notify` messages to
/// submit, and `duplicateMarks` what to record once all that was done.
public struct SieveResult: Sendable, Hashable {
    /// The actions, in order, duplicates merged as RFC 5228 section 2.10.3 says.
    public var actions: [SieveAction]
    /// Whether the implicit keep still applies (no `discard`, `fileinto`, `redirect`,
    /// `reject`, explicit `keep` without `:copy` cancelled it).
    public var implicitKeep: Bool
    /// The flags the implicit keep stores with (imap4flags internal variable).
    public var implicitKeepFlags: [String]
    /// Duplicate-tracking entries (RFC 7352) to record once the actions were carried out.
    public var duplicateMarks: [SieveDuplicateMark]
    /// The `notify` actions (RFC 5435), in order, each with its message composed.
    public var notifications: [SieveNotification]
    /// `editheader` (RFC 5293): the header a `keep`, `fileinto` or `redirect` in `actions`
    /// stores or sends, by index into `actions`: the script's edits as they were when that
    /// action ran. No entry means the header as received.
    public var editedHeaders: [Int: SieveEditedHeader]
    /// `editheader`: the header the implicit keep stores (the edits at the end of the script),
    /// `nil` when unchanged. (After a runtime error the message is kept as received.)
    public var implicitKeepHeader: SieveEditedHeader?
    /// Warnings raised while running (an unknown date part, a denied header edit...), for
    /// the user's log.
    public var warnings: [SieveWarning]

    /// Creates a result.
    public init(
        actions: [SieveAction] = [], implicitKeep: Bool = true, implicitKeepFlags: [String] = [],
        duplicateMarks: [SieveDuplicateMark] = [], notifications: [SieveNotification] = [],
        editedHeaders: [Int: SieveEditedHeader] = [:], implicitKeepHeader: SieveEditedHeader? = nil,
        warnings: [SieveWarning] = []
    ) {
        self.actions = actions
        self.implicitKeep = implicitKeep
        self.implicitKeepFlags = implicitKeepFlags
        self.duplicateMarks = duplicateMarks
        self.notifications = notifications
        self.editedHeaders = editedHeaders
        self.implicitKeepHeader = implicitKeepHeader
        self.warnings = warnings
    }
}

/// An entry the `duplicate` test asks to remember: a key and for how long.
public struct SieveDuplicateMark: Sendable, Hashable {
    /// The tracking key (handle + unique id, already combined as the test defines it).
    public var key: String
    /// How long to remember it, in seconds.
    public var period: Int

    /// Creates a mark.
    public init(key: String, period: Int) {
        self.key = key
        self.period = period
    }
}
