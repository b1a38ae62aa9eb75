import Foundation
import Glibc
import HomingConfig
import HomingDelivery
import HomingLMTP
import HomingMaildir
import HomingQuota
import HomingQuotaPlugin
import HomingServer
import HomingSieve
import HomingSievePlugin
import HomingUserdb
import Synchronization

/// `homing explain`: walks the delivery path of one message to one recipient with the real
/// pieces (the resolver and userdb chain, the mail location, the quota plugin, the Sieve
/// plugin) and reports each step, storing, sending and recording nothing.
public struct DeliveryExplainer: Sendable {
    private let runtime: HomingRuntime

    public init(runtime: HomingRuntime) {
        self.runtime = runtime
    }

    private var settings: HomingSettings { runtime.settings }
    private var loaded: LoadedConfiguration { runtime.configuration }

    /// Explains the delivery of `message` (the raw message, LF or CRLF line ends; nil: a small
    /// made-up one) from `sender` (empty for `<>`) to `address`, with `originalRecipient` as
    /// LMTP's `ORCPT`.
    public func explain(address: String, sender: String, originalRecipient: String?, message: [UInt8]?) async
        -> DeliveryExplanation
    {
        let bytes = message ?? Self.sampleMessage(from: sender, to: address, hostname: runtime.hostname)
        let body = Self.lineFeedsOnly(bytes)
        var explanation = DeliveryExplanation(address: address, sender: sender, messageSize: body.count)

        // Normalisation and the userdb, traced.
        let collected = Mutex<[ResolutionStep]>([])
        let resolved: Result<DeliveryUser, RecipientResolver.Failure>
        do throws(RecipientResolver.Failure) {
            resolved = .success(
                try await runtime.resolver.resolve(address: address, trace: { step in collected.withLock { $0.append(step) } }))
        } catch {
            resolved = .failure(error)
        }
        let steps = collected.withLock { $0 }
        explanation.steps.append(normalisation(address, steps, failure: resolved.failure))
        if steps.contains(where: { if case .userdb = $0 { return true } else { return false } }) || resolved.isUserdbFailure {
            explanation.steps.append(userdb(steps, resolved))
        }
        let user: DeliveryUser
        switch resolved {
        case .failure(let failure):
            switch failure {
            case .unusable(let reason), .notPermitted(let reason):
                explanation.steps.append(.init(step: "user", result: "cannot be delivered to: \(reason)"))
            case .notFound, .invalidAddress, .userdbUnavailable:
                break
            }
            refuse(&explanation, failure.deliveryFailure, atRCPT: true)
            return explanation
        case .success(let found):
            user = found
        }
        explanation.steps.append(userStep(user))
        explanation.steps.append(storage(user))

        let recipient = EnvelopeRecipient(address: address, originalAddress: originalRecipient, logID: "explain")
        let storedSize = traceHeaderSize(address: address, sender: sender) + body.count

        // Quota at RCPT, then Sieve, then quota for each copy.
        var quota: (config: QuotaConfiguration, usage: QuotaUsageReading)?
        if let plugin = runtime.quota {
            switch await quotaStep(plugin, user: user, size: storedSize) {
            case .failed(let step, let failure):
                explanation.steps.append(step)
                refuse(&explanation, failure, atRCPT: true)
                return explanation
            case .checked(let step, let config, let usage, let rcptFailure):
                explanation.steps.append(step)
                if let rcptFailure {
                    refuse(&explanation, rcptFailure, atRCPT: true)
                    return explanation
                }
                quota = (config, usage)
            }
        }
        explanation.rcptReply = LMTPReply.rcptOK.description

        var stores = [StoreAction(mailbox: user.mailbox, create: settings.ldaMailboxAutocreate)]
        if let sieve = runtime.sieve {
            let message = SieveMessage(bytes: body, maxBodyBytes: SievePlugin.maxBodyBytes)
            let dryRun: Result<SieveDryRun, any Error>
            do {
                dryRun = .success(
                    try await runtime.threadPool.runIfActive {
                        try sieve.dryRun(for: user, recipient: recipient, sender: sender, message: message)
                    })
            } catch {
                dryRun = .failure(error)
            }
            switch dryRun {
            case .failure(let error):
                explanation.steps.append(.init(step: "sieve", result: "cannot run the scripts: \(error); the message is kept"))
            case .success(let run):
                explanation.steps.append(sieveStep(run))
                if let reason = run.rejection {
                    refuse(&explanation, .refused(.rejected(reason: reason.replacingOccurrences(of: "ereject: ", with: ""))), atRCPT: false)
                    explanation.steps.append(.init(step: "result", result: "refused by the Sieve script (ereject); nothing stored"))
                    return explanation
                }
                stores = run.stores
            }
        } else {
            explanation.steps.append(.init(step: "sieve", result: "not run (sieve is not in mail_plugins)"))
        }
        explanation.steps.append(result(stores, user: user, size: storedSize, virtualSize: storedSize + Self.lines(in: body), quota: quota, explanation: &explanation))
        return explanation
    }

