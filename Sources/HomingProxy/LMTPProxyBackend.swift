import Foundation
import HomingDelivery
import HomingLMTP
import HomingServer
import HomingUserdb
import Logging
import NIOCore
import NIOPosix

/// The LMTP backend of `lmtp_proxy = yes` (Dovecot's `lmtp-proxy` beside `lmtp-local`): each
/// RCPT is looked up in the passdb; a recipient with `proxy` (or `proxy_maybe` to another
/// node) is relayed to its host, whose reply is the client's; every other recipient is handed
/// to the local backend unchanged. See docs/scale-out.md.
public struct LMTPProxyBackend: LMTPBackend {
    public typealias Recipient = ProxyRecipient
    public typealias MessageSink = ProxyMessageSink

    /// Local delivery, for recipients not relayed.
    public let local: LMTPLocalBackend
    /// The `passdb { }` chain.
    public let passdb: any PassdbLookup
    /// Relay settings and the connection pool.
    public let relay: ProxyRelaySettings
    /// This node's addresses, for `proxy_maybe` and loops.
    public let selfAddresses: ProxySelfAddresses
    let logger: Logger
    let registry = ProxyTransactionRegistry()

    public init(
        local: LMTPLocalBackend, passdb: any PassdbLookup, pool: ProxyConnectionPool, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.local = local
        self.passdb = passdb
        let settings = local.delivery.settings
        var relay = ProxyRelaySettings(
            hostname: local.delivery.hostname, verboseReplies: settings.lmtpVerboseReplies, pool: pool, group: group)
        relay.addReceivedHeader = settings.lmtpAddReceivedHeader
        self.relay = relay
        self.selfAddresses = ProxySelfAddresses(settings: settings)
        var logger = logger
        logger[metadataKey: "service"] = "lmtp-proxy"
        self.logger = logger
    }

    public var hostname: String { local.hostname }

    /// Transactions with relays or local recipients not yet ended (for tests).
    public var openTransactions: Int { registry.count }

    // MARK: - RCPT

    public func verifyRecipient(
        _ recipient: LMTPRecipient, in transaction: LMTPTransactionContext
    ) async -> LMTPRecipientVerdict<ProxyRecipient> {
        switch await route(for: recipient, in: transaction) {
        case .local:
            return await verifyLocally(recipient, in: transaction)
        case .refuse(let reply):
            return .reject(reply)
        case .relay(let route, let address):
            let ttl = ProxyClientIdentity.outgoingTTL(received: transaction.connection.proxyTTL)
            let relays = registry.transaction(transaction.transactionID) {
                ProxyTransaction(context: transaction, settings: relay, logger: logger)
            }
            return await relays.rcpt(recipient, sendAs: address, route: route, ttl: ttl)
        }
    }

    private enum RouteDecision {
        case local
        case refuse(LMTPReply)
        case relay(ProxyRoute, address: String)
    }

    private func route(for recipient: LMTPRecipient, in transaction: LMTPTransactionContext) async -> RouteDecision {
        let settings = local.delivery.settings
        let split = RecipientAddress(recipient.address, delimiters: settings.recipientDelimiter)
        let name: String
        do {
            name = try local.delivery.resolver.lookupName(for: split.user)
        } catch {
            // The local path refuses it with the same reply a userdb lookup would give.
            return .local
        }
        var log = logger
        log[metadataKey: "user"] = "\(name)"
        log[metadataKey: "session"] = "\(recipient.replyID)"
        let request = UserdbRequest(
            user: name, service: "lmtp", localIP: transaction.connection.localIP,
            remoteIP: transaction.connection.remoteIP, originalUser: split.user)
        let record: UserRecord
        switch await passdb.lookupPassdb(request) {
        case .notFound:
            // Dovecot: not in the passdb, so local delivery (the userdb decides).
            return .local
        case .temporaryFailure(let reason):
            log.error("passdb lookup failed: \(reason)")
            return .refuse(ProxyReplies.passdbFailed(path: recipient.path))
        case .found(let found):
            record = found
        }
        let connection = transaction.connection
        switch ProxyFieldParser.parse(record, lookedUpName: name, defaultPort: connection.localPort ?? 24) {
        case .notProxied:
            return .local
        case .invalid(let reason):
            log.error("\(reason)")
            return .refuse(LMTPReply(451, "4.3.0", "<\(recipient.path)> Temporary internal error"))
        case .proxy(let route):
            let destination = route.destination
            if route.maybe {
                let ips: [String]
                if let hostIP = destination.hostIP {
                    ips = [hostIP]
                } else {
                    ips = await HostAddressResolver.addresses(of: destination.host)
                }
                if selfAddresses.contains(
                    ips: ips, port: destination.port, localIP: connection.localIP, localPort: connection.localPort)
                {
                    log.debug("proxy_maybe: \(destination) is this node: delivering locally")
                    return .local
                }
            }
            if route.changedUser == nil, isOurself(destination, connection) {
                log.error("Proxying to <\(name)> loops to itself")
                return .refuse(ProxyReplies.loopsToItself(path: recipient.path))
            }
            if connection.proxyTTL == 0 {
                log.error("Proxying to <\(name)> appears to be looping (TTL=0)")
                return .refuse(ProxyReplies.ttlExceeded(path: recipient.path))
            }
            return .relay(route, address: Self.address(for: recipient, changedUser: route.changedUser, split: split))
        }
    }

