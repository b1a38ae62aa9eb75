import Foundation
import Glibc
import HomingConfig
import HomingDelivery
import HomingFileSystem
import HomingMaildir
import HomingSieve
import HomingSubmission
import Logging
import NIOPosix

/// `mail_plugins = sieve`: runs the recipient's Sieve scripts (`sieve_before...`, the user's
/// own or `sieve_default`, `sieve_after...`) at delivery and turns the result into the copies
/// to store, sending the mail `redirect`, `reject` and `vacation` ask for.
///
/// A script that cannot be used never loses the message: a user's script that fails to compile
/// or run, or an action that cannot be carried out, keeps the message in INBOX; the error goes
/// to the log and to the user's sieve log file (next to the script, as Pigeonhole does).
public final class SievePlugin: DeliveryPlugin {
    public let name = "sieve"
    let settings: HomingSettings
    let hostname: String
    /// Scripts run (and mail is handed to sendmail or SMTP) on threads of their own, so a slow
    /// `sendmail_path` or submission host cannot hold up storing and userdb lookups.
    private let threadPool: NIOThreadPool
    let logger: Logger
    private let cache: SieveScriptCache
    let submitter: any MailSubmitter

    /// How much of a message body the `body` test reads (per test): the rest is not looked at,
    /// so a large message costs at most this much memory per delivery.
    public static let maxBodyBytes = 2 << 20

    deinit {
        threadPool.shutdownGracefully { _ in }
    }

    /// Reads the configuration.
    /// - Throws: `ConfigError` for settings that do not parse (checked for a
    ///   sample user, since paths depend on the user).
    public init(
        settings: HomingSettings, hostname: String, threads: Int = 8, logger: Logger,
        submitter: (any MailSubmitter)? = nil
    ) throws {
        // Everything that can fail first: the threads start only for a usable configuration.
        for warning in try Self.checkSettings(settings, hostname: hostname) {
            logger.warning("sieve: \(warning)")
        }
        if let submitter {
            self.submitter = submitter
        } else if !settings.submissionHost.isEmpty {
            self.submitter = try SMTPSubmitter(setting: settings.submissionHost, heloName: hostname)
        } else {
            self.submitter = SendmailSubmitter(command: settings.sendmailPath)
        }
        self.settings = settings
        self.hostname = hostname
        self.logger = logger
        self.cache = SieveScriptCache()
        let pool = NIOThreadPool(numberOfThreads: max(1, threads))
        pool.start()
        self.threadPool = pool
    }

    /// Checks the plugin's settings (for a sample user, since paths depend on the user) and
    /// `submission_host`, without starting anything.
    /// - Throws: `ConfigError` naming the setting.
    /// Returns what Pigeonhole would warn about (extension names it alone implements, invalid
    /// `sieve_editheader_*` entries, inconsistent vacation periods).
    @discardableResult
    public static func checkSettings(_ settings: HomingSettings, hostname: String = "localhost") throws(ConfigError) -> [String] {
        let sample = try SieveUserSettings.resolve(
            plugin: settings.plugin, fields: [:], user: "user@example.com", home: "/home/user",
            recipientDelimiter: settings.recipientDelimiter, syntax: settings.variableSyntax, hostname: hostname,
            postmasterAddress: settings.postmasterAddress)
        if !settings.submissionHost.isEmpty {
            do {
                _ = try SMTPSubmitter(setting: settings.submissionHost, heloName: "localhost")
            } catch {
                throw ConfigError("submission_host: \(error)")
            }
        }
        return sample.warnings
    }

    public func plan(
        _ plan: DeliveryPlan, for user: DeliveryUser, recipient: EnvelopeRecipient, message: DeliveryMessage
    ) async -> DeliveryPlan {
        do {
            return try await threadPool.runIfActive {
                self.evaluate(plan, for: user, recipient: recipient, message: message)
            }
        } catch {
            return plan
        }
    }

    // MARK: - Running the scripts (blocking, on a delivery thread)

