import NIOCore

/// One LMTP reply: `code enhanced text`, possibly several lines.
public struct LMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// The three-digit reply code (250, 451, 550...).
    public var code: Int
    /// The enhanced status code (`2.0.0`), or `nil` for replies that have none
    /// (the greeting, `501 Missing hostname`, the LHLO reply).
    public var enhancedCode: String?
    /// The text of each line; at least one.
    public var lines: [String]

    public init(_ code: Int, _ enhancedCode: String?, _ text: String) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = [text]
    }

    public init(code: Int, enhancedCode: String?, lines: [String]) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = lines.isEmpty ? [""] : lines
    }

    /// 2xx.
    public var isPositive: Bool { (200..<300).contains(code) }
    /// 4xx: the client may retry.
    public var isTransient: Bool { (400..<500).contains(code) }

    /// The reply as sent on the wire, CRLF-terminated lines.
    public var wireFormat: String {
        var out = ""
        for (index, line) in lines.enumerated() {
            out += String(code)
            out += index == lines.count - 1 ? " " : "-"
            if let enhancedCode { out += enhancedCode + " " }
            out += line
            out += "\r\n"
        }
        return out
    }

    public var description: String {
        lines.map { line in [String(code), enhancedCode, line].compactMap { $0 }.joined(separator: " ") }
            .joined(separator: "\n")
    }
}

/// What the LMTP layer knows about one connection.
public struct LMTPConnectionInfo: Sendable, Hashable {
    /// The peer's IP address for TCP connections, `nil` on a unix socket. After a trusted
    /// client's `XCLIENT ADDR=`, the address it names (the original client's).
    public var remoteIP: String?
    /// The local IP address for TCP connections, `nil` on a unix socket.
    public var localIP: String?
    /// The peer's port for TCP connections (after `XCLIENT PORT=`, the one it names).
    public var remotePort: Int?
    /// The local port for TCP connections.
    public var localPort: Int?
    /// The proxy hop budget a trusted proxy passed with `XCLIENT TTL=`; `nil` when no proxy
    /// said. A proxying node passes one less on to the next hop and refuses at zero.
    public var proxyTTL: Int?
    /// The timeout (seconds) a trusted proxy passed with `XCLIENT TIMEOUT=`: it gives up on this
    /// connection after that long, so deliveries keep their lock waits below it (a delivery
    /// finishing after the proxy left would be retried, and stored twice); `nil` when no proxy
    /// said. A proxying node passes it on.
    public var proxyTimeout: Int?
    /// Whether the real peer (the address the connection came from, not one named by XCLIENT)
    /// is in `login_trusted_networks`: it is offered XCLIENT and may use it.
    public var isTrusted: Bool
    /// The real peer's address and port when a trusted client's XCLIENT replaced ``remoteIP``
    /// and ``remotePort`` (the proxy's own address, for logs); `nil` before.
    public var proxyIP: String?
    public var proxyPort: Int?

    public init(
        remoteIP: String? = nil, localIP: String? = nil, remotePort: Int? = nil, localPort: Int? = nil,
        proxyTTL: Int? = nil, isTrusted: Bool = false
    ) {
        self.remoteIP = remoteIP
        self.localIP = localIP
        self.remotePort = remotePort
        self.localPort = localPort
        self.proxyTTL = proxyTTL
        self.isTrusted = isTrusted
    }

    /// This connection as a trusted proxy's XCLIENT describes it: the named address, port,
    /// TTL and timeout replace the connection's own (attributes not given keep theirs); ``proxyIP`` and
    /// ``proxyPort`` keep the real peer's.
    public func applying(_ attributes: LMTPXClientAttributes) -> LMTPConnectionInfo {
        var info = self
        if info.proxyIP == nil, attributes.address != nil || attributes.port != nil {
            info.proxyIP = remoteIP
            info.proxyPort = remotePort
        }
        if let address = attributes.address { info.remoteIP = address }
        if let port = attributes.port { info.remotePort = port }
        if let ttl = attributes.ttl { info.proxyTTL = ttl }
        if let timeout = attributes.timeout { info.proxyTimeout = timeout }
        return info
    }
}

/// One mail transaction as the backend sees it (from `MAIL` to the end of data or `RSET`).
public struct LMTPTransactionContext: Sendable, Hashable {
    /// The connection's session id: 22 characters of base64 (a random 128-bit value).
    public var sessionID: String
    /// The transaction id: the session id, with `:T<n>` from the second transaction on.
    public var transactionID: String
    /// The `LHLO` argument, if LHLO was given.
    public var lhloName: String?
    public var connection: LMTPConnectionInfo
    /// The reverse path from `MAIL FROM:<...>`, without brackets; empty for the null sender.
    public var mailFrom: String
    /// `BODY=` from MAIL, upper-cased, if given.
    public var body: String?
    /// `RET=` from MAIL (DSN), if given.
    public var notificationReturn: LMTPReturn?
    /// `ENVID=` from MAIL (DSN), decoded, if given.
    public var envelopeID: String?

    public init(
        sessionID: String, transactionID: String, lhloName: String?, connection: LMTPConnectionInfo,
        mailFrom: String, body: String?, notificationReturn: LMTPReturn? = nil, envelopeID: String? = nil
    ) {
        self.sessionID = sessionID
        self.transactionID = transactionID
        self.lhloName = lhloName
        self.connection = connection
        self.mailFrom = mailFrom
        self.body = body
        self.notificationReturn = notificationReturn
        self.envelopeID = envelopeID
    }
}

