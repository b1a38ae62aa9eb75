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
    private let notifier: (any DeliveryNotifier)?
    private let logger: Logger
    private let logFormat: DeliveryLogFormat
    /// Accepted recipients per user, from RCPT to the end of their delivery, for
    /// `lmtp_user_concurrency_limit` (see ``UserDeliveryReservation``).
    private let activeDeliveries = Mutex<[String: Int]>([:])
    /// The bound on one user's copies on the storage pool at once.
    private let storageSlots: UserStorageSlots
    /// When `mail_temp_dir` was last found to be a directory (new spools skip the check then).
    private let spoolDirectoryCheck = SpoolDirectoryCheck()

    /// - Parameters:
    ///   - hostname: the host name for trace headers (``HomingSettings/hostname`` resolved).
    ///   - threadPool: a started pool; every blocking file operation runs there.
    ///   - plugins: the `mail_plugins`, in order.
    ///   - notifier: told of each delivery whose recipient asked `NOTIFY=SUCCESS` (the
    ///     "delivered" notification); `nil` sends none.
    ///   - perUserStorageLimit: how many copies to one user may be on `threadPool` at once (a
    ///     maildir locked by another process then holds at most that many of its threads).
    public init(
        settings: HomingSettings, hostname: String, resolver: RecipientResolver, threadPool: NIOThreadPool,
        plugins: [any DeliveryPlugin] = [], notifier: (any DeliveryNotifier)? = nil, logger: Logger,
        perUserStorageLimit: Int = 4
    ) {
        self.storageSlots = UserStorageSlots(limit: perUserStorageLimit)
        self.settings = settings
        self.hostname = hostname
        self.resolver = resolver
        self.threadPool = threadPool
        self.plugins = plugins
        self.notifier = notifier
        self.logger = logger
        self.logFormat = DeliveryLogFormat(settings.deliverLogFormat, syntax: settings.variableSyntax)
    }

    /// The plugins, in `mail_plugins` order.
    public var pluginNames: [String] { plugins.map(\.name) }

    // MARK: - Recipients

    /// Whether `recipient` can be delivered to: the userdb lookup, the concurrency limit and the
    /// plugins' RCPT-time checks. Runs before the protocol answers the recipient, so Postfix's
    /// `reject_unverified_recipient` probes get the real answer.
    public func checkRecipient(_ recipient: EnvelopeRecipient, envelope: DeliveryEnvelope) async -> RecipientVerdict {
        let verdict = await verdict(for: recipient, envelope: envelope)
        DeliveryMetrics.recipient(verdict)
        return verdict
    }

    private func verdict(for recipient: EnvelopeRecipient, envelope: DeliveryEnvelope) async -> RecipientVerdict {
        var log = logger
        log[metadataKey: "user"] = "\(recipient.address)"
        log[metadataKey: "session"] = "\(envelope.sessionID)"
        let resolved: DeliveryUser
        do {
            resolved = try await resolver.resolve(
                address: recipient.address, localIP: envelope.localIP, remoteIP: envelope.remoteIP)
        } catch {
            switch error {
            case .notFound(let lookedUp):
                log.info("User doesn't exist: \(lookedUp)")
            case .invalidAddress(_, let reason):
                log.notice("refused recipient: \(reason)")
            case .userdbUnavailable(let reason), .unusable(let reason), .notPermitted(let reason):
                log.error("userdb lookup failed: \(reason)")
            }
            return .failed(error.deliveryFailure)
        }
        let limit = settings.lmtpUserConcurrencyLimit
        var user = resolved
        user.lockTimeoutLimit = envelope.lockTimeoutLimit
        if limit > 0 {
            // Counted at RCPT: the place is taken now, atomically with the check, and held
            // until the accepted recipient is dropped (a refusal below gives it back at once).
            guard let reservation = reserveDelivery(for: user.user, limit: limit) else {
                log.warning("refused recipient: \(limit) deliveries to \(user.user) already in progress (lmtp_user_concurrency_limit)")
                return .failed(.deferred(.concurrencyLimit))
            }
            user.concurrencyReservation = reservation
        }
        for plugin in plugins {
            if let failure = await plugin.checkRecipient(recipient, user: user) {
                log.info("\(plugin.name): refused at RCPT: \(failure)")
                return .failed(failure)
            }
        }
        return .accepted(user)
    }

    /// Takes one of `user`'s `limit` places, unless all are taken; the reservation gives it
    /// back when it goes.
    private func reserveDelivery(for user: String, limit: Int) -> UserDeliveryReservation? {
        let taken = activeDeliveries.withLock { active -> Bool in
            let running = active[user] ?? 0
            guard running < limit else { return false }
            active[user] = running + 1
            return true
        }
        guard taken else { return nil }
        return UserDeliveryReservation { [self] in
            activeDeliveries.withLock { active in
                let left = (active[user] ?? 1) - 1
                active[user] = left > 0 ? left : nil
            }
        }
    }

    // MARK: - The message

    /// Removes spool files an earlier Homing left in `mail_temp_dir` and logs each (see
    /// ``MessageSpool/removeStaleFiles(in:)``). `homing serve` calls it before it listens.
    public func removeStaleSpoolFiles() async {
        let directory = settings.mailTempDir
        guard let result = try? await threadPool.runIfActive({ MessageSpool.removeStaleFiles(in: directory) }) else {
            return
        }
        for file in result.removed {
            logger.info("removed stale spool file \(directory)/\(file) left by an earlier Homing")
        }
        for problem in result.problems { logger.warning("\(problem)") }
    }

    /// Starts spooling a message (an unlinked file in `mail_temp_dir`).
    public func makeSpool(for envelope: DeliveryEnvelope) async throws -> MessageSpool {
        do {
            return try await MessageSpool.create(
                in: settings.mailTempDir, threadPool: threadPool, recentCheck: spoolDirectoryCheck)
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
        let received = Date()
        let duplicateOf = Self.duplicates(in: recipients)
        let single = recipients.count == 1
        return await withTaskGroup(of: (Int, DeliveryOutcome).self) { group in
            for (index, accepted) in recipients.enumerated() {
                if let first = duplicateOf[index] {
                    DeliveryMetrics.delivery(.duplicate(ofRecipientAt: first), bytes: 0, nanoseconds: 0)
                    group.addTask { (index, .duplicate(ofRecipientAt: first)) }
                    continue
                }
                let trace = traceHeaders(for: accepted.recipient, single: single, envelope: envelope, date: received)
                let message = DeliveryMessage(
                    spool: spooled, headers: headers.values, envelope: envelope, traceHeaders: trace)
                group.addTask {
                    let start = ContinuousClock.now
                    let (outcome, bytes) = await self.deliverCopy(message, to: accepted)
                    let elapsed = ContinuousClock.now - start
                    DeliveryMetrics.delivery(
                        outcome, bytes: bytes,
                        nanoseconds: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
                    return (index, outcome)
                }
            }
            var outcomes = [DeliveryOutcome](repeating: .failed(.deferred(.internalError)), count: recipients.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
    }

    /// Recipients identical to an earlier one in the transaction: stored once, the later ones
    /// answered as the first (index → index of the first). Identical as Dovecot compares them
    /// (`smtp_address_equals` and `smtp_params_rcpt_equal`): the same local part byte for byte,
    /// the same domain in any case, and the same ORCPT. `alice+news@`, `alice+@` and
    /// `Alice@Example.COM` are three recipients, each with its own copy, even when they are one
    /// user: each has its own envelope address for Sieve, detail folder and trace headers. Two
    /// RCPTs that ask for different notifications (`NOTIFY=`) are not identical either.
    static func duplicates(in recipients: [AcceptedRecipient]) -> [Int: Int] {
        var firstIndex: [RecipientIdentity: Int] = [:]
        var duplicateOf: [Int: Int] = [:]
        for (index, accepted) in recipients.enumerated() {
            let key = RecipientIdentity(accepted.recipient)
            if let first = firstIndex[key] { duplicateOf[index] = first } else { firstIndex[key] = index }
        }
        return duplicateOf
    }

    /// What makes two RCPTs the same recipient.
    private struct RecipientIdentity: Hashable {
        var address: String
        var original: String?
        var notify: NotifyConditions?

        init(_ recipient: EnvelopeRecipient) {
            address = Self.normalized(recipient.address)
            original = recipient.originalAddress.map(Self.normalized)
            notify = recipient.notify
        }

        /// The local part as it is, the domain lower-cased (ASCII, as `strcasecmp`).
        static func normalized(_ address: String) -> String {
            guard let at = address.lastIndex(of: "@") else { return address }
            let domain = address[address.index(after: at)...].map { character -> Character in
                character.isASCII ? Character(character.lowercased()) : character
            }
            return String(address[...at]) + String(domain)
        }
    }

    /// The Return-Path, Delivered-To and Received headers for one recipient's copy (only
    /// `Return-Path`, which is not written, when the envelope adds no trace headers).
    func traceHeaders(
        for recipient: EnvelopeRecipient, single: Bool, envelope: DeliveryEnvelope, date: Date
    ) -> DeliveryHeaders {
        guard envelope.addsTraceHeaders else {
            return DeliveryHeaders(returnPath: envelope.sender, deliveredTo: nil, received: nil)
        }
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

    /// One recipient's copies; the outcome and the bytes stored.
    private func deliverCopy(_ message: DeliveryMessage, to accepted: AcceptedRecipient) async -> (DeliveryOutcome, Int) {
        let user = accepted.user
        let recipient = accepted.recipient
        var log = logger
        log[metadataKey: "user"] = "\(user.user)"
        log[metadataKey: "session"] = "\(recipient.logID)"
        var plan = DeliveryPlan(actions: [StoreAction(mailbox: user.mailbox, create: settings.ldaMailboxAutocreate)])
        for plugin in plugins {
            plan = await plugin.plan(plan, for: user, recipient: recipient, message: message)
            if let rejection = plan.rejection {
                let verb = rejection.failure.isTemporary ? "deferred" : "refused"
                logLine(log, message, status: "\(verb): \(rejection.reason)", stored: nil, recipient: recipient)
                return (.failed(rejection.failure), 0)
            }
        }
        let actions = plan.actions
        let prefix = message.envelope.addsTraceHeaders ? message.traceHeaders.bytes : []
        if actions.isEmpty {
            logLine(log, message, status: "discarded (no mailbox to store into)", stored: nil, recipient: recipient)
            await runAfterStore(plan.afterStore)
            await notifyDelivered(message, to: recipient, user: user, mailboxes: [])
            return (.stored(mailboxes: []), 0)
        }
        var failure: DeliveryFailure?
        var mailboxes: [String] = []
        var bytes = 0
        for action in actions {
            let size = MaildirWriter.sizes(of: message.spool, headerPrefix: prefix, replacing: action.header).size
            switch await store(message.spool, prefix: prefix, size: size, action: action, user: user, recipient: recipient) {
            case .success(.stored(let stored, let mailbox)):
                logLine(log, message, status: "saved mail to \(mailbox)", stored: stored, recipient: recipient)
                for problem in stored.problems {
                    log.warning("\(mailbox): \(problem)")
                }
                mailboxes.append(mailbox)
                bytes += stored.size
            case .success(.notStored(let copyFailure, let reason, let mailbox)):
                logLine(log, message, status: "save failed to \(mailbox): \(reason)", stored: nil, recipient: recipient)
                failure = copyFailure
            case .failure(let error):
                logLine(
                    log, message, status: "save failed to \(action.mailbox): \(error)", stored: nil, recipient: recipient,
                    error: true)
                failure = error.deliveryFailure
            }
        }
        if let failure { return (.failed(failure), bytes) }
        await runAfterStore(plan.afterStore)
        await notifyDelivered(message, to: recipient, user: user, mailboxes: mailboxes)
        return (.stored(mailboxes: mailboxes), bytes)
    }

    /// Tells the notifier of a delivery the sender asked to hear about (`NOTIFY=SUCCESS`).
    private func notifyDelivered(
        _ message: DeliveryMessage, to recipient: EnvelopeRecipient, user: DeliveryUser, mailboxes: [String]
    ) async {
        guard let notifier, recipient.notify?.contains(.success) == true else { return }
        await notifier.delivered(message, to: recipient, user: user, mailboxes: mailboxes)
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
        let options = StoreOptions(
            fsync: settings.mailFsync, tmpScanInterval: settings.mailTempScanInterval,
            reportTmpCleanup: tmpCleanupReporter(user: user, recipient: recipient),
            autosubscribe: settings.ldaMailboxAutosubscribe)
        let plugins = self.plugins
        let attempt: @Sendable (String, Bool) async -> Result<StoreCopyOutcome, StoreFailure> = { mailbox, create in
            var retargeted = action
            retargeted.mailbox = mailbox
            retargeted.create = create
            let target = retargeted
            // The wait for a slot counts against the lock timeout: what is left of it is the
            // longest the copy then waits for a lock.
            let lockSeconds = min(user.lockTimeoutLimit ?? Int.max, self.settings.effectiveLockTimeout)
            let deadline = ContinuousClock.now + .seconds(lockSeconds)
            let outcome = await self.storageSlots.withSlot(for: user.user, deadline: deadline) {
                () async -> Result<StoreCopyOutcome, StoreFailure> in
                var slotUser = user
                // Whole seconds, rounded up: a slot had at once leaves the whole timeout.
                let left = deadline - ContinuousClock.now + .nanoseconds(999_999_999)
                slotUser.lockTimeoutLimit = Int(max(1, left.components.seconds))
                let storingUser = slotUser
                do {
                    return .success(
                        try await self.threadPool.runIfActive {
                            try Self.storeThroughPlugins(
                                plugins[...], spool: spool, prefix: prefix, size: size, action: target, user: storingUser,
                                recipient: recipient, options: options)
                        })
                } catch let error as StoreFailure {
                    return .failure(error)
                } catch {
                    return .failure(.failed("\(error)"))
                }
            }
            return outcome ?? .failure(.failed(
                "\(lockSeconds) s passed while earlier deliveries to \(user.user) were still storing (their maildir "
                    + "may be locked by another process); try again later"))
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
        case .failure(.missingMailbox(let reason)) where !isInbox:
            // Said once, so that "why did this mail go to INBOX" has an answer in the log.
            var log = logger
            log[metadataKey: "user"] = "\(user.user)"
            log[metadataKey: "session"] = "\(recipient.logID)"
            log.info(
                "save to \(action.mailbox) is not possible (\(reason)\(action.create ? "" : "; lda_mailbox_autocreate = no")): storing into INBOX instead")
            return await attempt("INBOX", true).map { named($0, "INBOX") }
        case .failure(let error): return .failure(error)
        }
    }

    /// How copies are written: `mail_fsync`, the `tmp/` cleanup and where its report goes.
    /// Logs what a `tmp/` cleanup removed (Dovecot does it silently; Homing says what went).
    private func tmpCleanupReporter(
        user: DeliveryUser, recipient: EnvelopeRecipient
    ) -> @Sendable (MaildirTmpCleanupReport) -> Void {
        var log = logger
        log[metadataKey: "user"] = "\(user.user)"
        log[metadataKey: "session"] = "\(recipient.logID)"
        return { [log] report in
            if report.removed.isEmpty && report.problems.isEmpty {
                log.debug("maildir: tmp cleanup: \(report)")
            } else if report.problems.isEmpty {
                log.info("maildir: tmp cleanup: \(report)")
            } else {
                log.warning("maildir: tmp cleanup: \(report)")
            }
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
        _ log: Logger, _ message: DeliveryMessage, status: String, stored: StoredMail?, recipient: EnvelopeRecipient,
        error: Bool = false
    ) {
        var log = log
        if let messageID = message.headers["message-id"] { log[metadataKey: "msgid"] = "\(messageID)" }
        let text = logFormat.render(
            .init(
                status: status, messageID: message.headers["message-id"], subject: message.headers["subject"],
                from: message.headers["from"], envelopeFrom: message.envelope.sender,
                size: stored?.size, virtualSize: stored?.virtualSize, toEnvelope: recipient.originalOrFinalAddress))
        if error { log.error("\(text)") } else { log.info("\(text)") }
    }
}
