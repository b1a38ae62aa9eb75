import NIOCore

/// The LMTP session logic as a pure state machine: each `mutating` event method returns an
/// ``Action`` for the driver (``LMTPSession``) to perform: send replies, ask the backend,
/// switch the input framer's mode, write to or discard the message sink.
///
/// The message sink itself stays with the driver; the machine tells it when to create,
/// write, discard and deliver it. An event that cannot happen in the current state (the
/// backend's verdict when none was asked for, message bytes outside DATA or BDAT) is a bug in
/// the driver, not something a client can cause: it stops with a precondition failure, so that
/// the bug shows in the first test that hits it.
public struct LMTPSessionStateMachine<Recipient: Sendable>: Sendable {
    /// What the driver must do after an event.
    public enum Action: Sendable {
        /// Nothing (e.g. message bytes dropped after a failure).
        case none
        /// Send these replies; keep reading commands.
        case send([LMTPReply])
        /// Send this reply, then close the connection (QUIT). Discard the sink if there is one.
        case sendAndClose(LMTPReply)
        /// Call `backend.verifyRecipient`, then ``recipientVerified(_:)``.
        case verifyRecipient(LMTPRecipient, LMTPTransactionContext)
        /// Call `backend.makeMessageSink`, then ``sinkCreated()`` or ``sinkCreationFailed()``.
        case makeSink(LMTPTransactionContext)
        /// Send the reply (`354 OK`), then switch the framer to DATA mode.
        case beginData(LMTPReply)
        /// Switch the framer to BDAT mode for this many bytes.
        case beginBDAT(byteCount: Int)
        /// Write these message bytes to the sink (awaiting it), then on failure call ``sinkWriteFailed()``.
        case write(ByteBuffer)
        /// Discard the sink (the message cannot be delivered any more); nothing to send yet.
        case discardSink
        /// Discard the sink if there is one, then send these replies.
        case discardSinkAndSend([LMTPReply])
        /// Call `backend.deliver` with the sink, then ``delivered(_:)``.
        case deliver([LMTPAcceptedRecipient<Recipient>], LMTPTransactionContext)
        /// A trusted client's XCLIENT was accepted: the machine's ``connection`` (and perhaps
        /// ``sessionID``) now describe the original client. Log the change, then send the
        /// reply (the greeting again, as Dovecot answers XCLIENT).
        case proxied(LMTPXClientAttributes, LMTPReply)
    }

    /// One mail transaction in progress.
    struct Transaction: Sendable {
        var context: LMTPTransactionContext
        var accepted: [LMTPAcceptedRecipient<Recipient>] = []
        /// RCPT commands counted for `:R<n>` (failed ones included).
        var rcptCount = 0
    }

    /// The command that started the message.
    enum DataCommand: Sendable, Hashable {
        case data
        case bdat(size: Int, last: Bool)
    }

    /// How the message being received is doing.
    struct Reception: Sendable {
        /// Message bytes received so far.
        var size = 0
        /// The message passed the size limit: bytes are read and dropped.
        var oversize = false
        /// Writing to the sink failed: bytes are read and dropped.
        var sinkFailed = false
    }

    /// A transaction's message, from DATA (or the first BDAT) to its delivery: the sub-states in
    /// which a sink exists or is being made.
    enum MessageState: Sendable {
        /// Waiting for the backend to create the sink.
        case creatingSink(DataCommand)
        /// Reading DATA.
        case receivingData(Reception)
        /// Between BDAT chunks.
        case betweenChunks(Reception)
        /// Reading a BDAT chunk of `size` bytes.
        case receivingChunk(Reception, size: Int, last: Bool)
        /// Waiting for the backend to deliver.
        case delivering
    }

    indirect enum State: Sendable {
        /// No transaction.
        case ready
        /// After MAIL: RCPTs are being given.
        case transaction(Transaction)
        /// Waiting for the backend's verdict on a RCPT.
        case verifyingRecipient(Transaction, LMTPRecipient)
        /// The transaction's message is being received or delivered.
        case message(Transaction, MessageState)
        /// A BDAT chunk that cannot be used is being read and dropped; then `reply` is sent and
        /// the state becomes `after`.
        case discardingChunk(reply: LMTPReply, after: State)
        /// A BDAT chunk failed: data commands are refused until RSET.
        case failedChunk(Transaction)
        /// QUIT was answered or the client went away.
        case closed
    }