/// A `RCPT TO` as the client sent it.
public struct LMTPRecipient: Sendable, Hashable {
    /// The address between the brackets, exactly as sent, source route included
    /// (`@relay:alice@example.com`); used in replies (`<...>`) and headers.
    public var path: String
    /// The mailbox: the path without a source route, with a quoted local part unquoted
    /// (`"alice"@example.com` gives `alice@example.com`).
    public var address: String
    /// `ORCPT=`, decoded, if given.
    public var originalRecipient: LMTPOriginalRecipient?
    /// `NOTIFY=` (DSN), if given.
    public var notify: LMTPNotify?
    /// `XRCPTFORWARD=`, decoded, if a trusted proxy sent it: passed on when the recipient is
    /// relayed again.
    public var forwardFields: LMTPForwardFields?
    /// 1-based number of this RCPT command in the transaction, failed ones counted.
    public var index: Int
    /// The id used in this recipient's `250 2.0.0 <path> <id> Saved` reply:
    /// the transaction id, plus `:R<index>` from the second RCPT on.
    public var replyID: String

    public init(
        path: String, address: String, originalRecipient: LMTPOriginalRecipient?, index: Int, replyID: String,
        notify: LMTPNotify? = nil, forwardFields: LMTPForwardFields? = nil
    ) {
        self.path = path
        self.address = address
        self.originalRecipient = originalRecipient
        self.notify = notify
        self.forwardFields = forwardFields
        self.index = index
        self.replyID = replyID
    }

    /// The local part (before the last `@`), or the whole address.
    public var localPart: String {
        guard let at = address.lastIndex(of: "@") else { return address }
        return String(address[..<at])
    }

    /// The domain (after the last `@`), or empty.
    public var domain: String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return String(address[address.index(after: at)...])
    }
}

/// The backend's answer to `RCPT TO`.
public enum LMTPRecipientVerdict<Recipient: Sendable>: Sendable {
    /// Accept (`250 2.1.5 OK`), keeping the backend's resolved recipient for delivery.
    case accept(Recipient)
    /// Accept with this 2xx reply instead of `250 2.1.5 OK` (a proxy destination's answer).
    case acceptReplying(Recipient, LMTPReply)
    /// Refuse with this reply (`550 5.1.1 <x> User doesn't exist: x`, `451 4.3.0 <x> Temporary internal error`...).
    case reject(LMTPReply)
}

/// An accepted recipient, in RCPT order.
public struct LMTPAcceptedRecipient<Recipient: Sendable>: Sendable {
    public var command: LMTPRecipient
    public var resolved: Recipient

    public init(command: LMTPRecipient, resolved: Recipient) {
        self.command = command
        self.resolved = resolved
    }
}

/// The outcome of delivering to one accepted recipient.
public enum LMTPDeliveryOutcome: Sendable, Hashable {
    /// Stored durably: the LMTP layer answers `250 2.0.0 <path> <replyID> Saved`.
    case saved
    /// This recipient is identical to the accepted recipient at this (earlier) position of the
    /// list, which got the message: answer with that recipient's reply, word for word (its
    /// address as written there, its reply id, its failure if it failed), as Dovecot does.
    case duplicate(ofRecipientAt: Int)
    /// Not stored: answer with this reply (4xx or 5xx).
    case failed(LMTPReply)
    /// Answered elsewhere: send this reply as it is (a proxied recipient's reply, formed from
    /// the proxy destination's answer).
    case replied(LMTPReply)
}

/// Receives one message body as it arrives, before the end of data. Bytes are exactly the
/// message: dot-unstuffed for DATA, raw for BDAT, line ends as the client sent them.
public protocol LMTPMessageSink: Sendable {
    /// Appends bytes. Throwing makes the transaction fail for every recipient with
    /// `451 4.3.0` (the error's description is logged).
    func write(_ bytes: ByteBuffer) async throws
    /// The transaction was abandoned (RSET, QUIT, disconnect, error): release the spool.
    func discard() async
}

/// What the LMTP session asks of the layer behind it: recipient checks and delivery.
/// The session calls these from a Swift concurrency task, never from an event loop.
public protocol LMTPBackend: Sendable {
    associatedtype Recipient: Sendable
    associatedtype MessageSink: LMTPMessageSink

    /// The host name used in the greeting and the LHLO reply.
    var hostname: String { get }

    /// Checks a `RCPT TO`, normally with a userdb lookup. Runs before the RCPT reply, so
    /// Postfix's `reject_unverified_recipient` probes get the real answer.
    func verifyRecipient(
        _ recipient: LMTPRecipient, in transaction: LMTPTransactionContext
    ) async -> LMTPRecipientVerdict<Recipient>

    /// Starts receiving a message for the transaction (at DATA, or the first BDAT).
    /// Throwing answers the data command with `451 4.3.0 Temporary internal error`.
    func makeMessageSink(for transaction: LMTPTransactionContext) async throws -> MessageSink

    /// The whole message has arrived: deliver it to each accepted recipient. Returns one
    /// outcome per recipient, in the same order; the sink is no longer written to.
    func deliver(
        _ sink: MessageSink, to recipients: [LMTPAcceptedRecipient<Recipient>],
        in transaction: LMTPTransactionContext
    ) async -> [LMTPDeliveryOutcome]

    /// The transaction is over (delivered, RSET, a new session state, QUIT or disconnect),
    /// whether or not a message sink was made: release what RCPT set up for it.
    func transactionEnded(_ transactionID: String) async
}

extension LMTPBackend {
    /// Nothing to release by default.
    public func transactionEnded(_ transactionID: String) async {}
}
