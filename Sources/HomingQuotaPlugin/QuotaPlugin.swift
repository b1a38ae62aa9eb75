import Glibc
import HomingConfig
import HomingDelivery
import HomingFileSystem
import HomingMaildir
import HomingQuota
import Logging
import NIOPosix

/// `mail_plugins = quota`: Maildir++ quota, with the limits from `plugin { quota_rule... }` and
/// the userdb's `quota_rule` fields.
///
/// - At RCPT (`lmtp_rcpt_check_quota = yes`) a user already over quota is refused.
/// - Each copy is checked and its size reserved under a short exclusive lock on the user's
///   `maildirsize`, then written and fsynced outside it
///   (``MaildirSizeFile/reserveAndStore(configured:isCounted:decide:store:)``): deliveries to
///   one user write in parallel, and each check sees every earlier reservation, so concurrent
///   deliveries cannot together overshoot the limit: the only overshoot is the grace
///   (`quota_grace`) one message may take. A refused copy writes nothing and counts nothing; a
///   copy that fails after its reservation gives the reservation back.
/// - A userdb `quota_rule` that does not parse is a temporary failure for that user (451,
///   logged with the user and the value); a configured rule that does not parse stops start-up.
public struct QuotaPlugin: DeliveryPlugin {
    public let name = "quota"
    /// The `plugin { }` settings.
    public let plugin: [String: String]
    /// The parsed `quota` setting.
    public let root: QuotaRootSetting
    private let rcptCheck: Bool
    private let tempfail: Bool
    /// `mail_max_lock_timeout` resolved: how long the `maildirsize` lock is waited for.
    private let lockTimeout: Double
    let threadPool: NIOThreadPool
    private let logger: Logger
    private let warningRunner: QuotaWarningRunner

    /// `quota_max_mail_size` refusals: Dovecot's text.
    public static let maxMailSizeMessage = "Mail size is larger than the maximum size allowed by server configuration"

    /// Reads and checks the configuration.
    /// - Throws: `QuotaRuleError` naming the setting and value that do not parse.
    public init(settings: HomingSettings, threadPool: NIOThreadPool, logger: Logger) throws(QuotaRuleError) {
        self.plugin = settings.plugin
        self.root = try QuotaRootSetting.parse(settings.plugin["quota"] ?? "maildir:User quota")
        // The configured rules, grace and maximum size must parse: fail at start, not per message.
        _ = try QuotaConfiguration(plugin: settings.plugin)
        self.rcptCheck = settings.lmtpRcptCheckQuota
        self.tempfail = settings.quotaFullTempfail
        self.lockTimeout = Double(settings.effectiveLockTimeout)
        self.threadPool = threadPool
        self.logger = logger
        self.warningRunner = QuotaWarningRunner(services: settings.services, syntax: settings.variableSyntax, logger: logger)
    }

    /// The quota settings for `user`: the configured ones with the userdb's fields on top.
    public func configuration(for user: DeliveryUser) throws(QuotaRuleError) -> QuotaConfiguration {
        var fields: [String: String] = [:]
        for field in user.record.fields where field.name.hasPrefix("quota_") { fields[field.name] = field.value }
        var config = try QuotaConfiguration(plugin: plugin, userFields: fields)
        config.lockTimeout = lockTimeout
        if let limit = user.lockTimeoutLimit { config.lockTimeout = min(lockTimeout, Double(limit)) }
        return config
    }

    // MARK: - RCPT

    public func checkRecipient(_ recipient: EnvelopeRecipient, user: DeliveryUser) async -> DeliveryFailure? {
        let config: QuotaConfiguration
        do {
            config = try configuration(for: user)
        } catch {
            logInvalidRule(error, user: user)
            return .deferred(.unusableUser)
        }
        guard rcptCheck, root.enforcing, !config.rules.userLimits.isUnlimited else { return nil }
        do {
            let status = try await threadPool.runIfActive { try Self.status(of: user, config: config) }
            if config.rcptCheck(usage: status.usage, mailbox: user.mailbox).isAllowed { return nil }
            return overQuota(config)
        } catch {
            var log = logger
            log[metadataKey: "user"] = "\(user.user)"
            log.error("quota: reading the usage failed: \(error)")
            return .deferred(.internalError)
        }
    }

    // MARK: - Storing

