import Foundation
import HomingConfig
import HomingLMTP
import HomingMaildir
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The LMTP backend that delivers locally: userdb lookup at RCPT, the message spooled as it
/// arrives, then one durable maildir copy per recipient (the `lmtp-local` of Dovecot).
public final class LocalDelivery: LMTPBackend {
    public typealias Recipient = DeliveryUser
    public typealias MessageSink = MessageSpool

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
    ///   - threadPool: a started pool; every blocking file operation runs there.
    public init(
        settings: HomingSettings, resolver: RecipientResolver, threadPool: NIOThreadPool,
        plugins: [any DeliveryPlugin] = [], logger: Logger
    ) {
        self.settings = settings
        self.hostname = settings.hostname ?? Self.systemHostname()
        self.resolver = resolver
        self.threadPool = threadPool
        self.plugins = plugins
        self.logger = logger
        self.logFormat = DeliveryLogFormat(settings.deliverLogFormat, syntax: settings.variableSyntax)
    }

    /// The system's host name (`gethostname`), Dovecot's default for `hostname`.
    public static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    // MARK: - RCPT

    public func verifyRecipient(
        _ recipient: LMTPRecipient, in transaction: LMTPTransactionContext
    ) async -> LMTPRecipientVerdict<DeliveryUser> {
        var log = logger
        log[metadataKey: "user"] = "\(recipient.address)"
        log[metadataKey: "session"] = "\(transaction.sessionID)"
        let user: DeliveryUser
        do {
            user = try await resolver.resolve(
                address: recipient.address, localIP: transaction.connection.localIP,
                remoteIP: transaction.connection.remoteIP)
        } catch {
            switch error {
            case .notFound(let lookedUp):
                log.info("User doesn't exist: \(lookedUp)")
                return .reject(Self.userDoesNotExist(recipient, lookedUp))
            case .invalidAddress(let lookedUp, let reason):
                log.notice("refused recipient: \(reason)")
                return .reject(Self.userDoesNotExist(recipient, lookedUp))
            case .temporary(let reason):
                log.error("userdb lookup failed: \(reason)")
                return .reject(Self.temporaryFailure(recipient))
            }
        }
        let limit = settings.lmtpUserConcurrencyLimit
        if limit > 0, activeDeliveries.withLock({ $0[user.user] ?? 0 }) >= limit {
            log.warning("refused recipient: \(limit) deliveries to \(user.user) already in progress (lmtp_user_concurrency_limit)")
            return .reject(Self.tooManyConcurrentDeliveries(recipient))
        }
        for plugin in plugins {
            if let reply = await plugin.checkRecipient(recipient, user: user) {
                log.info("\(plugin.name): refused at RCPT: \(reply)")
                return .reject(reply)
            }
        }
        return .accept(user)
    }

    /// `550 5.1.1 <path> User doesn't exist: user`, byte for byte as Dovecot answers.
    public static func userDoesNotExist(_ recipient: LMTPRecipient, _ lookedUp: String) -> LMTPReply {
        LMTPReply(550, "5.1.1", "<\(recipient.path)> User doesn't exist: \(lookedUp)")
    }

    /// `451 4.3.0 <path> Too many concurrent deliveries for user`, Dovecot's answer when
    /// `lmtp_user_concurrency_limit` deliveries to the user are already running.
    public static func tooManyConcurrentDeliveries(_ recipient: LMTPRecipient) -> LMTPReply {
        LMTPReply(451, "4.3.0", "<\(recipient.path)> Too many concurrent deliveries for user")
    }

    /// `451 4.3.0 <path> Temporary internal error`.
    public static func temporaryFailure(_ recipient: LMTPRecipient) -> LMTPReply {
        LMTPReply(451, "4.3.0", "<\(recipient.path)> Temporary internal error")
    }

    // MARK: - DATA

    public func makeMessageSink(for transaction: LMTPTransactionContext) async throws -> MessageSpool {
        do {
            return try await MessageSpool.create(in: settings.mailTempDir, threadPool: threadPool)
        } catch {
            var log = logger
            log[metadataKey: "session"] = "\(transaction.sessionID)"
            log.error("\(error) (mail_temp_dir = \(settings.mailTempDir))")
            throw error
        }
    }

    public func deliver(
        _ sink: MessageSpool, to recipients: [LMTPAcceptedRecipient<DeliveryUser>],
        in transaction: LMTPTransactionContext
    ) async -> [LMTPDeliveryOutcome] {
        let outcomes = await deliverSpooled(sink, to: recipients, in: transaction)
        await sink.discard()
        return outcomes
    }