    private func evaluate(
        _ plan: DeliveryPlan, for user: DeliveryUser, recipient: EnvelopeRecipient, message: DeliveryMessage
    ) -> DeliveryPlan {
        let actions = plan.actions
        var log = logger
        log[metadataKey: "user"] = "\(user.user)"
        log[metadataKey: "session"] = "\(recipient.logID)"
        let msgid = message.headers["message-id"] ?? "unspecified"
        let keepInInbox = DeliveryPlan(actions: [StoreAction(mailbox: "INBOX", create: true)])

        let userSettings: SieveUserSettings
        do {
            userSettings = try SieveUserSettings.resolve(for: user, settings: settings)
        } catch {
            log.error("sieve: \(error); keeping the message")
            SieveMetrics.error(.settings)
            return plan
        }

        // What the user's log gets from this delivery, written once, before anything is sent.
        let userLog = SieveUserLog(path: userSettings.userLog, home: user.home, identity: user.identity)
        let userLines = SieveLogLines()
        /// Writes the user's log and returns `plan`; a link where the log should be defers the
        /// delivery instead.
        func finish(_ plan: DeliveryPlan) -> DeliveryPlan {
            if let refusal = userLog.write(userLines.lines) { return Self.deferral(refusal, log: log) }
            return plan
        }

        // The scripts, read as the user.
        let selection: [SieveScriptChoice]
        do {
            selection = try scripts(for: user, settings: userSettings)
        } catch {
            log.error("sieve: \(error); keeping the message")
            return plan
        }
        var sequence: [SieveCompiledScript] = []
        var personalName = "script"
        for choice in selection {
            switch choice.role {
            case .personal:
                // The user's own script: an error in it is theirs (written to their log), and the
                // message is kept in INBOX.
                personalName = SieveScriptReport.scriptName(choice.path)
                do {
                    let loaded = try asUser(user) { () throws -> SieveScriptCache.Loaded? in
                        try cache.load(choice.path, options: userSettings.compileOptions(.personal))
                    }
                    if let loaded {
                        sequence.append(loaded.script)
                        if loaded.isNew {
                            userLines.append(SieveScriptReport.compileWarnings(loaded.script.warnings, scriptName: personalName))
                        }
                    }
                } catch {
                    log.error("sieve: msgid=\(msgid): \(error); keeping the message in INBOX")
                    SieveMetrics.error(.compile)
                    if let loadError = error as? SieveScriptCache.LoadError, case .compile(_, let failure) = loadError {
                        userLines.append(SieveScriptReport.compileWarnings(failure.warnings, scriptName: personalName))
                        userLines.append(failure.lines(scriptName: personalName))
                    } else {
                        userLines.append(["\(personalName): error: \(error)."])
                    }
                    return finish(keepInInbox)
                }
            case .before, .defaultScript, .after:
                if choice.role == .defaultScript { personalName = SieveScriptReport.scriptName(choice.path) }
                if let script = loadAdministratorScript(choice.path, user, userSettings, log) { sequence.append(script) }
            }
        }
        if sequence.isEmpty { return finish(plan) }

        // The message, as the script sees it.
        let source: SieveMessage
        do {
            source = try SieveMessage(
                path: "/proc/self/fd/\(message.spool.fileDescriptor)", maxBodyBytes: Self.maxBodyBytes)
        } catch {
            log.error("sieve: msgid=\(msgid): \(error); keeping the message")
            return finish(plan)
        }
        let envelope = SieveEnvelope(
            from: message.envelope.sender, to: recipient.address, originalRecipient: recipient.originalAddress)
        let trackingLog = log
        let tracking = user.home.map { home in
            SieveTrackingStore(home: home) { problem in trackingLog.warning("sieve: \(problem)") }
        }
        if let tracking {
            // A link planted at the tracking file defers the delivery before anything is sent.
            let check = Result { () throws -> Result<Void, SieveTrackingError> in
                try FilesystemIdentity.withIdentity(user.identity) { () throws(SieveTrackingError) -> Void in
                    try tracking.checkForLinks()
                }
            }
            switch check {
            case .success(.failure(let error)) where error.isSymlinkRefusal:
                return Self.deferral(error, log: log)
            case .success(.failure(let error)):
                log.warning("sieve: \(error)")
            case .failure(let error):
                log.warning("sieve: \(error)")
            case .success(.success):
                break
            }
        }
        let now = Date()
        let environment = environment(
            for: user, settings: userSettings, remoteIP: message.envelope.remoteIP, now: now, tracking: tracking,
            cache: cache,
            compiled: { [log] location, script in
                let name = script.name ?? "include"
                if location == .personal {
                    userLines.append(SieveScriptReport.compileWarnings(script.warnings, scriptName: name))
                } else {
                    for warning in script.warnings { log.warning("sieve: \(name): \(warning)") }
                }
            })

        let result: SieveResult
        do {
            result = try SieveInterpreter.runSequence(
                sequence, message: source, envelope: envelope, environment: environment,
                settings: userSettings.runtime)
        } catch {
            log.error("sieve: msgid=\(msgid): \(personalName): \(error); keeping the message in INBOX")
            SieveMetrics.error(.runtime)
            userLines.append(["\(personalName): \(error)"])
            return finish(keepInInbox)
        }
        userLines.append(SieveScriptReport.runtimeWarnings(result.warnings))
        SieveMetrics.actions(of: result)
        if let rejection = Self.protocolRejection(result) {
            log.info("sieve: msgid=\(msgid): ereject action: rejected message from <\(envelope.from)> at protocol level (ereject)")
            var refused = DeliveryPlan(actions: [])
            refused.rejection = rejection
            return finish(refused)
        }

        // The copies, checked before anything is sent: a folder that cannot exist fails the
        // result (Pigeonhole's rule), the message is then kept in INBOX as received.
        let storePlan = SieveStorePlan(
            defaultMailbox: actions.first?.mailbox ?? user.mailbox, autocreate: settings.ldaMailboxAutocreate,
            separator: settings.inboxNamespaceSeparator ?? (user.mailLocation.layout == .fs ? "/" : "."),
            layout: user.mailLocation.layout)
        let messageStart = editedHeaderSource(result, source: source, spool: message.spool, log: log, msgid: msgid)
        let stores: [StoreAction]
        switch storePlan.outcome(for: result, messageStart: messageStart) {
        case .stores(let planned):
            stores = planned
        case .invalidFolder(let name, let problem):
            let text = "fileinto action: failed to store into mailbox '\(name)': \(problem)"
            log.error("sieve: msgid=\(msgid): \(text); keeping the message in INBOX")
            SieveMetrics.error(.invalidFolder)
            userLines.append(["error: msgid=\(msgid): \(text)."])
            return finish(keepInInbox)
        }

        // The user's log is written before anything is sent: a link planted there defers the
        // delivery with nothing done.
        if let refusal = userLog.write(userLines.lines) { return Self.deferral(refusal, log: log) }
        let (carried, marks) = carryOut(
            result, stores: stores, user: user, message: message, source: source, envelope: envelope,
            messageStart: messageStart, tracking: tracking, settings: userSettings, now: now, log: log, msgid: msgid)
        var planned = DeliveryPlan(actions: carried)
        planned.afterStore = plan.afterStore
        if let tracking, !marks.isEmpty {
            // Remembered once the copies are stored: a delivery retried after a 4xx must not
            // find itself already recorded as a duplicate (and be discarded).
            let identity = user.identity
            let errorLog = log
            planned.afterStore.append {
                do {
                    try FilesystemIdentity.withIdentity(identity) { () throws -> Void in
                        try tracking.record(marks, now: now)
                    }.get()
                } catch {
                    errorLog.error("sieve: recording duplicates failed: \(error)")
                }
            }
        }
        return planned
    }