    public func storeCopy(
        _ action: StoreAction, size: Int, for user: DeliveryUser, recipient: EnvelopeRecipient,
        store: () throws(StoreFailure) -> StoreCopyOutcome
    ) throws(StoreFailure) -> StoreCopyOutcome {
        let config: QuotaConfiguration
        do {
            config = try configuration(for: user)
        } catch {
            logInvalidRule(error, user: user)
            throw .failed("quota: invalid userdb value: \(error)")
        }
        if config.rules.userLimits.ignored {
            // No quota for this user: only quota_max_mail_size applies, nothing is counted.
            if root.enforcing, case .overMaxMailSize = config.decide(messageSize: Int64(size), usage: .zero) {
                return refusal(.overMaxMailSize(limit: config.maxMailSize), config)
            }
            return try store()
        }
        let maildir: TreePath
        do {
            maildir = try Self.maildirLocation(of: user)
        } catch {
            throw .failed("quota: \(error)")
        }
        let mailbox = Self.quotaMailboxName(action.mailbox)
        let counted: (String) -> Bool = { !config.rules.isIgnored(mailbox: $0) }
        let forced = config.rules.defaultRuleIsForced
        let outcome: Result<StoreCopyOutcome, any Error>
        // A quota warning this copy set off, run once the lock is released.
        var warning: (rule: QuotaWarningRule, reason: String)?
        do {
            outcome = try FilesystemIdentity.withIdentity(user.identity) { () throws -> StoreCopyOutcome in
                if try !Self.maildirExists(maildir) {
                    // First delivery: create the INBOX maildir so that its lock can be taken.
                    try Self.createInbox(of: user)
                }
                let file = MaildirSizeFile(maildir: maildir, lockTimeout: config.lockTimeout)
                let configured = Self.limitsToRecord(in: file, config)
                var result: StoreCopyOutcome?
                // What the check saw, for the quota warning.
                var before = QuotaUsage.zero
                var userLimits = config.rules.userLimits
                try file.reserveAndStore(
                    configured: configured, isCounted: counted,
                    decide: { contents in
                        let limits = forced ? config.rules.limits(forMailbox: mailbox) : contents.limits
                        let decision = QuotaDecision.decide(
                            messageSize: Int64(size), usage: contents.usage, limits: limits,
                            graceBytes: config.graceBytes, maxMailSize: config.maxMailSize)
                        if root.enforcing, !decision.isAllowed {
                            result = refusal(decision, config)
                            return .refuse
                        }
                        before = contents.usage
                        userLimits = forced ? config.rules.userLimits : contents.limits
                        return .store(reserving: counted(mailbox) ? QuotaUsage(bytes: Int64(size), messages: 1) : .zero)
                    },
                    store: {
                        let stored = try store()
                        result = stored
                        guard case .stored(let mail) = stored, counted(mailbox) else { return .zero }
                        let added = QuotaUsage(bytes: Int64(mail.size), messages: 1)
                        let after = QuotaUsage(bytes: before.bytes + added.bytes, messages: before.messages + added.messages)
                        warning = config.warnings.firstCrossing(from: before, to: after, userLimits: userLimits)
                        return added
                    })
                guard let result else { throw StoreFailure.failed("quota: no outcome for the copy") }
                return result
            }
        } catch {
            throw .failed("quota: \(error)")
        }
        if let warning { warningRunner.run(warning.rule, reason: warning.reason, user: user) }
        switch outcome {
        case .success(let result): return result
        case .failure(let error as StoreFailure): throw error
        case .failure(let error): throw .failed("quota: \(error)")
        }
    }

    /// The user's maildir root, split where the symlink rule starts (their home, when the
    /// maildir is inside it).
    static func maildirLocation(of user: DeliveryUser) throws(FileAccessError) -> TreePath {
        try user.mailLocation.treePath(of: user.mailLocation.root)
    }

    /// Whether the maildir is there (a directory, reached without following a link below the
    /// trusted base). A link there throws.
    static func maildirExists(_ maildir: TreePath) throws(FileAccessError) -> Bool {
        do {
            _ = try TreeDirectory.open(maildir)
            return true
        } catch {
            if error.isNotFound { return false }
            if case .notADirectory = error { return false }
            throw error
        }
    }

    /// Creates the user's INBOX maildir (as the user), as a first delivery would.
    static func createInbox(of user: DeliveryUser) throws {
        let inbox = try user.mailLocation.mailbox(named: "INBOX")
        try MaildirWriter().prepare(
            MaildirDestination(mailbox: inbox, createIfMissing: true, identity: user.identity))
    }

    // MARK: - Usage, for `homing quota`

    /// A user's limits and usage, as `maildirsize` has them (recalculated first when the file is
    /// missing, invalid, too long or has other limits). Blocking: call from a thread pool.
    public static func status(of user: DeliveryUser, config: QuotaConfiguration) throws -> MaildirSizeContents {
        try withMaildirSize(of: user, config: config) { file, configured, counted in
            try file.currentContents(configured: configured, isCounted: counted)
        }
    }