    /// The session id: 22 characters of base64, or the one a trusted proxy passed with
    /// `XCLIENT SESSION=`.
    public private(set) var sessionID: String
    /// The host name of the greeting and LHLO reply.
    public let hostname: String
    /// The most recipients per transaction.
    public let maxRecipients: Int
    /// The largest message accepted, or `nil`.
    public let maxMessageSize: Int?
    /// The connection's addresses; after a trusted client's XCLIENT, the original client's.
    public private(set) var connection: LMTPConnectionInfo
    /// The LHLO argument, once given.
    public private(set) var lhloName: String?
    /// Number of transactions (MAIL commands accepted) on this connection.
    public private(set) var transactionCount = 0

    private(set) var state: State = .ready

    /// Creates the machine for a new connection.
    public init(
        sessionID: String, hostname: String, maxRecipients: Int = 1000, maxMessageSize: Int? = nil,
        connection: LMTPConnectionInfo = LMTPConnectionInfo()
    ) {
        self.sessionID = sessionID
        self.hostname = hostname
        self.maxRecipients = maxRecipients
        self.maxMessageSize = maxMessageSize
        self.connection = connection
    }

    // MARK: - Introspection

    /// A short name for the state, for logs (`READY`, `DATA`, `BDAT`...).
    public var stateName: String {
        switch state {
        case .ready: return "READY"
        case .transaction, .verifyingRecipient: return "RCPT"
        case .message(_, .creatingSink(.data)), .message(_, .receivingData): return "DATA"
        case .message(_, .creatingSink(.bdat)), .message(_, .betweenChunks), .message(_, .receivingChunk),
            .discardingChunk, .failedChunk:
            return "BDAT"
        case .message(_, .delivering): return "DELIVERY"
        case .closed: return "CLOSED"
        }
    }

    /// The id of the transaction open now (from MAIL to the end of data, RSET or QUIT), or `nil`.
    public var openTransactionID: String? {
        Self.transactionID(of: state)
    }

    private static func transactionID(of state: State) -> String? {
        switch state {
        case .ready, .closed: return nil
        case .transaction(let transaction), .verifyingRecipient(let transaction, _), .message(let transaction, _),
            .failedChunk(let transaction):
            return transaction.context.transactionID
        case .discardingChunk(_, let after): return transactionID(of: after)
        }
    }

    /// Whether a message is being received (DATA, or a BDAT transaction): the sink holds part of a message.
    public var isReceivingMessage: Bool {
        switch state {
        case .message(_, .creatingSink), .message(_, .receivingData), .message(_, .betweenChunks),
            .message(_, .receivingChunk):
            return true
        default:
            return false
        }
    }

    /// The LHLO reply: host name, then the capabilities, `PIPELINING` last, except that a client
    /// from `login_trusted_networks` is offered `XCLIENT` after it (in Dovecot's alphabetical
    /// place) and then `XRCPTFORWARD` (Dovecot's per-recipient forwarded fields). `DSN`
    /// (RFC 3461) makes Postfix pass the original recipient (`ORCPT=`) and the sender's
    /// notification request on, which Dovecot's LMTP server never gets.
    public var lhloReply: LMTPReply {
        var lines = [hostname, "8BITMIME", "CHUNKING", "DSN", "ENHANCEDSTATUSCODES"]
        if let maxMessageSize {
            lines.append("SIZE \(maxMessageSize)")
        } else {
            lines.append("SIZE")
        }
        lines.append(contentsOf: ["SMTPUTF8", "PIPELINING"])
        if connection.isTrusted { lines.append(contentsOf: [LMTPXClientAttributes.capability, "XRCPTFORWARD"]) }
        return LMTPReply(code: 250, enhancedCode: nil, lines: lines)
    }

    // MARK: - Events

    /// The greeting to send when the connection opens.
    public func greeting() -> LMTPReply {
        LMTPReply.greeting(hostname: hostname)
    }

    /// A command line longer than the limit arrived.
    public mutating func lineTooLong() -> Action {
        .send([.lineTooLong])
    }

