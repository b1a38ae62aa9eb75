import Foundation
import Glibc
import HomingDelivery
import HomingMaildir
import HomingSieve

/// What the Sieve scripts of a delivery would do with a message, worked out without doing any
/// of it (`homing explain`): nothing is stored, sent or recorded.
public struct SieveDryRun: Sendable, Hashable {
    /// One script of the sequence.
    public struct Script: Sendable, Hashable {
        public var choice: SieveScriptChoice
        /// What running it alone on the message gives, in `sieve-test`'s layout, or why it
        /// could not run.
        public var outcome: Outcome
    }

    /// How one script fared.
    public enum Outcome: Sendable, Hashable {
        /// It ran: `sieve-test`'s "Performed actions:" / "Implicit keep:" text.
        case ran(String)
        /// It does not exist (a `sieve_before` path with no file...): skipped.
        case missing
        /// It does not compile or cannot be read (delivery: an administrator's script is
        /// skipped, the user's own keeps the message in INBOX).
        case unusable(String)
        /// It failed while running.
        case failed(String)
    }

    public var scripts: [Script]
    /// Where the copies would be stored (mailbox and maildir flags), after the whole sequence.
    public var stores: [StoreAction]
    /// Mail the scripts would send (`redirect`, `reject`, `vacation`, `notify`), described.
    public var outgoing: [String]
    /// `ereject`'s reason: the recipient would be refused at protocol level.
    public var rejection: String?
    /// Why the message would be kept in INBOX instead (the user's script is broken...), if so.
    public var fallback: String?
}

extension SievePlugin {
    /// Runs `user`'s scripts on `source` as a delivery would (as the user,
    /// the same scripts in the same order, the same envelope), but only to report: each script
    /// alone, then the sequence, turned into the copies it would store. Duplicate tracking is
    /// read, never written. Blocking.
    public func dryRun(
        for user: DeliveryUser, recipient: EnvelopeRecipient, sender: String, message source: SieveMessage,
        remoteIP: String? = nil
    ) throws -> SieveDryRun {
        let userSettings = try SieveUserSettings.resolve(for: user, settings: settings)
        let choices = try scripts(for: user)
        let cache = SieveScriptCache()
        let envelope = SieveEnvelope(from: sender, to: recipient.address, originalRecipient: recipient.originalAddress)
        let identity = user.identity
        let location = user.mailLocation
        let tracking = user.home.map { SieveTrackingStore(home: $0) { _ in } }
        let now = Date()
        let environment = environment(
            for: user, settings: userSettings, remoteIP: remoteIP, now: now, tracking: tracking, cache: cache)

        var report: [SieveDryRun.Script] = []
        var sequence: [SieveCompiledScript] = []
        var fallback: String?
        for choice in choices {
            let loaded: SieveCompiledScript?
            do {
                loaded = try asUser(user) { () throws -> SieveCompiledScript? in
                    try cache.load(choice.path, options: userSettings.compileOptions(choice.role == .personal ? .personal : .global))?
                        .script
                }
            } catch {
                report.append(.init(choice: choice, outcome: .unusable("\(error)")))
                if choice.role == .personal { fallback = "the user's script \(choice.path) is unusable: \(error)" }
                continue
            }
            guard let script = loaded else {
                report.append(.init(choice: choice, outcome: .missing))
                continue
            }
            sequence.append(script)
            do {
                let alone = try SieveInterpreter.run(
                    script, message: source, envelope: envelope, environment: environment, settings: userSettings.runtime)
                report.append(.init(choice: choice, outcome: .ran(SieveResultFormatter.format(alone))))
            } catch {
                report.append(.init(choice: choice, outcome: .failed("\(error)")))
            }
        }
        let keepInInbox = [StoreAction(mailbox: "INBOX", create: true)]
        if let fallback {
            return SieveDryRun(scripts: report, stores: keepInInbox, outgoing: [], rejection: nil, fallback: fallback)
        }
        guard !sequence.isEmpty else {
            return SieveDryRun(
                scripts: report, stores: [StoreAction(mailbox: user.mailbox, create: settings.ldaMailboxAutocreate)],
                outgoing: [], rejection: nil, fallback: nil)
        }
        let result: SieveResult
        do {
            result = try SieveInterpreter.runSequence(
                sequence, message: source, envelope: envelope, environment: environment, settings: userSettings.runtime)
        } catch {
            return SieveDryRun(
                scripts: report, stores: keepInInbox, outgoing: [], rejection: nil,
                fallback: "the scripts failed at run time: \(error)")
        }
        if let rejection = Self.protocolRejection(result) {
            return SieveDryRun(scripts: report, stores: [], outgoing: [], rejection: rejection.reason, fallback: nil)
        }
        // The copies, as delivery plans them (the header edits are not applied: nothing is
        // written).
        let storePlan = SieveStorePlan(
            defaultMailbox: user.mailbox, autocreate: settings.ldaMailboxAutocreate,
            separator: settings.inboxNamespaceSeparator ?? (location.layout == .fs ? "/" : "."), layout: location.layout)
        let stores: [StoreAction]
        switch storePlan.outcome(for: result, messageStart: nil) {
        case .stores(let planned):
            stores = planned
        case .invalidFolder(let name, let problem):
            return SieveDryRun(
                scripts: report, stores: keepInInbox, outgoing: [], rejection: nil,
                fallback: "fileinto action: failed to store into mailbox '\(name)': \(problem)")
        }
        var outgoing: [String] = []
        for action in result.actions {
            switch action {
            case .keep, .fileInto, .discard:
                break
            case .redirect(let address, _):
                let from = redirectEnvelope(envelope, user: user, settings: userSettings).from
                outgoing.append("redirect: a copy to <\(address)> (envelope sender <\(from)>)")
            case .reject(let reason, _):
                outgoing.append(
                    sender.isEmpty
                        ? "reject: no rejection (the message has the null sender); nothing stored"
                        : "reject: a rejection to <\(sender)> from \(settings.postmasterAddress ?? "postmaster@\(hostname)") (\(reason))")
            case .vacation(let request):
                let responder = SieveVacationResponder(hostname: hostname, recipientDelimiter: settings.recipientDelimiter)
                switch responder.decide(headerFields: source.headerFields, envelope: envelope, request: request) {
                case .skip(let reason): outgoing.append("vacation: no reply (\(reason))")
                case .respond(let to):
                    let key = SieveVacationResponder.trackingKey(sender: to, request: request)
                    let recent = (try? FilesystemIdentity.withIdentity(identity) { () throws(SieveTrackingError) -> Bool in
                        try tracking?.contains(key: key, now: now) ?? false
                    }.get()) ?? false
                    outgoing.append(recent ? "vacation: no reply (<\(to)> was answered within the period)" : "vacation: a reply to <\(to)>")
                }
            }
        }
        for notification in result.notifications {
            outgoing.append("notify: a \(notification.method) notification to \(notification.recipients.count) recipient(s)")
        }
        return SieveDryRun(scripts: report, stores: stores, outgoing: outgoing, rejection: nil, fallback: nil)
    }
}
