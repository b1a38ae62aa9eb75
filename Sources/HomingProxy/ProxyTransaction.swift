import HomingLMTP
import HomingServer
import Logging
import NIOCore

/// What every relay of a node shares: the pool, the name it greets with, reply style.
public struct ProxyRelaySettings: Sendable {
    /// The name sent in `LHLO`.
    public var hostname: String
    /// `lmtp_verbose_replies`.
    public var verboseReplies: Bool
    /// `lmtp_add_received_header`: the relayed copy gets this node's `Received:` on top, as
    /// Dovecot's proxy adds it.
    public var addReceivedHeader: Bool = true
    /// Connections kept between transactions.
    public var pool: ProxyConnectionPool
    public var group: any EventLoopGroup

    public init(hostname: String, verboseReplies: Bool, pool: ProxyConnectionPool, group: any EventLoopGroup) {
        self.hostname = hostname
        self.verboseReplies = verboseReplies
        self.pool = pool
        self.group = group
    }
}

/// One client transaction's relays (Dovecot's `struct lmtp_proxy`): one client session per
/// destination, set up at its first RCPT (connect, LHLO, XCLIENT, MAIL), the message streamed
/// to each as it arrives, and one reply per relayed recipient at the end. A destination that
/// fails affects only its own recipients.
actor ProxyTransaction {
    private struct Relay {
        var connection: LMTPClientConnection?
        var failure: LMTPClientError?
        /// The destination refused `MAIL FROM`: each RCPT gets this reply (as in Dovecot).
        var mailRefusal: LMTPReply?
        /// The recipients it accepted, in order.
        var accepted: [LMTPRecipient] = []
        var timeout: TimeAmount
        var sending = false
        /// The destination answered the end of data: its transaction is over, no RSET needed.
        var finished = false
        var encoder = DotStuffingEncoder()
        /// Encoded message bytes not written yet: gathered up to ``ProxyTransaction/writeBatch``
        /// so that a small message goes out in one write with its end, not one per read.
        var pending = ByteBuffer()
    }

    /// How many encoded message bytes are gathered for a destination before they are written
    /// (and the write awaited, which is the backpressure): a message smaller than this goes to
    /// the destination in one write, together with its end.
    static let writeBatch = 64 * 1024

    let context: LMTPTransactionContext
    let settings: ProxyRelaySettings
    let logger: Logger
    private var relays: [ProxyDestination: Relay] = [:]
    private var order: [ProxyDestination] = []
    private var local: LMTPLocalBackend.SpoolSink?
    private var localFailure: (any Error)?
    private var sessionCounter = 0

    init(context: LMTPTransactionContext, settings: ProxyRelaySettings, logger: Logger) {
        self.context = context
        self.settings = settings
        self.logger = logger
    }

    // MARK: - RCPT

    /// Relays a `RCPT TO` to the route's destination; its answer is the answer to the client.
    func rcpt(_ recipient: LMTPRecipient, sendAs address: String, route: ProxyRoute, ttl: Int)
        async -> LMTPRecipientVerdict<ProxyRecipient>
    {
        let destination = route.destination
        var pipelinedReply: LMTPReply?
        if relays[destination] == nil {
            order.append(destination)
            relays[destination] = Relay(timeout: .seconds(Int64(route.timeoutSeconds)))
            do {
                let (connection, reply, rcptReply) = try await start(route, ttl: ttl) { connection in
                    self.rcptCommand(recipient, address: address, forward: route.forwardFields, connection)
                }
                relays[destination]?.connection = connection
                if !reply.isPositive {
                    logger.info("proxy: \(destination) refused MAIL FROM:<\(context.mailFrom)>: \(reply)")
                    relays[destination]?.mailRefusal = reply
                } else {
                    pipelinedReply = rcptReply
                }
            } catch {
                logger.error("proxy: \(destination): \(error)")
                relays[destination]?.failure = error
            }
        }
        guard let relay = relays[destination] else { return .reject(.temporaryInternalError) }
        if let failure = relay.failure {
            return .reject(ProxyRelies.failed(failure, recipient, settings))
        }
        if let refusal = relay.mailRefusal {
            return .reject(ProxyReplies.forwarded(refusal, path: recipient.path))
        }
        guard let connection = relay.connection else { return .reject(.temporaryInternalError) }
        do {
            let reply: LMTPReply
            if let pipelinedReply {
                reply = pipelinedReply
            } else {
                reply = try await connection.command(
                    rcptCommand(recipient, address: address, forward: route.forwardFields, connection), timeout: relay.timeout)
            }
            guard reply.isPositive else {
                logger.info("proxy: \(destination) refused <\(address)>: \(reply)")
                return .reject(ProxyReplies.rcpt(reply, path: recipient.path))
            }
            relays[destination]?.accepted.append(recipient)
            let position = (relays[destination]?.accepted.count ?? 1) - 1
            return .acceptReplying(
                .relayed(destination: destination, position: position), ProxyReplies.rcpt(reply, path: recipient.path))
        } catch {
            logger.error("proxy: \(destination): RCPT TO:<\(address)> failed: \(error)")
            relays[destination]?.failure = error
            relays[destination]?.connection = nil
            return .reject(ProxyRelies.failed(error, recipient, settings))
        }
    }

    /// A connection with `MAIL FROM` sent, and its reply; with `PIPELINING`, the first
    /// `RCPT TO` (from `rcptLine`) goes in the same write and its reply comes back too. A
    /// pooled connection that turns out dead (closed by the destination while idle) is replaced
    /// by a new one, once.
    private func start(
        _ route: ProxyRoute, ttl: Int, rcptLine: (LMTPClientConnection) -> String
    ) async throws(LMTPClientError) -> (LMTPClientConnection, LMTPReply, LMTPReply?) {
        let (connection, pooled) = try await open(route, ttl: ttl, pooled: true)
        do {
            return try await mail(on: connection, route: route, rcptLine: rcptLine)
        } catch {
            guard pooled else { throw error }
            logger.debug("proxy: \(route.destination): pooled connection failed (\(error)), connecting again")
            let (fresh, _) = try await open(route, ttl: ttl, pooled: false)
            return try await mail(on: fresh, route: route, rcptLine: rcptLine)
        }
    }

    private func mail(
        on connection: LMTPClientConnection, route: ProxyRoute, rcptLine: (LMTPClientConnection) -> String
    ) async throws(LMTPClientError) -> (LMTPClientConnection, LMTPReply, LMTPReply?) {
        let timeout = TimeAmount.seconds(Int64(route.timeoutSeconds))
        guard connection.capabilities["PIPELINING"] != nil else {
            return (connection, try await connection.command(mailCommand(connection), timeout: timeout), nil)
        }
        let lines = mailCommand(connection) + "\r\n" + rcptLine(connection) + "\r\n"
        let replies = try await connection.send(ByteBuffer(string: lines), replies: 2, timeout: timeout)
        guard replies.count == 2 else { throw .badReply("Expected 2 replies, got \(replies.count)") }
        return (connection, replies[0], replies[1])
    }

    /// A pooled connection (re-announced with XCLIENT if the client differs), else a new one;
    /// and whether it came from the pool.
    private func open(_ route: ProxyRoute, ttl: Int, pooled allowPooled: Bool)
        async throws(LMTPClientError) -> (LMTPClientConnection, Bool)
    {
        let destination = route.destination
        let timeout = TimeAmount.seconds(Int64(route.timeoutSeconds))
        sessionCounter += 1
        let identity = ProxyClientIdentity(
            helo: context.lhloName, session: "\(context.transactionID):P\(sessionCounter)", ttl: ttl,
            timeout: context.connection.proxyTimeout, port: context.connection.remotePort, address: context.connection.remoteIP)
        var connection: LMTPClientConnection
        var fromPool = false
        let acquired = await settings.pool.acquire(
            destination, timeout: .nanoseconds(timeout.nanoseconds), pooled: allowPooled)
        switch acquired {
        case nil:
            throw limitReached(route)
        case .pooled(let pooled):
            fromPool = true
            connection = pooled
            if !route.notTrusted, let advertised = connection.capabilities["XCLIENT"] {
                let attributes = identity.attributes(advertised: advertised)
                if connection.xclientSent.map(ProxyClientIdentity.comparable) != ProxyClientIdentity.comparable(attributes) {
                    do {
                        try await announce(attributes, on: connection, timeout: timeout)
                    } catch {
                        connection.abort()
                        connection = try await fresh(route, identity: identity, timeout: timeout, placeTaken: false)
                        fromPool = false
                    }
                }
            }
        case .open:
            connection = try await fresh(route, identity: identity, timeout: timeout, placeTaken: true)
        }
        return (connection, fromPool)
    }

    /// A new connection, greeted and announced. `placeTaken`: ``ProxyConnectionPool/acquire(_:timeout:pooled:)``
    /// already gave the place for it; otherwise one is asked for first.
    private func fresh(_ route: ProxyRoute, identity: ProxyClientIdentity, timeout: TimeAmount, placeTaken: Bool)
        async throws(LMTPClientError) -> LMTPClientConnection
    {
        if !placeTaken {
            guard case .open = await settings.pool.acquire(
                route.destination, timeout: .nanoseconds(timeout.nanoseconds), pooled: false)
            else { throw limitReached(route) }
        }
        let connection: LMTPClientConnection
        do {
            connection = try await LMTPClientConnection.connect(
                to: route.destination, timeout: timeout, group: settings.group)
        } catch {
            await settings.pool.abandon(route.destination)
            throw error
        }
        // Counted among the destination's open connections until its channel closes.
        await settings.pool.opened(connection)
        try await connection.hello(settings.hostname, timeout: timeout)
        if !route.notTrusted, let advertised = connection.capabilities["XCLIENT"] {
            try await announce(identity.attributes(advertised: advertised), on: connection, timeout: timeout)
        }
        return connection
    }

    private func limitReached(_ route: ProxyRoute) -> LMTPClientError {
        .timedOut(
            "\(settings.pool.maximumPerDestination) connections to \(route.destination) are in use; none came free within \(route.timeoutSeconds) s")
    }

    /// `XCLIENT ...`, then `LHLO` again (the server is back at its greeting), as Dovecot's
    /// client does. A refusal (other than 421) is logged and the session goes on, as in Dovecot.
    private func announce(_ attributes: [String], on connection: LMTPClientConnection, timeout: TimeAmount)
        async throws(LMTPClientError)
    {
        guard !attributes.isEmpty else { return }
        var line = "XCLIENT " + attributes.joined(separator: " ")
        if line.utf8.count > 500 {
            line = "XCLIENT " + attributes.filter { !$0.hasPrefix("HELO=") }.joined(separator: " ")
        }
        let reply = try await connection.command(line, timeout: timeout)
        if reply.isPositive {
            connection.xclientSent = attributes
        } else {
            logger.warning("proxy: \(connection.destination) refused XCLIENT: \(reply)")
        }
        try await connection.hello(settings.hostname, timeout: timeout)
    }

    private func mailCommand(_ connection: LMTPClientConnection) -> String {
        var line = "MAIL FROM:<\(context.mailFrom)>"
        let capabilities = connection.capabilities
        if let body = context.body, capabilities["8BITMIME"] != nil || body == "7BIT" {
            line += " BODY=\(body)"
        }
        if capabilities["DSN"] != nil {
            if let ret = context.notificationReturn { line += " RET=\(ret.rawValue)" }
            if let envid = context.envelopeID { line += " ENVID=\(Xtext.encode(envid))" }
        }
        return line
    }

    private func rcptCommand(
        _ recipient: LMTPRecipient, address: String, forward: LMTPForwardFields?, _ connection: LMTPClientConnection
    ) -> String {
        var line = "RCPT TO:<\(address)>"
        if connection.capabilities["DSN"] != nil, let notify = recipient.notify {
            line += " NOTIFY=\(notify)"
        }
        // ORCPT is always passed (Dovecot forces it), and added when the address changed.
        if let original = recipient.originalRecipient {
            line += " ORCPT=\(original.encoded)"
        } else if address != recipient.address {
            line += " ORCPT=rfc822;\(Xtext.encode(recipient.address))"
        }
        // The passdb's forward_* fields, else what a proxy before this one forwarded, to a
        // destination that offers XRCPTFORWARD (Dovecot offers it to trusted clients only).
        if connection.capabilities["XRCPTFORWARD"] != nil, let fields = forward ?? recipient.forwardFields {
            line += " XRCPTFORWARD=\(fields.encoded)"
        }
        return line
    }

    // MARK: - Message

    /// Local recipients were accepted: their copy is spooled by `sink`.
    func setLocalSink(_ sink: LMTPLocalBackend.SpoolSink) {
        local = sink
    }

    /// The recipients relayed, in RCPT order of each destination.
    var relayedRecipients: [LMTPRecipient] {
        order.flatMap { relays[$0]?.accepted ?? [] }
    }

    /// `DATA` to every destination that accepted a recipient, then `header` (this node's
    /// trace header, LF-ended lines) as the start of the message.
    func beginData(header: String?) async {
        for destination in order {
            guard let relay = relays[destination], relay.failure == nil, let connection = relay.connection,
                !relay.accepted.isEmpty
            else { continue }
            do {
                let reply = try await connection.command("DATA", timeout: relay.timeout)
                guard reply.code == 354 else { throw LMTPClientError.badReply("DATA refused: \(reply)") }
                relays[destination]?.sending = true
                if let header, var encoder = relays[destination]?.encoder {
                    var bytes = encoder.encode(ByteBuffer(string: header))
                    relays[destination]?.encoder = encoder
                    relays[destination]?.pending.writeBuffer(&bytes)
                }
            } catch {
                fail(destination, error)
            }
        }
    }

    /// The next bytes of the message, to the local spool and every destination in turn,
    /// each write awaited (backpressure). A destination that fails is dropped; a local spool
    /// failure fails the local recipients only.
    func write(_ bytes: ByteBuffer) async {
        if let local, localFailure == nil {
            do {
                try await local.write(bytes)
            } catch {
                logger.error("proxy: spooling the local copy failed: \(error)")
                localFailure = error
            }
        }
        for destination in order {
            guard var relay = relays[destination], relay.sending, let connection = relay.connection else { continue }
            var encoded = relay.encoder.encode(bytes)
            relay.pending.writeBuffer(&encoded)
            guard relay.pending.readableBytes >= Self.writeBatch else {
                relays[destination] = relay
                continue
            }
            let batch = relay.pending
            relay.pending = ByteBuffer()
            relays[destination] = relay
            do {
                try await connection.write(batch, timeout: relay.timeout)
            } catch {
                fail(destination, error)
            }
        }
    }

    /// Ends the message at each destination and collects the final reply of each relayed
    /// recipient, keyed by destination, in each destination's RCPT order.
    func finish() async -> [ProxyDestination: [LMTPReply]] {
        var results: [ProxyDestination: [LMTPReply]] = [:]
        await withTaskGroup(of: (ProxyDestination, [LMTPReply]).self) { group in
            for destination in order {
                guard var relay = relays[destination], !relay.accepted.isEmpty else { continue }
                let recipients = relay.accepted
                guard relay.sending, let connection = relay.connection else {
                    let error = relay.failure ?? .connectionLost("Connection lost")
                    results[destination] = recipients.map {
                        ProxyReplies.relayFailed(error, replyID: $0.replyID, verbose: settings.verboseReplies)
                    }
                    continue
                }
                var end = relay.pending
                var last = relay.encoder.finish()
                end.writeBuffer(&last)
                relays[destination]?.pending = ByteBuffer()
                let expected = destination.proto == .lmtp ? recipients.count : 1
                let timeout = relay.timeout
                let verbose = settings.verboseReplies
                let logger = self.logger
                group.addTask {
                    do {
                        let replies = try await connection.send(end, replies: expected, timeout: timeout)
                        return (
                            destination,
                            recipients.enumerated().map { index, recipient in
                                let reply = replies[destination.proto == .lmtp ? index : 0]
                                logger.info(
                                    "proxy: <\(recipient.replyID)>: \(reply.isPositive ? "Sent message to" : "Failed to send message to") <\(recipient.address)> at \(destination): \(reply)")
                                return ProxyReplies.data(reply, path: recipient.path, replyID: recipient.replyID)
                            }
                        )
                    } catch {
                        let failure = error as? LMTPClientError ?? .connectionLost("\(error)")
                        logger.error("proxy: \(destination): end of data failed: \(failure)")
                        return (
                            destination, recipients.map { ProxyReplies.relayFailed(failure, replyID: $0.replyID, verbose: verbose) }
                        )
                    }
                }
            }
            for await (destination, replies) in group {
                results[destination] = replies
                relays[destination]?.sending = false
                relays[destination]?.finished = true
                if relays[destination]?.connection?.isUsable != true {
                    relays[destination]?.connection?.abort()
                    relays[destination]?.connection = nil
                }
            }
        }
        return results
    }

    /// Whether the local copy was spooled completely.
    var localSpoolFailed: Bool { localFailure != nil }

    private func fail(_ destination: ProxyDestination, _ error: any Error) {
        let failure = error as? LMTPClientError ?? .connectionLost("\(error)")
        logger.error("proxy: \(destination): \(failure)")
        relays[destination]?.failure = failure
        relays[destination]?.sending = false
        relays[destination]?.connection?.abort()
        relays[destination]?.connection = nil
    }

    // MARK: - End

    /// The transaction is over: healthy connections are pooled (reset with `RSET` first unless
    /// the message was completed there), the others closed; the local spool, if not handed to delivery, is discarded.
    func release(discardingLocal: Bool) async {
        if discardingLocal, let local { await local.discard() }
        local = nil
        for destination in order {
            guard let relay = relays[destination], let connection = relay.connection else { continue }
            relays[destination]?.connection = nil
            if relay.sending {
                // Abandoned inside DATA (the client went away, or RSET after a failed BDAT):
                // an RSET now would be message text. Closing makes the destination drop the
                // unfinished message.
                connection.abort()
                continue
            }
            if relay.finished {
                // After the end-of-data replies the destination is ready for the next MAIL.
                await settings.pool.give(connection)
                continue
            }
            do {
                let reply = try await connection.command("RSET", timeout: relay.timeout)
                if reply.isPositive {
                    await settings.pool.give(connection)
                } else {
                    connection.abort()
                }
            } catch {
                connection.abort()
            }
        }
    }
}

/// The `451 4.4.0` for a recipient whose destination failed.
enum ProxyRelies {
    static func failed(_ error: LMTPClientError, _ recipient: LMTPRecipient, _ settings: ProxyRelaySettings) -> LMTPReply {
        ProxyReplies.relayFailed(error, replyID: recipient.replyID, verbose: settings.verboseReplies)
    }
}