    /// A command line arrived, parsed (or refused) by ``LMTPCommandParser``. Command lines only
    /// arrive while the machine reads commands (the framer is in line mode).
    public mutating func commandReceived(_ parsed: Result<LMTPCommand, LMTPCommandError>) -> Action {
        switch state {
        case .ready, .transaction, .message(_, .betweenChunks), .failedChunk, .closed: break
        case .verifyingRecipient, .message, .discardingChunk:
            preconditionFailure("LMTP: a command line arrived in state \(stateName)")
        }
        let command: LMTPCommand
        switch parsed {
        case .success(let value): command = value
        case .failure(let error): return .send([error.reply])
        }
        switch command {
        case .lhlo(let name):
            lhloName = name
            return reset(reply: lhloReply)
        case .rset:
            return reset(reply: .ok)
        case .noop:
            return .send([.ok])
        case .vrfy:
            return .send([.tryRcptInstead])
        case .quit:
            state = .closed
            return .sendAndClose(.bye)
        case .mail(let mail):
            return mailReceived(mail)
        case .rcpt(let rcpt):
            return rcptReceived(rcpt)
        case .data:
            return dataReceived()
        case .bdat(let size, let last):
            return bdatReceived(size: size, last: last)
        case .xclient(let attributes):
            return xclientReceived(attributes)
        }
    }

    /// The backend answered the RCPT asked by ``Action/verifyRecipient(_:_:)``.
    public mutating func recipientVerified(_ verdict: LMTPRecipientVerdict<Recipient>) -> Action {
        guard case .verifyingRecipient(var transaction, let recipient) = state else {
            preconditionFailure("LMTP: recipientVerified in state \(stateName)")
        }
        switch verdict {
        case .accept(let resolved):
            transaction.accepted.append(LMTPAcceptedRecipient(command: recipient, resolved: resolved))
            state = .transaction(transaction)
            return .send([.rcptOK])
        case .acceptReplying(let resolved, let reply):
            transaction.accepted.append(LMTPAcceptedRecipient(command: recipient, resolved: resolved))
            state = .transaction(transaction)
            return .send([reply])
        case .reject(let reply):
            state = .transaction(transaction)
            return .send([reply])
        }
    }

    /// The backend created the sink asked by ``Action/makeSink(_:)``.
    public mutating func sinkCreated() -> Action {
        guard case .message(let transaction, .creatingSink(let command)) = state else {
            preconditionFailure("LMTP: sinkCreated in state \(stateName)")
        }
        switch command {
        case .data:
            state = .message(transaction, .receivingData(Reception()))
            return .beginData(.startData)
        case .bdat(let size, let last):
            state = .message(transaction, .receivingChunk(Reception(), size: size, last: last))
            return .beginBDAT(byteCount: size)
        }
    }

    /// The backend could not create the sink: DATA is refused with `451 4.3.0`; a BDAT
    /// chunk is read and dropped, then refused the same way (and the transaction needs RSET).
    public mutating func sinkCreationFailed() -> Action {
        guard case .message(let transaction, .creatingSink(let command)) = state else {
            preconditionFailure("LMTP: sinkCreationFailed in state \(stateName)")
        }
        switch command {
        case .data:
            state = .transaction(transaction)
            return .send([.temporaryInternalError])
        case .bdat(let size, _):
            state = .discardingChunk(reply: .temporaryInternalError, after: .failedChunk(transaction))
            return .beginBDAT(byteCount: size)
        }
    }

    /// Message bytes arrived (DATA, dot-unstuffed, or a BDAT chunk).
    public mutating func messageBytesReceived(_ bytes: ByteBuffer) -> Action {
        switch state {
        case .message(let transaction, .receivingData(var reception)):
            let action = account(bytes, in: &reception)
            state = .message(transaction, .receivingData(reception))
            return action
        case .message(let transaction, .receivingChunk(var reception, let size, let last)):
            let action = account(bytes, in: &reception)
            state = .message(transaction, .receivingChunk(reception, size: size, last: last))
            return action
        case .discardingChunk:
            return .none
        default:
            preconditionFailure("LMTP: message bytes in state \(stateName)")
        }
    }

    /// Writing to the sink threw: the message is lost; the sink must be discarded.
    public mutating func sinkWriteFailed() -> Action {
        switch state {
        case .message(let transaction, .receivingData(var reception)):
            reception.sinkFailed = true
            state = .message(transaction, .receivingData(reception))
            return .discardSink
        case .message(let transaction, .receivingChunk(var reception, let size, let last)):
            reception.sinkFailed = true
            state = .message(transaction, .receivingChunk(reception, size: size, last: last))
            return .discardSink
        default:
            preconditionFailure("LMTP: sinkWriteFailed in state \(stateName)")
        }
    }