    // MARK: - Steps

    private func normalisation(_ address: String, _ steps: [ResolutionStep], failure: RecipientResolver.Failure?) -> DeliveryExplanation.Step {
        var items = [DeliveryExplanation.Item("address", address)]
        var lookedUp: String?
        for step in steps {
            switch step {
            case .split(let user, let detail):
                items.append(.init("without detail", user, source: source("recipient_delimiter", settings.recipientDelimiter)))
                if let detail { items.append(.init("detail", detail)) }
            case .lookupName(let name):
                lookedUp = name
                if settings.authUsernameTranslation != "" {
                    items.append(.init("translated", "auth_username_translation applied", source: source("auth_username_translation", settings.authUsernameTranslation)))
                }
                items.append(.init("looked up as", name, source: source("auth_username_format", settings.authUsernameFormat)))
            case .userdb:
                break
            }
        }
        if case .invalidAddress(_, let reason) = failure {
            items.append(.init("refused", reason, source: source("auth_username_chars", settings.authUsernameChars)))
            return .init(step: "normalisation", result: "the address cannot name a user", items: items)
        }
        return .init(step: "normalisation", result: lookedUp.map { "looked up as \($0)" } ?? "not looked up", items: items)
    }

    private func userdb(_ steps: [ResolutionStep], _ resolved: Result<DeliveryUser, RecipientResolver.Failure>) -> DeliveryExplanation.Step {
        var items: [DeliveryExplanation.Item] = []
        for case .userdb(let step) in steps {
            let name = "userdb \(step.index) (\(step.driver)\(step.name.map { " \($0)" } ?? ""))"
            var value: String
            switch step.event {
            case .skipped(let skip, let found):
                value = "skipped: skip = \(skip.rawValue) and the user was \(found ? "" : "not ")found before"
            case .found(let user, let fields):
                value = "found \(user)" + fields.map { "\n\($0.name) = \($0.value)" }.joined()
            case .notFound:
                value = "does not know the user"
            case .failed(let reason):
                value = "could not answer: \(reason)"
            }
            if let rule = step.rule {
                let setting: String
                switch step.event {
                case .found: setting = "result_success"
                case .notFound: setting = "result_failure"
                default: setting = "result_internalfail"
                }
                let next = step.chainGoesOn ? "the next userdb is asked" : rule.continues ? "no userdb is left" : "the chain stops"
                value += "\n\(setting) = \(rule.rawValue): \(next)"
            }
            items.append(.init(name, value, source: step.location?.description))
        }
        let result: String
        switch resolved {
        case .success(let user): result = "found \(user.user)"
        case .failure(.notFound): result = "no userdb knows the user"
        case .failure(.userdbUnavailable(let reason)): result = "temporary failure: \(reason)"
        case .failure(.unusable): result = "found, with values delivery cannot use"
        case .failure(.notPermitted): result = "found, but this process may not act as the user"
        case .failure(.invalidAddress): result = "not asked"
        }
        return .init(step: "userdb", result: result, items: items)
    }

    private func userStep(_ user: DeliveryUser) -> DeliveryExplanation.Step {
        var items = [DeliveryExplanation.Item("user", user.user)]
        let record = user.record
        items.append(.init("uid", record.uid ?? settings.mailUID ?? "-", source: record.uid != nil ? "userdb" : source("mail_uid", settings.mailUID ?? "")))
        items.append(.init("gid", record.gid ?? settings.mailGID ?? "-", source: record.gid != nil ? "userdb" : source("mail_gid", settings.mailGID ?? "")))
        items.append(.init("home", user.home ?? "(none)", source: "userdb"))
        items.append(.init("writes as", user.identity.map(\.description) ?? "the homing process (uid \(geteuid()))"))
        items.append(.init("mailbox", user.mailbox, source: user.detail != nil ? source("lmtp_save_to_detail_mailbox", settings.lmtpSaveToDetailMailbox ? "yes" : "no") : nil))
        return .init(step: "user", result: "\(user.user), writing as \(user.identity.map(\.description) ?? "the homing process")", items: items)
    }

