import Logging
import NIOCore

/// Runs one LMTP connection: reads the client's bytes, answers, and calls the backend.
///
/// The I/O shell around ``LMTPInputFramer``, ``LMTPCommandParser`` and
/// ``LMTPSessionStateMachine``. Replies that are ready are written in one batch before the
/// session waits for more input, so a pipelining client gets every reply, in order, with
/// few flushes. Message bytes are handed to the backend's sink as they arrive; each write is
/// awaited, which is the backpressure on the client.
public struct LMTPSession<Backend: LMTPBackend> {
    /// The layer answering RCPT and storing messages.
    public let backend: Backend
    /// The connection's addresses.
    public let connection: LMTPConnectionInfo
    /// Limits and host name.
    public let configuration: LMTPSessionConfiguration
    /// This connection's session id.
    public let sessionID: String
    /// The session's logger (with `session` metadata).
    public let logger: Logger

    /// Prepares a session; ``run(input:output:)`` runs it.
    /// - Parameter sessionID: the session id; tests pass a fixed one, servers leave the random default.
    public init(
        backend: Backend, connection: LMTPConnectionInfo, configuration: LMTPSessionConfiguration = .init(),
        logger: Logger, sessionID: String = LMTPSessionID.random()
    ) {
        self.backend = backend
        self.connection = connection
        self.configuration = configuration
        self.sessionID = sessionID
        var logger = logger
        logger[metadataKey: "session"] = "\(sessionID)"
        self.logger = logger
    }

    /// The host name used in replies: the configuration's, else the backend's.
    public var hostname: String { configuration.hostname ?? backend.hostname }

    /// Runs the session until QUIT, the end of the input, or a write failure. Never throws:
    /// client and backend errors become replies or log lines. An unfinished message is
    /// discarded, never delivered.
    public func run<Input: AsyncSequence>(input: Input, output: some LMTPReplyWriter) async
    where Input.Element == ByteBuffer {
        var driver = Driver(
            session: self,
            machine: LMTPSessionStateMachine(
                sessionID: sessionID, hostname: hostname, maxRecipients: configuration.maxRecipients,
                maxMessageSize: configuration.maxMessageSize, connection: connection),
            framer: LMTPInputFramer(maximumLineLength: configuration.maxCommandLineLength))
        await driver.run(input: input, output: output)
    }

    /// The session's mutable parts, alive for one `run`.
    private struct Driver {
        let session: LMTPSession
        var machine: LMTPSessionStateMachine<Backend.Recipient>
        var framer: LMTPInputFramer
        var sink: Backend.MessageSink?
        var pending: [LMTPReply] = []
        /// The session's logger; its `session` metadata follows an XCLIENT `SESSION=`.
        var logger: Logger

        init(session: LMTPSession, machine: LMTPSessionStateMachine<Backend.Recipient>, framer: LMTPInputFramer) {
            self.session = session
            self.machine = machine
            self.framer = framer
            self.logger = session.logger
        }

        /// The client's address: after a trusted proxy's XCLIENT, the original client's.
        var peer: String { machine.connection.remoteIP ?? "local" }

        mutating func run<Input: AsyncSequence>(input: Input, output: some LMTPReplyWriter) async
        where Input.Element == ByteBuffer {
            logger.debug("Connect from \(peer)")
            pending.append(machine.greeting())
            var iterator = input.makeAsyncIterator()
            var reads = 0
            while true {
                while let event = framer.next() {
                    guard await handle(event) else {
                        // QUIT: the reply is the last thing written.
                        try? await output.write(pending, waitingAfterReads: nil)
                        pending = []
                        logger.debug("Disconnect from \(peer): Client has quit the connection")
                        return
                    }
                }
                // Everything the input allowed is done: the replies go out, marked as the point
                // where the session waits for its client.
                do {
                    try await output.write(pending, waitingAfterReads: reads)
                } catch {
                    pending = []
                    await connectionLost(reason: "Write failed: \(error)")
                    return
                }
                pending = []
                let next: ByteBuffer?
                do {
                    next = try await iterator.next()
                } catch {
                    await connectionLost(reason: "Read failed: \(error)")
                    return
                }
                reads += 1
                guard let next else {
                    await connectionLost(reason: "Connection closed")
                    return
                }
                framer.append(next)
            }
        }

        /// Handles one framer event; `false` once the session must end (QUIT).
        private mutating func handle(_ event: LMTPInputFramer.Event) async -> Bool {
            let action: LMTPSessionStateMachine<Backend.Recipient>.Action
            switch event {
            case .line(let line):
                action = machine.commandReceived(LMTPCommandParser.parse(line))
            case .lineTooLong:
                logger.debug("Command line too long")
                action = machine.lineTooLong()
            case .dataChunk(let bytes), .bdatChunk(let bytes):
                action = machine.messageBytesReceived(bytes)
            case .endOfData:
                action = machine.endOfDataReceived()
            case .endOfBDATChunk:
                action = machine.endOfChunkReceived()
            }
            let open = machine.openTransactionID
            let result = await perform(action)
            if let open, machine.openTransactionID != open {
                await session.backend.transactionEnded(open)
            }
            return result
        }