    /// The `.` line ending DATA was read.
    public mutating func endOfDataReceived() -> Action {
        guard case .message(let transaction, .receivingData(let reception)) = state else {
            preconditionFailure("LMTP: end of DATA in state \(stateName)")
        }
        return finishMessage(transaction, reception)
    }

    /// All the bytes of a BDAT chunk were read.
    public mutating func endOfChunkReceived() -> Action {
        switch state {
        case .discardingChunk(let reply, let after):
            state = after
            return .send([reply])
        case .message(let transaction, .receivingChunk(let reception, let size, let last)):
            if last {
                return finishMessage(transaction, reception)
            }
            if reception.sinkFailed {
                state = .failedChunk(transaction)
                return .send([.temporaryInternalError])
            }
            if reception.oversize {
                state = .failedChunk(transaction)
                return .send([.messageTooBig])
            }
            state = .message(transaction, .betweenChunks(reception))
            return .send([.addedOctets(size)])
        default:
            preconditionFailure("LMTP: end of a BDAT chunk in state \(stateName)")
        }
    }

    /// The backend finished ``Action/deliver(_:_:)`` with one outcome per recipient, in order.
    public mutating func delivered(_ outcomes: [LMTPDeliveryOutcome]) -> Action {
        guard case .message(let transaction, .delivering) = state else {
            preconditionFailure("LMTP: delivered in state \(stateName)")
        }
        let recipients = transaction.accepted
        precondition(
            outcomes.count == recipients.count,
            "LMTP: the backend returned \(outcomes.count) outcomes for \(recipients.count) recipients")
        state = .ready
        var replies: [LMTPReply] = []
        replies.reserveCapacity(recipients.count)
        for (recipient, outcome) in zip(recipients, outcomes) {
            switch outcome {
            case .saved:
                replies.append(.saved(path: recipient.command.path, replyID: recipient.command.replyID))
            case .duplicate(let original):
                // The same recipient given twice gets the first one's reply, word for word
                // (Dovecot's `smtp_server_reply_submit_duplicate`): its id, its address as the
                // client wrote it then, and its failure if it failed.
                precondition(original < replies.count, "LMTP: a duplicate of a later recipient (\(original))")
                replies.append(replies[original])
            case .failed(let reply), .replied(let reply):
                replies.append(reply)
            }
        }
        return .send(replies)
    }

    /// The client closed the connection (or the input failed). Returns whether a sink must
    /// be discarded; the machine is closed afterwards.
    public mutating func inputClosed() -> Action {
        let hadMessage: Bool
        if case .message = state { hadMessage = true } else { hadMessage = false }
        state = .closed
        return hadMessage ? .discardSink : .none
    }

    // MARK: - Commands

    private mutating func reset(reply: LMTPReply) -> Action {
        let hadSink: Bool
        if case .message = state { hadSink = true } else { hadSink = false }
        state = .ready
        return hadSink ? .discardSinkAndSend([reply]) : .send([reply])
    }

    private mutating func mailReceived(_ mail: LMTPMailCommand) -> Action {
        guard case .ready = state else { return .send([.mailAlreadyGiven]) }
        if let declared = mail.size, let maxMessageSize, declared > maxMessageSize {
            return .send([.declaredSizeTooBig])
        }
        transactionCount += 1
        let transactionID = transactionCount == 1 ? sessionID : "\(sessionID):T\(transactionCount)"
        let context = LMTPTransactionContext(
            sessionID: sessionID, transactionID: transactionID, lhloName: lhloName, connection: connection,
            mailFrom: mail.reversePath, body: mail.body, notificationReturn: mail.notificationReturn,
            envelopeID: mail.envelopeID)
        state = .transaction(Transaction(context: context))
        return .send([.mailOK])
    }

    private mutating func rcptReceived(_ rcpt: LMTPRcptCommand) -> Action {
        switch state {
        case .ready:
            return .send([.mailNeededFirst])
        case .transaction(var transaction):
            transaction.rcptCount += 1
            if transaction.accepted.count >= maxRecipients {
                state = .transaction(transaction)
                return .send([.tooManyRecipients])
            }
            if rcpt.forwardFields != nil, !connection.isTrusted {
                state = .transaction(transaction)
                return .send([.untrustedForwardParameter])
            }
            let index = transaction.rcptCount
            let transactionID = transaction.context.transactionID
            let recipient = LMTPRecipient(
                path: rcpt.path, address: rcpt.address, originalRecipient: rcpt.originalRecipient, index: index,
                replyID: index == 1 ? transactionID : "\(transactionID):R\(index)", notify: rcpt.notify,
                forwardFields: rcpt.forwardFields)
            state = .verifyingRecipient(transaction, recipient)
            return .verifyRecipient(recipient, transaction.context)
        case .message(_, .betweenChunks):
            return .send([LMTPReply(503, "5.5.1", "RCPT not permitted during BDAT transfer")])
        case .failedChunk:
            return .send([.previousChunkFailed])
        case .verifyingRecipient, .message, .discardingChunk, .closed:
            return .send([.invalidCommandSyntax])
        }
    }