    private func deliverSpooled(
        _ sink: MessageSpool, to recipients: [LMTPAcceptedRecipient<DeliveryUser>],
        in transaction: LMTPTransactionContext
    ) async -> [LMTPDeliveryOutcome] {
        let spooled: SpooledMessage
        let headers: HeaderScanner
        do {
            (spooled, headers) = try await sink.finish()
        } catch {
            var log = logger
            log[metadataKey: "session"] = "\(transaction.sessionID)"
            log.error("spooling the message failed: \(error)")
            return recipients.map { .failed(Self.temporaryFailure($0.command)) }
        }
        let message = DeliveryMessage(spool: spooled, headers: headers.values, transaction: transaction)
        let received = Date()
        // The same user and mailbox twice: stored once, both answered with the first id.
        var firstIndex: [String: Int] = [:]
        var duplicateOf: [Int: Int] = [:]
        for (index, recipient) in recipients.enumerated() {
            let key = recipient.resolved.user + "\u{0}" + recipient.resolved.mailbox
            if let first = firstIndex[key] { duplicateOf[index] = first } else { firstIndex[key] = index }
        }
        let single = recipients.count == 1
        return await withTaskGroup(of: (Int, LMTPDeliveryOutcome).self) { group in
            for (index, recipient) in recipients.enumerated() {
                if let first = duplicateOf[index] {
                    group.addTask { (index, .duplicate(ofRecipientAt: first)) }
                    continue
                }
                let trace = traceHeaders(for: recipient.command, single: single, transaction: transaction, date: received)
                group.addTask {
                    (index, await self.deliverCopy(message, to: recipient, trace: trace))
                }
            }
            var outcomes = [LMTPDeliveryOutcome](repeating: .failed(LMTPReply(451, "4.3.0", "Temporary internal error")), count: recipients.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
    }

    /// The Return-Path, Delivered-To and Received headers for one recipient's copy.
    func traceHeaders(
        for recipient: LMTPRecipient, single: Bool, transaction: LMTPTransactionContext, date: Date
    ) -> DeliveryHeaders {
        var deliveredTo: String?
        if single {
            switch settings.lmtpHdrDeliveryAddress {
            case .none: deliveredTo = nil
            case .final: deliveredTo = recipient.address
            case .original: deliveredTo = Self.originalAddress(recipient) ?? recipient.address
            }
        }
        var received: DeliveryHeaders.Received?
        if settings.lmtpAddReceivedHeader {
            received = .init(
                from: transaction.lhloName ?? "unknown", remoteIP: transaction.connection.remoteIP, by: hostname,
                id: transaction.sessionID, envelopeFrom: transaction.mailFrom,
                forRecipient: single ? recipient.address : nil, date: date)
        }
        return DeliveryHeaders(returnPath: transaction.mailFrom, deliveredTo: deliveredTo, received: received)
    }

    /// The address of an `ORCPT=rfc822;addr` parameter, xtext-decoded.
    static func originalAddress(_ recipient: LMTPRecipient) -> String? {
        guard let orcpt = recipient.originalRecipient, let semicolon = orcpt.firstIndex(of: ";") else { return nil }
        guard orcpt[..<semicolon].lowercased() == "rfc822" else { return nil }
        var out = ""
        var rest = orcpt[orcpt.index(after: semicolon)...]
        while let char = rest.first {
            rest = rest.dropFirst()
            if char == "+", rest.count >= 2, let byte = UInt8(rest.prefix(2), radix: 16) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
                rest = rest.dropFirst(2)
            } else {
                out.append(char)
            }
        }
        return out
    }

    // MARK: - Storing one recipient's copies

    private func deliverCopy(
        _ message: DeliveryMessage, to recipient: LMTPAcceptedRecipient<DeliveryUser>, trace: DeliveryHeaders
    ) async -> LMTPDeliveryOutcome {
        let user = recipient.resolved
        activeDeliveries.withLock { $0[user.user, default: 0] += 1 }
        defer {
            activeDeliveries.withLock { active in
                let left = (active[user.user] ?? 1) - 1
                active[user.user] = left > 0 ? left : nil
            }
        }
        var log = logger
        log[metadataKey: "user"] = "\(user.user)"
        log[metadataKey: "session"] = "\(recipient.command.replyID)"
        var plan = DeliveryPlan(actions: [StoreAction(mailbox: user.mailbox, create: settings.ldaMailboxAutocreate)])
        for plugin in plugins {
            plan = await plugin.plan(plan, for: user, recipient: recipient.command, message: message)
            if let refusal = plan.refusal {
                logLine(log, message, status: "refused: \(refusal.reason)", stored: nil)
                return .failed(refusal.reply)
            }
        }
        let actions = plan.actions
        let prefix = trace.bytes
        let size = prefix.count + message.spool.size
        if actions.isEmpty {
            logLine(log, message, status: "discarded (no mailbox to store into)", stored: nil)
            await runAfterStore(plan.afterStore)
            return .saved
        }
        var outcome: LMTPDeliveryOutcome = .saved
        for action in actions {
            switch await store(message.spool, prefix: prefix, size: size, action: action, user: user, recipient: recipient.command) {
            case .success(.stored(let stored, let mailbox)):
                logLine(log, message, status: "saved mail to \(mailbox)", stored: stored)
            case .success(.refused(let reply, let reason, let mailbox)):
                logLine(log, message, status: "save failed to \(mailbox): \(reason)", stored: nil)
                outcome = .failed(reply)
            case .failure(let error):
                logLine(log, message, status: "save failed to \(action.mailbox): \(error)", stored: nil, error: true)
                outcome = .failed(Self.storeFailureReply(error, recipient.command))
            }
        }
        if case .saved = outcome { await runAfterStore(plan.afterStore) }
        return outcome
    }

    private func runAfterStore(_ work: [@Sendable () -> Void]) async {
        guard !work.isEmpty else { return }
        _ = try? await threadPool.runIfActive { for item in work { item() } }
    }

    /// One copy's fate, with the mailbox it was meant for in the end (INBOX after a fallback).
    private enum CopyResult {
        case stored(StoredMail, String)
        case refused(LMTPReply, reason: String, String)
    }

    /// Stores one copy through the plugins' `storeCopy` chain; a missing non-INBOX mailbox
    /// falls back to INBOX, as Dovecot does.
    private func store(
        _ spool: SpooledMessage, prefix: [UInt8], size: Int, action: StoreAction, user: DeliveryUser,
        recipient: LMTPRecipient
    ) async -> Result<CopyResult, MaildirStoreFailure> {
        let fsync = settings.mailFsync
        let plugins = self.plugins
        let attempt: @Sendable (String, Bool) async -> Result<StoreCopyOutcome, MaildirStoreFailure> = { mailbox, create in
            let target = StoreAction(mailbox: mailbox, flags: action.flags, create: create)
            do {
                return .success(
                    try await self.threadPool.runIfActive {
                        try Self.storeThroughPlugins(
                            plugins[...], spool: spool, prefix: prefix, size: size, action: target, user: user,
                            recipient: recipient, fsync: fsync)
                    })
            } catch let error as MaildirStoreFailure {
                return .failure(error)
            } catch {
                return .failure(MaildirStoreFailure(description: "\(error)", isMissingMailbox: false, isDiskFull: false))
            }
        }
        func named(_ outcome: StoreCopyOutcome, _ mailbox: String) -> CopyResult {
            switch outcome {
            case .stored(let stored): return .stored(stored, mailbox)
            case .refused(let reply, let reason): return .refused(reply, reason: reason, mailbox)
            }
        }
        let first = await attempt(action.mailbox, action.create || action.mailbox.uppercased() == "INBOX")
        switch first {
        case .success(let outcome): return .success(named(outcome, action.mailbox))
        case .failure(let error) where error.isMissingMailbox && action.mailbox.uppercased() != "INBOX":
            return await attempt("INBOX", true).map { named($0, "INBOX") }
        case .failure(let error): return .failure(error)
        }
    }

    /// The blocking part: each plugin wraps the next, the last one writes the file.
    private static func storeThroughPlugins(
        _ plugins: ArraySlice<any DeliveryPlugin>, spool: SpooledMessage, prefix: [UInt8], size: Int,
        action: StoreAction, user: DeliveryUser, recipient: LMTPRecipient, fsync: HomingSettings.FsyncMode
    ) throws(MaildirStoreFailure) -> StoreCopyOutcome {
        guard let first = plugins.first else {
            return .stored(
                try MaildirStore.store(
                    spool, headerPrefix: prefix, user: user, mailbox: action.mailbox, flags: action.flags,
                    create: action.create, fsync: fsync))
        }
        return try first.storeCopy(action, size: size, for: user, recipient: recipient) {
            () throws(MaildirStoreFailure) -> StoreCopyOutcome in
            try storeThroughPlugins(
                plugins.dropFirst(), spool: spool, prefix: prefix, size: size, action: action, user: user,
                recipient: recipient, fsync: fsync)
        }
    }

    static func storeFailureReply(_ error: MaildirStoreFailure, _ recipient: LMTPRecipient) -> LMTPReply {
        if error.isDiskFull {
            return LMTPReply(452, "4.3.1", "<\(recipient.path)> Insufficient system storage")
        }
        return temporaryFailure(recipient)
    }

    private func logLine(
        _ log: Logger, _ message: DeliveryMessage, status: String, stored: StoredMail?, error: Bool = false
    ) {
        let text = logFormat.render(
            .init(
                status: status, messageID: message.headers["message-id"], subject: message.headers["subject"],
                from: message.headers["from"], envelopeFrom: message.transaction.mailFrom,
                size: stored?.size, virtualSize: stored?.virtualSize))
        if error { log.error("\(text)") } else { log.info("\(text)") }
    }
}