    /// The spool's header, read when the result edits it (`editheader`) so that the edited
    /// copies can be written; `nil` when nothing is edited or the header cannot be read (the
    /// copies are then stored as received, with a warning).
    private func editedHeaderSource(
        _ result: SieveResult, source: SieveMessage, spool: SpooledMessage, log: Logger, msgid: String
    ) -> [UInt8]? {
        guard !result.editedHeaders.isEmpty || result.implicitKeepHeader != nil else { return nil }
        let length = source.bodyOffset
        guard length <= Self.maxEditedHeaderBytes else {
            log.warning("sieve: msgid=\(msgid): the header is larger than \(Self.maxEditedHeaderBytes) bytes: header edits are not stored")
            return nil
        }
        var bytes = [UInt8](repeating: 0, count: length)
        var filled = 0
        while filled < length {
            let count = bytes.withUnsafeMutableBytes {
                pread(spool.fileDescriptor, $0.baseAddress.map { $0 + filled }, length - filled, off_t(filled))
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                log.warning("sieve: msgid=\(msgid): reading the header for its edits failed: header edits are not stored")
                return nil
            }
            filled += count
        }
        return bytes
    }

    /// The largest header whose edits are stored (a larger one is stored as received).
    static let maxEditedHeaderBytes = 4 << 20

    /// The plan for a delivery that found a symbolic link where none may be (the tracking
    /// file, the user's Sieve log): deferred (`451 4.3.0`), nothing stored or sent, so that the
    /// mail waits in the client's queue while an administrator looks.
    static func deferral(_ refusal: any Error, log: Logger) -> DeliveryPlan {
        log.error("sieve: \(refusal); deferring the delivery")
        SieveMetrics.error(.deferred)
        var plan = DeliveryPlan(actions: [])
        plan.rejection = DeliveryPlan.Rejection(failure: .deferred(.internalError), reason: "sieve: \(refusal)")
        return plan
    }

    // MARK: - Which scripts run

    /// The scripts a delivery to `user` runs, in order, as this plugin picks them: the
    /// `sieve_before` scripts (directories expanded), the user's own script if it exists, else
    /// `sieve_default`, then the `sieve_after` scripts. Everything is looked at as the user.
    /// `homing user -v` shows this list.
    public func scripts(for user: DeliveryUser) throws -> [SieveScriptChoice] {
        try scripts(for: user, settings: SieveUserSettings.resolve(for: user, settings: settings))
    }