    private mutating func dataReceived() -> Action {
        switch state {
        case .ready:
            return .send([.mailNeededFirst])
        case .transaction(let transaction):
            guard !transaction.accepted.isEmpty else { return .send([.noValidRecipients]) }
            state = .message(transaction, .creatingSink(.data))
            return .makeSink(transaction.context)
        case .message(_, .betweenChunks):
            return .send([.dataDuringBDAT])
        case .failedChunk:
            return .send([.previousChunkFailed])
        case .verifyingRecipient, .message, .discardingChunk, .closed:
            return .send([.invalidCommandSyntax])
        }
    }

    private mutating func bdatReceived(size: Int, last: Bool) -> Action {
        switch state {
        case .ready:
            state = .discardingChunk(reply: .mailNeededFirst, after: .ready)
            return .beginBDAT(byteCount: size)
        case .transaction(let transaction):
            guard !transaction.accepted.isEmpty else {
                state = .discardingChunk(reply: .noValidRecipients, after: .transaction(transaction))
                return .beginBDAT(byteCount: size)
            }
            state = .message(transaction, .creatingSink(.bdat(size: size, last: last)))
            return .makeSink(transaction.context)
        case .message(let transaction, .betweenChunks(let reception)):
            state = .message(transaction, .receivingChunk(reception, size: size, last: last))
            return .beginBDAT(byteCount: size)
        case .failedChunk(let transaction):
            state = .discardingChunk(reply: .previousChunkFailed, after: .failedChunk(transaction))
            return .beginBDAT(byteCount: size)
        case .verifyingRecipient, .message, .discardingChunk, .closed:
            state = .discardingChunk(reply: .invalidCommandSyntax, after: state)
            return .beginBDAT(byteCount: size)
        }
    }

    /// XCLIENT, checked as Dovecot 2.3 does: first the state (not inside a transaction), then
    /// the client's trust, and only then the syntax. Accepted, it changes the connection's
    /// client for the rest of the session, resets the state (as after RSET; the LHLO name stays
    /// unless `HELO=` replaces it) and is answered with the greeting.
    private mutating func xclientReceived(_ parsed: Result<LMTPXClientAttributes, LMTPCommandError>) -> Action {
        switch state {
        case .ready, .closed: break
        case .transaction, .message(_, .betweenChunks), .failedChunk:
            return .send([.xclientDuringTransaction])
        case .verifyingRecipient, .message, .discardingChunk:
            return .send([.invalidCommandSyntax])
        }
        guard connection.isTrusted else { return .send([.notFromTrustedIP]) }
        let attributes: LMTPXClientAttributes
        switch parsed {
        case .success(let value): attributes = value
        case .failure(let error): return .send([error.reply])
        }
        connection = connection.applying(attributes)
        if let helo = attributes.helo { lhloName = helo }
        if let session = attributes.session { sessionID = session }
        if case .closed = state {} else { state = .ready }
        return .proxied(attributes, greeting())
    }

    // MARK: - Message

    private func account(_ bytes: ByteBuffer, in reception: inout Reception) -> Action {
        guard !reception.oversize, !reception.sinkFailed else { return .none }
        reception.size += bytes.readableBytes
        if let maxMessageSize, reception.size > maxMessageSize {
            reception.oversize = true
            return .discardSink
        }
        return .write(bytes)
    }

    private mutating func finishMessage(_ transaction: Transaction, _ reception: Reception) -> Action {
        let count = transaction.accepted.count
        if reception.sinkFailed {
            state = .ready
            return .send(Array(repeating: .temporaryInternalError, count: count))
        }
        if reception.oversize {
            state = .ready
            return .send(Array(repeating: .messageTooBig, count: count))
        }
        state = .message(transaction, .delivering)
        return .deliver(transaction.accepted, transaction.context)
    }
}