        /// Performs an action and those that follow from it; `false` once the session must end.
        private mutating func perform(_ first: LMTPSessionStateMachine<Backend.Recipient>.Action) async -> Bool {
            var action = first
            while true {
                switch action {
                case .none:
                    return true
                case .send(let replies):
                    pending.append(contentsOf: replies)
                    return true
                case .sendAndClose(let reply):
                    await discardSink()
                    pending.append(reply)
                    return false
                case .verifyRecipient(let recipient, let context):
                    let verdict = await session.backend.verifyRecipient(recipient, in: context)
                    action = machine.recipientVerified(verdict)
                case .makeSink(let context):
                    do {
                        sink = try await session.backend.makeMessageSink(for: context)
                        action = machine.sinkCreated()
                    } catch {
                        logger.error("Cannot start receiving the message: \(error)")
                        action = machine.sinkCreationFailed()
                    }
                case .beginData(let reply):
                    pending.append(reply)
                    framer.beginData()
                    return true
                case .beginBDAT(let byteCount):
                    framer.beginBDAT(byteCount: byteCount)
                    return true
                case .write(let bytes):
                    guard let sink else {
                        preconditionFailure("LMTP: message bytes without a message sink")
                    }
                    do {
                        try await sink.write(bytes)
                        return true
                    } catch {
                        logger.error("Writing the message failed: \(error)")
                        action = machine.sinkWriteFailed()
                    }
                case .discardSink:
                    await discardSink()
                    return true
                case .discardSinkAndSend(let replies):
                    await discardSink()
                    pending.append(contentsOf: replies)
                    return true
                case .proxied(let attributes, let reply):
                    logProxied(attributes)
                    pending.append(reply)
                    return true
                case .deliver(let recipients, let context):
                    guard let sink else {
                        preconditionFailure("LMTP: deliver without a message sink")
                    }
                    self.sink = nil
                    var outcomes = await session.backend.deliver(sink, to: recipients, in: context)
                    if outcomes.count != recipients.count {
                        // A backend bug: the recipients without an outcome may retry.
                        logger.error(
                            "The backend returned \(outcomes.count) delivery outcomes for \(recipients.count) recipients")
                        outcomes = Array(outcomes.prefix(recipients.count))
                        outcomes += Array(
                            repeating: .failed(.temporaryInternalError), count: recipients.count - outcomes.count)
                    }
                    action = machine.delivered(outcomes)
                }
            }
        }

        /// A trusted proxy named the original client: one info line, so that the log shows
        /// where the mail really comes from (the delivery lines that follow carry the session).
        private mutating func logProxied(_ attributes: LMTPXClientAttributes) {
            let connection = machine.connection
            let previous = logger[metadataKey: "session"]
            logger[metadataKey: "session"] = "\(machine.sessionID)"
            var client = connection.remoteIP ?? "local"
            if let port = connection.remotePort { client += " port \(port)" }
            var details: [String] = []
            if let ttl = connection.proxyTTL { details.append("TTL=\(ttl)") }
            if let timeout = attributes.timeout { details.append("TIMEOUT=\(timeout)") }
            if let helo = attributes.helo { details.append("HELO=\(helo)") }
            if let previous, "\(previous)" != machine.sessionID { details.append("previous session \(previous)") }
            let proxy = connection.proxyIP ?? session.connection.remoteIP ?? "local"
            logger.info(
                "XCLIENT from proxy \(proxy): client is \(client)\(details.isEmpty ? "" : " (" + details.joined(separator: ", ") + ")")")
        }

        private mutating func discardSink() async {
            guard let sink else { return }
            self.sink = nil
            await sink.discard()
        }

        private mutating func connectionLost(reason: String) async {
            let stateName = machine.stateName
            let unfinished = machine.isReceivingMessage
            let open = machine.openTransactionID
            _ = machine.inputClosed()
            // Whatever the state, a message not yet handed to `deliver` is dropped.
            await discardSink()
            if let open { await session.backend.transactionEnded(open) }
            if unfinished {
                let command = stateName == "BDAT" ? "BDAT" : "DATA"
                logger.info(
                    "Disconnect from \(peer): \(reason) (unfinished \(command) command) (state=\(stateName))")
            } else {
                logger.debug("Disconnect from \(peer): \(reason) (state=\(stateName))")
            }
        }
    }
}

/// Runs one LMTP session over `input`/`output` until QUIT or the end of the input.
/// See ``LMTPSession``.
public func runLMTPSession<Backend: LMTPBackend, Input: AsyncSequence>(
    input: Input, output: some LMTPReplyWriter, backend: Backend, connection: LMTPConnectionInfo,
    configuration: LMTPSessionConfiguration = .init(), logger: Logger,
    sessionID: String = LMTPSessionID.random()
) async where Input.Element == ByteBuffer {
    let session = LMTPSession(
        backend: backend, connection: connection, configuration: configuration, logger: logger,
        sessionID: sessionID)
    await session.run(input: input, output: output)
}

/// Serves one LMTP connection on a `NIOAsyncChannel`, closing it afterwards (`executeThenClose`).
///
/// The channel's pipeline should hold an ``LMTPConnectionHandler``, which turns the session's
/// output into bytes and closes idle connections and, when the server quiesces, waiting ones.
public func serveLMTP<Backend: LMTPBackend>(
    channel: NIOAsyncChannel<ByteBuffer, LMTPSessionOutput>, backend: Backend, connection: LMTPConnectionInfo,
    configuration: LMTPSessionConfiguration = .init(), logger: Logger, sessionID: String = LMTPSessionID.random()
) async throws {
    try await channel.executeThenClose { inbound, outbound in
        await runLMTPSession(
            input: inbound, output: LMTPChannelReplyWriter(outbound), backend: backend, connection: connection,
            configuration: configuration, logger: logger, sessionID: sessionID)
    }
}