    /// Dovecot's `lmtp_proxy_is_ourself`: the destination is the address and port this
    /// connection came in on.
    private func isOurself(_ destination: ProxyDestination, _ connection: LMTPConnectionInfo) -> Bool {
        guard let localPort = connection.localPort, destination.port == localPort,
            let localIP = connection.localIP.flatMap(ProxyFieldParser.normalizedIP),
            let ip = destination.hostIP ?? ProxyFieldParser.normalizedIP(destination.host)
        else { return false }
        return ip == localIP
    }

    /// The address sent on: the client's, or the passdb's user with the detail put back
    /// (`bob+lists@a` with `destuser=robert@b` gives `robert+lists@b`).
    static func address(for recipient: LMTPRecipient, changedUser: String?, split: RecipientAddress) -> String {
        guard let changedUser else { return recipient.address }
        guard let detail = split.detail else { return changedUser }
        let localPart = split.user.split(separator: "@", omittingEmptySubsequences: false).first.map(String.init) ?? split.user
        let delimiterIndex = recipient.address.index(
            recipient.address.startIndex, offsetBy: min(localPart.count, recipient.address.count - 1))
        let delimiter = recipient.address[delimiterIndex]
        if let at = changedUser.lastIndex(of: "@") {
            return String(changedUser[..<at]) + String(delimiter) + detail + String(changedUser[at...])
        }
        return changedUser + String(delimiter) + detail
    }

    private func verifyLocally(
        _ recipient: LMTPRecipient, in transaction: LMTPTransactionContext
    ) async -> LMTPRecipientVerdict<ProxyRecipient> {
        switch await local.verifyRecipient(recipient, in: transaction) {
        case .accept(let user):
            registry.markLocal(transaction.transactionID)
            return .accept(.local(user))
        case .acceptReplying(let user, let reply):
            registry.markLocal(transaction.transactionID)
            return .acceptReplying(.local(user), reply)
        case .reject(let reply):
            return .reject(reply)
        }
    }

    // MARK: - Message

    /// The message's way out: the local spool (when local recipients were accepted) and
    /// every destination's DATA stream.
    public struct ProxyMessageSink: LMTPMessageSink {
        let local: LMTPLocalBackend.SpoolSink?
        let relays: ProxyTransaction?

        public func write(_ bytes: ByteBuffer) async throws {
            if let relays {
                await relays.write(bytes)
            } else if let local {
                try await local.write(bytes)
            }
        }

        public func discard() async {
            if let relays {
                await relays.release(discardingLocal: true)
            } else if let local {
                await local.discard()
            }
        }
    }

    public func makeMessageSink(for transaction: LMTPTransactionContext) async throws -> ProxyMessageSink {
        let entry = registry.entry(transaction.transactionID)
        let localSink = entry?.hasLocal == true ? try await local.makeMessageSink(for: transaction) : nil
        if let relays = entry?.transaction {
            if let localSink { await relays.setLocalSink(localSink) }
            var header: String?
            if relay.addReceivedHeader {
                let relayed = await relays.relayedRecipients
                let single = relayed.count + (entry?.localCount ?? 0) == 1 ? relayed.first : nil
                header = Self.receivedHeader(transaction, single: single, hostname: relay.hostname)
            }
            await relays.beginData(header: header)
        }
        return ProxyMessageSink(local: localSink, relays: entry?.transaction)
    }