    private func storage(_ user: DeliveryUser) -> DeliveryExplanation.Step {
        let fromUserdb = user.record.mail != nil
        var items = [
            DeliveryExplanation.Item(
                "mail location", fromUserdb ? user.record.mail ?? "" : settings.mailLocation,
                source: fromUserdb ? "userdb field mail" : source("mail_location", settings.mailLocation)),
            DeliveryExplanation.Item("expanded", user.mailLocationText),
        ]
        if let home = user.home { items.append(.init("home directory", Self.describePath(home, identity: user.identity))) }
        items.append(.init("maildir", Self.describePath(user.mailLocation.root, identity: user.identity)))
        if let inbox = try? user.mailLocation.mailbox(named: "INBOX") {
            items.append(.init("INBOX", Self.describePath(inbox.path, identity: user.identity)))
        }
        return .init(step: "storage", result: "maildir \(user.mailLocation.root)", items: items)
    }

    private enum QuotaStepResult {
        case failed(DeliveryExplanation.Step, DeliveryFailure)
        case checked(DeliveryExplanation.Step, QuotaConfiguration, QuotaUsageReading, rcptFailure: DeliveryFailure?)
    }

    private func quotaStep(_ plugin: QuotaPlugin, user: DeliveryUser, size: Int) async -> QuotaStepResult {
        let config: QuotaConfiguration
        do {
            config = try plugin.configuration(for: user)
        } catch {
            return .failed(.init(step: "quota", result: "the user's quota settings do not parse: \(error)"), .deferred(.unusableUser))
        }
        var items = [DeliveryExplanation.Item("quota root", "\(plugin.root.name)\(plugin.root.enforcing ? "" : " (noenforcing)")", source: pluginSource("quota", user))]
        let limits = config.rules.userLimits
        items.append(.init("limits", Self.describe(limits), source: pluginSource("quota_rule", user)))
        items.append(.init("grace", "\(config.graceBytes) bytes", source: pluginSource("quota_grace", user)))
        if config.maxMailSize > 0 { items.append(.init("maximum message size", "\(config.maxMailSize) bytes", source: pluginSource("quota_max_mail_size", user))) }
        let reading: QuotaUsageReading
        do {
            reading = try await runtime.threadPool.runIfActive { try QuotaPlugin.inspect(user, config: config) }
        } catch {
            items.append(.init("usage", "cannot be read: \(error)"))
            return .failed(.init(step: "quota", result: "the usage cannot be read", items: items), .deferred(.internalError))
        }
        let usage = reading.contents.usage
        items.append(.init("usage", "\(usage.bytes) bytes in \(usage.messages) messages", source: reading.source))
        var rcptFailure: DeliveryFailure?
        if settings.lmtpRcptCheckQuota {
            let allowed = !plugin.root.enforcing || limits.isUnlimited || config.rcptCheck(usage: usage, mailbox: user.mailbox).isAllowed
            items.append(.init("at RCPT", allowed ? "accepted" : "refused: already over quota", source: source("lmtp_rcpt_check_quota", "yes")))
            if !allowed { rcptFailure = overQuota(config) }
        }
        for rule in config.warnings.rules {
            let (bytes, messages) = rule.limits(for: limits)
            items.append(.init("warning", "\(rule.direction == .upwards ? "above" : "below") \(bytes > 0 ? "\(bytes) bytes" : "\(messages) messages"): \(rule.command.joined(separator: " "))", source: pluginSource(rule.setting, user)))
        }
        let after = QuotaUsage(bytes: usage.bytes + Int64(size), messages: usage.messages + 1)
        if let crossing = config.warnings.firstCrossing(from: usage, to: after, userLimits: limits) {
            items.append(.init("this message", "would set off \(crossing.rule.setting) (\(crossing.reason))"))
        }
        let result = limits.isUnlimited ? "no limit" : "\(Self.describe(limits)), \(usage.bytes) bytes used"
        return .checked(.init(step: "quota", result: result, items: items), config, reading, rcptFailure: rcptFailure)
    }