    /// As ``status(of:config:)``, but changing nothing on disk: a missing or stale
    /// `maildirsize` is answered from a scan and left as it is (`homing quota get`).
    public static func peekStatus(of user: DeliveryUser, config: QuotaConfiguration) throws -> MaildirSizeContents {
        try withMaildirSize(of: user, config: config) { file, configured, counted in
            try file.peekContents(configured: configured, isCounted: counted)
        }
    }

    /// Rewrites a user's `maildirsize` from a scan of the maildir. Blocking.
    public static func recalculate(_ user: DeliveryUser, config: QuotaConfiguration) throws -> MaildirSizeContents {
        try withMaildirSize(of: user, config: config) { file, configured, counted in
            try file.recalculate(limits: configured, force: true, isCounted: counted)
        }
    }

    /// ``recalculate(_:config:)``, then the first quota warning the change of usage sets off
    /// (the file's figures before, the scan's after): where Homing sees usage go down (the user
    /// deleted mail), so that `-` warnings run. Blocking.
    public func recalculateAndWarn(_ user: DeliveryUser, config: QuotaConfiguration) throws -> MaildirSizeContents {
        let maildir = user.mailLocation.root
        let before = try FilesystemIdentity.withIdentity(user.identity) { () throws -> MaildirSizeContents? in
            try MaildirSizeFile(maildir: maildir, lockTimeout: config.lockTimeout).read()
        }.get()
        let after = try Self.recalculate(user, config: config)
        if let before, before.isValid {
            let limits = config.rules.defaultRuleIsForced ? config.rules.userLimits : after.limits
            if let warning = config.warnings.firstCrossing(from: before.usage, to: after.usage, userLimits: limits) {
                warningRunner.run(warning.rule, reason: warning.reason, user: user)
            }
        }
        return after
    }

    /// The limits to write into `file`: the configured ones, or nil (keep the file's own) for
    /// a `?` default rule when a file exists.
    private static func limitsToRecord(in file: MaildirSizeFile, _ config: QuotaConfiguration) -> QuotaLimits? {
        config.rules.defaultRuleIsForced || (try? file.read()) == nil ? config.rules.userLimits : nil
    }

    /// Runs `body` as the user on their `maildirsize`, with the limits to write into it (nil:
    /// keep the file's, for a `?` rule) and the folders counted. A user without a maildir yet
    /// has used nothing.
    private static func withMaildirSize(
        of user: DeliveryUser, config: QuotaConfiguration,
        _ body: (MaildirSizeFile, QuotaLimits?, (String) -> Bool) throws -> MaildirSizeContents
    ) throws -> MaildirSizeContents {
        let maildir = try maildirLocation(of: user)
        let counted: (String) -> Bool = { !config.rules.isIgnored(mailbox: $0) }
        let result = try FilesystemIdentity.withIdentity(user.identity) { () throws -> MaildirSizeContents in
            guard try maildirExists(maildir) else {
                return MaildirSizeContents(
                    limits: config.rules.userLimits, usage: .zero, usageLineCount: 0, isValid: true)
            }
            let file = MaildirSizeFile(maildir: maildir, lockTimeout: config.lockTimeout)
            return try body(file, limitsToRecord(in: file, config), counted)
        }
        return try result.get()
    }

    // MARK: - Replies

    /// Quota rules name Maildir++ folders (`Lists.Work`); Homing's mailbox names use `/`.
    static func quotaMailboxName(_ mailbox: String) -> String {
        mailbox.uppercased() == "INBOX" ? "INBOX" : mailbox.replacingSlashes()
    }

    private func refusal(_ decision: QuotaDecision, _ config: QuotaConfiguration) -> StoreCopyOutcome {
        switch decision {
        case .overMaxMailSize:
            return .notStored(.refused(.messageTooLarge(message: Self.maxMailSizeMessage)), reason: Self.maxMailSizeMessage)
        default:
            return .notStored(overQuota(config), reason: config.exceededMessage)
        }
    }

    /// The user's mailbox is full: refused (LMTP `552 5.2.2`), or deferred with
    /// `quota_full_tempfail = yes` (`452 4.2.2`), with `quota_exceeded_message`.
    private func overQuota(_ config: QuotaConfiguration) -> DeliveryFailure {
        tempfail
            ? .deferred(.mailboxFull(message: config.exceededMessage))
            : .refused(.mailboxFull(message: config.exceededMessage))
    }

    private func logInvalidRule(_ error: QuotaRuleError, user: DeliveryUser) {
        var log = logger
        log[metadataKey: "user"] = "\(user.user)"
        log.error("quota: user \(user.user): invalid userdb value: \(error)")
    }
}

extension String {
    fileprivate func replacingSlashes() -> String {
        String(map { $0 == "/" ? "." : $0 })
    }
}