    private func scripts(for user: DeliveryUser, settings userSettings: SieveUserSettings) throws -> [SieveScriptChoice] {
        try asUser(user) { () -> [SieveScriptChoice] in
            var choices = Self.expandScriptList(userSettings.before).map { SieveScriptChoice(path: $0, role: .before) }
            if let personal = userSettings.personalScript, Self.exists(personal) {
                choices.append(SieveScriptChoice(path: personal, role: .personal))
            } else if let fallback = userSettings.defaultScript {
                choices.append(
                    SieveScriptChoice(path: fallback, role: .defaultScript, missingPersonal: userSettings.personalScript))
            }
            choices += Self.expandScriptList(userSettings.after).map { SieveScriptChoice(path: $0, role: .after) }
            return choices
        }
    }

    /// Whether there is something at `path`; anything but "no such file" counts, so that an
    /// unreadable script is reported as such instead of being passed over.
    private static func exists(_ path: String) -> Bool {
        var info = stat()
        if stat(path, &info) == 0 { return true }
        return errno != ENOENT && errno != ENOTDIR
    }

    // MARK: - Pieces

    /// What `user`'s scripts may ask of the world at delivery (and in `homing explain`'s dry
    /// run): folder existence and duplicate tracking looked at as the user, `include`s
    /// compiled through `cache` as the user.
    func environment(
        for user: DeliveryUser, settings userSettings: SieveUserSettings, remoteIP: String?, now: Date,
        tracking: SieveTrackingStore?, cache: SieveScriptCache,
        compiled: (@Sendable (SieveIncludeLocation, SieveCompiledScript) -> Void)? = nil
    ) -> SieveDeliveryEnvironment {
        let identity = user.identity
        return SieveDeliveryEnvironment(
            items: SieveDeliveryEnvironment.standardItems(hostname: hostname, remoteIP: remoteIP),
            now: now,
            mailboxExists: Self.mailboxExistence(in: user.mailLocation, as: identity),
            isDuplicate: { key in
                guard let tracking else { return false }
                return (try? FilesystemIdentity.withIdentity(identity) { () throws(SieveTrackingError) -> Bool in
                    try tracking.contains(key: key, now: now)
                }.get()) ?? false
            },
            loadInclude: SieveDeliveryEnvironment.includeLoader(
                personal: userSettings.personalDirectory, global: userSettings.globalDirectory, cache: cache,
                personalOptions: userSettings.compileOptions(.personal), globalOptions: userSettings.compileOptions(.global),
                wrap: { load throws(SieveScriptCache.LoadError) in
                    let outcome: Result<SieveScriptCache.Loaded?, SieveScriptCache.LoadError>
                    do {
                        outcome = try FilesystemIdentity.withIdentity(identity, load)
                    } catch {
                        throw .unreadable(path: "include", reason: "\(error)")
                    }
                    return try outcome.get()
                },
                compiled: compiled))
    }

    /// `mailboxexists` for a delivery: a folder exists when its `cur/` does, looked at as the
    /// user and as a delivery would store into it (no link below the trusted base).
    static func mailboxExistence(in location: MailLocation, as identity: FilesystemIdentity?) -> @Sendable (String) -> Bool {
        { name in
            guard let folder = try? location.mailbox(named: name).treePath else { return false }
            return (try? FilesystemIdentity.withIdentity(identity) { () -> Bool in
                guard let directory = try? TreeDirectory.open(folder),
                    let info = try? directory.status(of: "cur")
                else { return false }
                return (info.st_mode & S_IFMT) == S_IFDIR
            }.get()) ?? false
        }
    }

    /// A `sieve_before`/`sieve_after`/`sieve_default` script, read as the user: a broken or
    /// unreadable one is the administrator's problem: logged and skipped.
    private func loadAdministratorScript(
        _ path: String, _ user: DeliveryUser, _ userSettings: SieveUserSettings, _ log: Logger
    ) -> SieveCompiledScript? {
        do {
            let loaded = try asUser(user) { () throws -> SieveScriptCache.Loaded? in
                try cache.load(path, options: userSettings.compileOptions(.global))
            }
            if let loaded, loaded.isNew {
                for warning in loaded.script.warnings { log.warning("sieve: \(path): \(warning)") }
            }
            return loaded?.script
        } catch {
            log.error("sieve: \(error) (skipped)")
            return nil
        }
    }

    /// Files stay; a directory gives its `*.sieve` files in name order.
    public static func expandScriptList(_ paths: [String]) -> [String] {
        var result: [String] = []
        for path in paths {
            if SieveUserSettings.isDirectory(path) {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                result += names.filter { $0.hasSuffix(".sieve") && !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
            } else {
                result.append(path)
            }
        }
        return result
    }

    /// Runs `body` with the user's file system identity; a failed switch throws (nothing runs
    /// as root on the user's files).
    func asUser<T>(_ user: DeliveryUser, _ body: () throws -> T) throws -> T {
        try FilesystemIdentity.withIdentity(user.identity) { () throws -> T in try body() }.get()
    }
}