    /// This node's `Received:` for a relayed copy, as local delivery writes it (`for <...>`
    /// only when the transaction has one recipient).
    static func receivedHeader(_ transaction: LMTPTransactionContext, single: LMTPRecipient?, hostname: String) -> String {
        let received = DeliveryHeaders.Received(
            from: transaction.lhloName ?? "unknown", remoteIP: transaction.connection.remoteIP, by: hostname,
            id: transaction.sessionID, envelopeFrom: transaction.mailFrom, forRecipient: single?.address, date: Date())
        return DeliveryHeaders(returnPath: transaction.mailFrom, deliveredTo: nil, received: received).forwardedText
    }

    public func deliver(
        _ sink: ProxyMessageSink, to recipients: [LMTPAcceptedRecipient<ProxyRecipient>],
        in transaction: LMTPTransactionContext
    ) async -> [LMTPDeliveryOutcome] {
        var localPositions: [Int] = []
        var localRecipients: [LMTPAcceptedRecipient<DeliveryUser>] = []
        for (index, recipient) in recipients.enumerated() {
            if case .local(let user) = recipient.resolved {
                localPositions.append(index)
                localRecipients.append(LMTPAcceptedRecipient(command: recipient.command, resolved: user))
            }
        }
        async let relayed = sink.relays?.finish() ?? [:]
        var localOutcomes: [LMTPDeliveryOutcome] = []
        if !localRecipients.isEmpty {
            let spoolFailed = await sink.relays?.localSpoolFailed ?? false
            if let localSink = sink.local, !spoolFailed {
                localOutcomes = await local.deliver(localSink, to: localRecipients, in: transaction)
            } else {
                if let localSink = sink.local { await localSink.discard() }
                localOutcomes = localRecipients.map {
                    .failed(LMTPReply(451, "4.3.0", "<\($0.command.path)> Temporary internal error"))
                }
            }
        } else if let localSink = sink.local {
            await localSink.discard()
        }
        let replies = await relayed
        await sink.relays?.release(discardingLocal: false)
        _ = registry.remove(transaction.transactionID)
        return Self.merge(recipients: recipients, localPositions: localPositions, localOutcomes: localOutcomes, relayed: replies)
    }

    /// One outcome per recipient in RCPT order: local outcomes (a local duplicate pointing at
    /// its original's place in the whole list) and relayed replies interleaved.
    static func merge(
        recipients: [LMTPAcceptedRecipient<ProxyRecipient>], localPositions: [Int], localOutcomes: [LMTPDeliveryOutcome],
        relayed: [ProxyDestination: [LMTPReply]]
    ) -> [LMTPDeliveryOutcome] {
        var outcomes: [LMTPDeliveryOutcome] = []
        outcomes.reserveCapacity(recipients.count)
        var nextLocal = 0
        for recipient in recipients {
            switch recipient.resolved {
            case .local:
                guard nextLocal < localOutcomes.count else {
                    outcomes.append(.failed(.temporaryInternalError))
                    continue
                }
                switch localOutcomes[nextLocal] {
                case .duplicate(let original) where original < localPositions.count:
                    outcomes.append(.duplicate(ofRecipientAt: localPositions[original]))
                case .duplicate:
                    outcomes.append(.failed(.temporaryInternalError))
                case let other:
                    outcomes.append(other)
                }
                nextLocal += 1
            case .relayed(let destination, let position):
                if let replies = relayed[destination], position < replies.count {
                    outcomes.append(.replied(replies[position]))
                } else {
                    outcomes.append(
                        .failed(LMTPReply(451, "4.4.0", "Proxy failed (session=\(recipient.command.replyID))")))
                }
            }
        }
        return outcomes
    }

    public func transactionEnded(_ transactionID: String) async {
        guard let entry = registry.remove(transactionID) else { return }
        await entry.transaction?.release(discardingLocal: true)
    }
}
