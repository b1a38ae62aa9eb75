import HomingDelivery
import HomingLMTP
import NIOCore

/// The LMTP backend that delivers locally (Dovecot's `lmtp-local`): it hands each RCPT and
/// each message to the delivery core and answers with ``LMTPDeliveryReplies``.
public struct LMTPLocalBackend: LMTPBackend {
    public typealias Recipient = DeliveryUser
    public typealias MessageSink = SpoolSink

    /// The delivery core.
    public let delivery: LocalDelivery

    /// Serves LMTP sessions with `delivery`.
    public init(delivery: LocalDelivery) {
        self.delivery = delivery
    }

    public var hostname: String { delivery.hostname }

    /// The message being received, spooled by the delivery core.
    public struct SpoolSink: LMTPMessageSink {
        let spool: MessageSpool

        public func write(_ bytes: ByteBuffer) async throws { try await spool.write(bytes) }
        public func discard() async { await spool.discard() }
    }

    public func verifyRecipient(
        _ recipient: LMTPRecipient, in transaction: LMTPTransactionContext
    ) async -> LMTPRecipientVerdict<DeliveryUser> {
        switch await delivery.checkRecipient(Self.recipient(recipient), envelope: Self.envelope(transaction)) {
        case .accepted(let user): return .accept(user)
        case .failed(let failure): return .reject(LMTPDeliveryReplies.reply(for: failure, path: recipient.path))
        }
    }

    public func makeMessageSink(for transaction: LMTPTransactionContext) async throws -> SpoolSink {
        SpoolSink(spool: try await delivery.makeSpool(for: Self.envelope(transaction)))
    }

    public func deliver(
        _ sink: SpoolSink, to recipients: [LMTPAcceptedRecipient<DeliveryUser>], in transaction: LMTPTransactionContext
    ) async -> [LMTPDeliveryOutcome] {
        let accepted = recipients.map { AcceptedRecipient(recipient: Self.recipient($0.command), user: $0.resolved) }
        let outcomes = await delivery.deliver(sink.spool, to: accepted, envelope: Self.envelope(transaction))
        return zip(recipients, outcomes).map { recipient, outcome in
            LMTPDeliveryReplies.outcome(for: outcome, path: recipient.command.path)
        }
    }

    /// The delivery core's view of a RCPT.
    static func recipient(_ recipient: LMTPRecipient) -> EnvelopeRecipient {
        let original = recipient.originalRecipient?.mailAddress
        return EnvelopeRecipient(
            address: recipient.address, originalAddress: original, logID: recipient.replyID,
            originalAddressType: original == nil ? nil : recipient.originalRecipient?.addressType,
            notify: recipient.notify.map(conditions))
    }

    /// `NOTIFY=` as the delivery core's conditions (the empty set is `NEVER` in both).
    static func conditions(_ notify: LMTPNotify) -> NotifyConditions {
        var conditions: NotifyConditions = []
        if notify.contains(.success) { conditions.insert(.success) }
        if notify.contains(.failure) { conditions.insert(.failure) }
        if notify.contains(.delay) { conditions.insert(.delay) }
        return conditions
    }

    /// The delivery core's view of a transaction.
    static func envelope(_ transaction: LMTPTransactionContext) -> DeliveryEnvelope {
        DeliveryEnvelope(
            sessionID: transaction.sessionID, sender: transaction.mailFrom, receivedProtocol: "LMTP",
            clientName: transaction.lhloName, remoteIP: transaction.connection.remoteIP,
            localIP: transaction.connection.localIP,
            notificationReturn: transaction.notificationReturn.map { $0 == .full ? .full : .headers },
            envelopeID: transaction.envelopeID,
            lockTimeoutLimit: transaction.connection.proxyTimeout.map { max(1, $0 - 1) })
    }
}