    private func sieveStep(_ run: SieveDryRun) -> DeliveryExplanation.Step {
        var items: [DeliveryExplanation.Item] = []
        for script in run.scripts {
            let role: String
            switch script.choice.role {
            case .before: role = "sieve_before"
            case .personal: role = "the user's script"
            case .defaultScript: role = "sieve_default"
            case .after: role = "sieve_after"
            }
            let outcome: String
            switch script.outcome {
            case .ran(let text): outcome = text.trimmingCharacters(in: .newlines)
            case .missing: outcome = "does not exist: skipped"
            case .unusable(let reason): outcome = "unusable: \(reason)"
            case .failed(let reason): outcome = "failed: \(reason)"
            }
            items.append(.init(script.choice.path, outcome, source: role))
        }
        for mail in run.outgoing { items.append(.init("would send", mail + " (not sent)")) }
        if let fallback = run.fallback { items.append(.init("fallback", fallback + ": the message is kept in INBOX")) }
        let result: String
        if run.scripts.isEmpty {
            result = "no script: the message is kept"
        } else if run.rejection != nil {
            result = "ereject: the recipient is refused"
        } else if run.stores.isEmpty {
            result = "discarded: nothing is stored"
        } else {
            result = "stores into " + run.stores.map(\.mailbox).joined(separator: ", ")
        }
        return .init(step: "sieve", result: result, items: items)
    }

    private func result(
        _ stores: [StoreAction], user: DeliveryUser, size: Int, virtualSize: Int,
        quota: (config: QuotaConfiguration, usage: QuotaUsageReading)?, explanation: inout DeliveryExplanation
    ) -> DeliveryExplanation.Step {
        var items: [DeliveryExplanation.Item] = []
        var failure: DeliveryFailure?
        for store in stores {
            var mailbox = store.mailbox
            var note = ""
            if let directory = try? user.mailLocation.mailbox(named: mailbox), !store.create, mailbox.uppercased() != "INBOX",
                !Self.exists(directory.path, identity: user.identity)
            {
                note = " (\(mailbox) does not exist and is not to be created: INBOX instead)"
                mailbox = "INBOX"
            }
            guard let directory = try? user.mailLocation.mailbox(named: mailbox) else {
                items.append(.init(mailbox, "not a usable folder name: INBOX instead"))
                continue
            }
            if let quota, let plugin = runtime.quota, plugin.root.enforcing {
                let counted = !quota.config.rules.isIgnored(mailbox: mailbox)
                let limits = quota.config.rules.defaultRuleIsForced
                    ? quota.config.rules.limits(forMailbox: mailbox) : quota.usage.contents.limits
                let decision = QuotaDecision.decide(
                    messageSize: Int64(size), usage: quota.usage.contents.usage, limits: counted ? limits : QuotaLimits(bytes: 0, messages: 0, ignored: true),
                    graceBytes: quota.config.graceBytes, maxMailSize: quota.config.maxMailSize)
                if !decision.isAllowed {
                    let refusal: DeliveryFailure = decision == .overMaxMailSize(limit: quota.config.maxMailSize)
                        ? .refused(.messageTooLarge(message: QuotaPlugin.maxMailSizeMessage)) : overQuota(quota.config)
                    items.append(.init(mailbox, "not stored: \(refusal)"))
                    failure = refusal
                    continue
                }
            }
            let name = MaildirFileName.withSizes("<unix time>.M<microseconds>P<pid>.\(MaildirFileName.host)", size: size, virtualSize: virtualSize)
            let file = store.flags.isEmpty ? "new/\(name)" : "cur/\(name):2,\(store.flags)"
            items.append(.init(mailbox, "\(directory.path)/\(file)\(note)"))
        }
        if let failure {
            refuse(&explanation, failure, atRCPT: false)
            return .init(step: "result", result: "not delivered: \(failure)", items: items)
        }
        explanation.outcome = .delivered
        explanation.dataReply = "250 2.0.0 <\(explanation.address)> <session id> Saved"
        return .init(
            step: "result", result: stores.isEmpty ? "discarded by the Sieve script (answered as delivered)" : "delivered",
            items: items)
    }

    // MARK: - Pieces

    private func refuse(_ explanation: inout DeliveryExplanation, _ failure: DeliveryFailure, atRCPT: Bool) {
        let reply = LMTPDeliveryReplies.reply(for: failure, path: explanation.address).description
        explanation.outcome = failure.isTemporary ? .deferred : .refused
        if atRCPT {
            explanation.rcptReply = reply
            explanation.dataReply = nil
        } else {
            explanation.rcptReply = LMTPReply.rcptOK.description
            explanation.dataReply = reply
        }
    }

    private func overQuota(_ config: QuotaConfiguration) -> DeliveryFailure {
        settings.quotaFullTempfail
            ? .deferred(.mailboxFull(message: config.exceededMessage)) : .refused(.mailboxFull(message: config.exceededMessage))
    }

