import Foundation
import HomingConfig
import HomingMaildir
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Local delivery, the core of Homing (Dovecot's `lib-lda` and the local half of `lmtp-local`):
/// the userdb lookup for a recipient, the message spooled as it arrives, then one durable
/// maildir copy per recipient through the plugins.
///
/// It knows no protocol: it answers with ``RecipientVerdict`` and ``DeliveryOutcome``, and the
/// protocol layer (the LMTP server's backend) turns those into replies.
public final class LocalDelivery: Sendable {
    /// The host name for the `Received:` header (`hostname`, else the system's).
    public let hostname: String
    public let settings: HomingSettings
    public let resolver: RecipientResolver
    private let threadPool: NIOThreadPool
    private let plugins: [any DeliveryPlugin]
    private let logger: Logger
    private let logFormat: DeliveryLogFormat
    /// Deliveries in progress per user, for `lmtp_user_concurrency_limit`.
    private let activeDeliveries = Mutex<[String: Int]>([:])

    /// - Parameters:
    ///   - hostname: the host name for trace headers (``HomingSettings/hostname`` resolved).
    ///   - threadPool: a started pool; every blocking file operation runs there.
    ///   - plugins: the `mail_plugins`, in order.
    public init(
        settings: HomingSettings, hostname: String, resolver: RecipientResolver, threadPool: NIOThreadPool,
        plugins: [any DeliveryPlugin] = [], logger: Logger
    ) {
        self.settings = settings
        self.hostname = hostname
        self.resolver = resolver
        self.threadPool = threadPool
        self.plugins = plugins
        self.logger = logger
        self.logFormat = DeliveryLogFormat(settings.deliverLogFormat)
    }

    /// The plugins, in `mail_plugins` order.
    public var pluginNames: [String] { plugins.map(\.name) }

    // MARK: - Recipients

    /// Whether `recipient` can be delivered to: the userdb lookup, the concurrency limit and the
    /// plugins' RCPT-time checks. Runs before the protocol answers the recipient, so Postfix's
    /// `reject_unverified_recipient` probes get the real answer.
    public func checkRecipient(_ recipient: EnvelopeRecipient, envelope: DeliveryEnvelope) async -> RecipientVerdict {
        var log = logger
        log[metadataKey: "user"] = "\(recipient.address)"
        log[metadataKey: "session"] = "\(envelope.sessionID)"
        let user: DeliveryUser
        do {
            user = try await resolver.resolve(
                address: recipient.address, localIP: envelope.localIP, remoteIP: envelope.remoteIP)
        } catch {
            switch error {
            case .notFound(let lookedUp):
                log.info("User doesn't exist: \(lookedUp)")
            case .invalidAddress(_, let reason):
                log.notice("refused recipient: \(reason)")
            case .userdbUnavailable(let reason), .unusable(let reason):
                log.error("userdb lookup failed: \(reason)")
            }
            return .failed(error.deliveryFailure)
        }
        let limit = settings.lmtpUserConcurrencyLimit
        if limit > 0, activeDeliveries.withLock({ $0[user.user] ?? 0 }) >= limit {
            log.warning("refused recipient: \(limit) deliveries to \(user.user) already in progress (lmtp_user_concurrency_limit)")
            return .failed(.deferred(.concurrencyLimit))
        }
        for plugin in plugins {
            if let failure = await plugin.checkRecipient(recipient, user: user) {
                log.info("\(plugin.name): refused at RCPT: \(failure)")
                return .failed(failure)
            }
        }
        return .accepted(user)
    }

    // MARK: - The message

    /// Starts spooling a message (an unlinked file in `mail_temp_dir`).
    public func makeSpool(for envelope: DeliveryEnvelope) async throws -> MessageSpool {
        do {
            return try await MessageSpool.create(in: settings.mailTempDir, threadPool: threadPool)
        } catch {
            var log = logger
            log[metadataKey: "session"] = "\(envelope.sessionID)"
            log.error("\(error) (mail_temp_dir = \(settings.mailTempDir))")
            throw error
        }
    }

    /// Delivers the spooled message to each recipient, in parallel; returns one outcome per
    /// recipient, in order. The spool is discarded afterwards.
    public func deliver(
        _ spool: MessageSpool, to recipients: [AcceptedRecipient], envelope: DeliveryEnvelope
    ) async -> [DeliveryOutcome] {
        let outcomes = await deliverSpooled(spool, to: recipients, envelope: envelope)
        await spool.discard()
        return outcomes
    }

    private func deliverSpooled(
        _ spool: MessageSpool, to recipients: [AcceptedRecipient], envelope: DeliveryEnvelope
    ) async -> [DeliveryOutcome] {
        let spooled: SpooledMessage
        let headers: HeaderScanner
        do {
            (spooled, headers) = try await spool.finish()
        } catch {
            var log = logger
            log[metadataKey: "session"] = "\(envelope.sessionID)"
            log.error("spooling the message failed: \(error)")
            return recipients.map { _ in .failed(.deferred(.internalError)) }
        }
        let message = DeliveryMessage(spool: spooled, headers: headers.values, envelope: envelope)
        let received = Date()
        let duplicateOf = Self.duplicates(in: recipients)
        let single = recipients.count == 1
        return await withTaskGroup(of: (Int, DeliveryOutcome).self) { group in
            for (index, accepted) in recipients.enumerated() {
                if let first = duplicateOf[index] {
                    group.addTask { (index, .duplicate(ofRecipientAt: first)) }
                    continue
                }
                let trace = traceHeaders(for: accepted.recipient, single: single, envelope: envelope, date: received)
                group.addTask {
                    (index, await self.deliverCopy(message, to: accepted, trace: trace))
                }
            }
            var outcomes = [DeliveryOutcome](repeating: .failed(.deferred(.internalError)), count: recipients.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
    }

    /// Recipients that name the same user and mailbox as an earlier one: stored once, the later
    /// ones answered as duplicates of the first (index → index of the first).
    static func duplicates(in recipients: [AcceptedRecipient]) -> [Int: Int] {
        var firstIndex: [String: Int] = [:]
        var duplicateOf: [Int: Int] = [:]
        for (index, accepted) in recipients.enumerated() {
            let key = accepted.user.user + "\u{0}" + accepted.user.mailbox
            if let first = firstIndex[key] { duplicateOf[index] = first } else { firstIndex[key] = index }
        }
        return duplicateOf
    }

    /// The Return-Path, Delivered-To and Received headers for one recipient's copy.
    func traceHeaders(
        for recipient: EnvelopeRecipient, single: Bool, envelope: DeliveryEnvelope, date: Date
    ) -> DeliveryHeaders {
        var deliveredTo: String?
        if single {
            switch settings.lmtpHdrDeliveryAddress {
            case .none: deliveredTo = nil
            case .final: deliveredTo = recipient.address
            case .original: deliveredTo = recipient.originalAddress ?? recipient.address
            }
        }
        var received: DeliveryHeaders.Received?
        if settings.lmtpAddReceivedHeader {
            received = .init(
                from: envelope.clientName ?? "unknown", remoteIP: envelope.remoteIP, by: hostname,
                with: envelope.receivedProtocol, id: envelope.sessionID, envelopeFrom: envelope.sender,
                forRecipient: single ? recipient.address : nil, date: date)
        }
        return DeliveryHeaders(returnPath: envelope.sender, deliveredTo: deliveredTo, received: received)
    }

    // MARK: - Storing one recipient's copies

    private func deliverCopy(
        _ message: DeliveryMessage, to accepted: AcceptedRecipient, trace: DeliveryHeaders
    ) async -> DeliveryOutcome {
        let user = accepted.user
        let recipient = accepted.recipient
        activeDeliveries.withLock { $0[user.user, default: 0] += 1 }
        defer {
            activeDeliveries.withLock { active in
                let left = (active[user.user] ?? 1) - 1
                active[user.user] = left > 0 ? left : nil
            }
        }
        var log = logger
        log[metadataKey: "user"] = "\(user.user)"
        log[metadataKey: "session"] = "\(recipient.logID)"
        var plan = DeliveryPlan(actions: [StoreAction(mailbox: user.mailbox, create: settings.ldaMailboxAutocreate)])
        for plugin in plugins {
            plan = await plugin.plan(plan, for: user, recipient: recipient, message: message)
            if let rejection = plan.rejection {
                logLine(log, message, status: "refused: \(rejection.reason)", stored: nil)
                return .failed(rejection.failure)
            }
        }
        let actions = plan.actions
        let prefix = trace.bytes
        if actions.isEmpty {
            logLine(log, message, status: "discarded (no mailbox to store into)", stored: nil)
            await runAfterStore(plan.afterStore)
            return .stored(mailboxes: [])
        }
        var failure: DeliveryFailure?
        var mailboxes: [String] = []
        for action in actions {
            let size = MaildirWriter.sizes(of: message.spool, headerPrefix: prefix, replacing: action.header).size
            switch await store(message.spool, prefix: prefix, size: size, action: action, user: user, recipient: recipient) {
            case .success(.stored(let stored, let mailbox)):
                logLine(log, message, status: "saved mail to \(mailbox)", stored: stored)
                for problem in stored.problems {
                    log.warning("\(mailbox): \(problem)")
                }
                mailboxes.append(mailbox)
            case .success(.notStored(let copyFailure, let reason, let mailbox)):
                logLine(log, message, status: "save failed to \(mailbox): \(reason)", stored: nil)
                failure = copyFailure
            case .failure(let error):
                logLine(log, message, status: "save failed to \(action.mailbox): \(error)", stored: nil, error: true)
                failure = error.deliveryFailure
            }
        }
        if let failure { return .failed(failure) }
        await runAfterStore(plan.afterStore)
        return .stored(mailboxes: mailboxes)
    }

    private func runAfterStore(_ work: [@Sendable () -> Void]) async {
        guard !work.isEmpty else { return }
        _ = try? await threadPool.runIfActive { for item in work { item() } }
    }

    /// One copy's fate, with the mailbox it was meant for in the end (INBOX after a fallback).
    private enum CopyResult {
        case stored(StoredMail, String)
        case notStored(DeliveryFailure, reason: String, String)
    }

    /// Stores one copy through the plugins' `storeCopy` chain; a missing non-INBOX mailbox
    /// falls back to INBOX, as Dovecot does.
    private func store(
        _ spool: SpooledMessage, prefix: [UInt8], size: Int, action: StoreAction, user: DeliveryUser,
        recipient: EnvelopeRecipient
    ) async -> Result<CopyResult, StoreFailure> {
        let options = StoreOptions(fsync: settings.mailFsync, autosubscribe: settings.ldaMailboxAutosubscribe)
        let plugins = self.plugins
        let attempt: @Sendable (String, Bool) async -> Result<StoreCopyOutcome, StoreFailure> = { mailbox, create in
            var retargeted = action
            retargeted.mailbox = mailbox
            retargeted.create = create
            let target = retargeted
            do {
                return .success(
                    try await self.threadPool.runIfActive {
                        try Self.storeThroughPlugins(
                            plugins[...], spool: spool, prefix: prefix, size: size, action: target, user: user,
                            recipient: recipient, options: options)
                    })
            } catch let error as StoreFailure {
                return .failure(error)
            } catch {
                return .failure(.failed("\(error)"))
            }
        }
        func named(_ outcome: StoreCopyOutcome, _ mailbox: String) -> CopyResult {
            switch outcome {
            case .stored(let stored): return .stored(stored, mailbox)
            case .notStored(let failure, let reason): return .notStored(failure, reason: reason, mailbox)
            }
        }
        let isInbox = action.mailbox.uppercased() == "INBOX"
        switch await attempt(action.mailbox, action.create || isInbox) {
        case .success(let outcome): return .success(named(outcome, action.mailbox))
        case .failure(.missingMailbox) where !isInbox:
            return await attempt("INBOX", true).map { named($0, "INBOX") }
        case .failure(let error): return .failure(error)
        }
    }

    /// The blocking part: each plugin wraps the next, the last one writes the file.
    private static func storeThroughPlugins(
        _ plugins: ArraySlice<any DeliveryPlugin>, spool: SpooledMessage, prefix: [UInt8], size: Int,
        action: StoreAction, user: DeliveryUser, recipient: EnvelopeRecipient, options: StoreOptions
    ) throws(StoreFailure) -> StoreCopyOutcome {
        guard let first = plugins.first else {
            return .stored(try MaildirStore.store(spool, headerPrefix: prefix, user: user, action: action, options: options))
        }
        return try first.storeCopy(action, size: size, for: user, recipient: recipient) {
            () throws(StoreFailure) -> StoreCopyOutcome in
            try storeThroughPlugins(
                plugins.dropFirst(), spool: spool, prefix: prefix, size: size, action: action, user: user,
                recipient: recipient, options: options)
        }
    }

    private func logLine(
        _ log: Logger, _ message: DeliveryMessage, status: String, stored: StoredMail?, error: Bool = false
    ) {
        var log = log
        if let messageID = message.headers["message-id"] { log[metadataKey: "msgid"] = "\(messageID)" }
        let text = logFormat.render(
            .init(
                status: status, messageID: message.headers["message-id"], subject: message.headers["subject"],
                from: message.headers["from"], envelopeFrom: message.envelope.sender,
                size: stored?.size, virtualSize: stored?.virtualSize))
        if error { log.error("\(text)") } else { log.info("\(text)") }
    }
}