    /// `name = value (file:line)` for a setting, or its default.
    private func source(_ name: String, _ value: String) -> String {
        if let location = loaded.location(ofSetting: name) { return "\(name) = \(value), \(location)" }
        return "\(name) = \(value) (default)"
    }

    /// Where a plugin setting of `user` comes from: the userdb field, the configuration, or the default.
    private func pluginSource(_ name: String, _ user: DeliveryUser) -> String {
        if user.record[name] != nil { return "userdb field \(name)" }
        if let location = loaded.location(ofPluginSetting: name) { return "plugin \(name), \(location)" }
        return "\(name) default"
    }

    private func traceHeaderSize(address: String, sender: String) -> Int {
        guard settings.lmtpAddReceivedHeader || settings.lmtpHdrDeliveryAddress != .none else {
            return "Return-Path: <\(sender)>\n".utf8.count
        }
        let headers = DeliveryHeaders(
            returnPath: sender, deliveredTo: settings.lmtpHdrDeliveryAddress == .none ? nil : address,
            received: settings.lmtpAddReceivedHeader
                ? .init(from: runtime.hostname, remoteIP: nil, by: runtime.hostname, id: "xxxxxxxxxxxxxxxxxxxxxx", envelopeFrom: sender, forRecipient: address, date: Date())
                : nil)
        return headers.bytes.count
    }

    static func describe(_ limits: QuotaLimits) -> String {
        if limits.ignored { return "ignored (no quota)" }
        if limits.isUnlimited { return "no limit" }
        var parts: [String] = []
        if limits.bytes > 0 { parts.append("\(limits.bytes) bytes") }
        if limits.messages > 0 { parts.append("\(limits.messages) messages") }
        return parts.joined(separator: ", ")
    }

    /// What is at `path`, looked at as the user: missing (made at the first delivery), a
    /// symbolic link (refused), or a directory with its owner and mode.
    static func describePath(_ path: String, identity: FilesystemIdentity?) -> String {
        let looked = try? FilesystemIdentity.withIdentity(identity) { () -> (Int32, stat, Int32) in
            var info = stat()
            let status = lstat(path, &info)
            return (status, info, status == 0 ? 0 : errno)
        }.get()
        guard let (status, info, code) = looked else { return "\(path): cannot be looked at as the user" }
        if status != 0 {
            if code == ENOENT { return "\(path): missing, created at the first delivery (mode 0700)" }
            return "\(path): cannot be looked at: \(String(cString: strerror(code)))"
        }
        let type = info.st_mode & S_IFMT
        if type == S_IFLNK { return "\(path): a symbolic link: delivery refuses to follow it" }
        if type != S_IFDIR { return "\(path): not a directory: delivery fails" }
        var text = "\(path): exists, owner \(info.st_uid):\(info.st_gid), mode \(String(info.st_mode & 0o7777, radix: 8))"
        if let identity, info.st_uid != identity.uid {
            text += " (not owned by uid \(identity.uid): writing may fail)"
        }
        return text
    }

    static func exists(_ path: String, identity: FilesystemIdentity?) -> Bool {
        (try? FilesystemIdentity.withIdentity(identity) { () -> Bool in
            var info = stat()
            return stat(path + "/cur", &info) == 0
        }.get()) ?? false
    }

    /// The message with CRLF turned into LF, as the spool stores it.
    static func lineFeedsOnly(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for (index, byte) in bytes.enumerated() {
            if byte == 13, index + 1 < bytes.count, bytes[index + 1] == 10 { continue }
            out.append(byte)
        }
        return out
    }

    static func lines(in bytes: [UInt8]) -> Int { bytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } }

    /// The message explained when none is given.
    static func sampleMessage(from sender: String, to address: String, hostname: String) -> [UInt8] {
        Array(
            """
            From: \(sender.isEmpty ? "MAILER-DAEMON@\(hostname)" : sender)
            To: \(address)
            Subject: homing explain
            Message-ID: <homing-explain@\(hostname)>

            A test message.

            """.utf8)
    }
}

extension Result where Failure == RecipientResolver.Failure {
    fileprivate var failure: RecipientResolver.Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }

    fileprivate var isUserdbFailure: Bool {
        switch self {
        case .failure(.notFound), .failure(.userdbUnavailable), .failure(.unusable), .failure(.notPermitted): return true
        default: return false
        }
    }
}
