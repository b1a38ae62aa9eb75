import Foundation
import HomingDelivery
import HomingMaildir
import HomingSieve
import HomingSubmission
import Logging

/// Carrying out a script's result: the copies to store, the mail to send, the refusal.
extension SievePlugin {
    /// `ereject` during a protocol transaction rejects at protocol level (RFC 5429 section 2.2):
    /// the recipient is refused with the reason, on one line of printable ASCII (LMTP answers
    /// `550 5.7.1 <rcpt> <reason>`).
    static func protocolRejection(_ result: SieveResult) -> DeliveryPlan.Rejection? {
        for action in result.actions {
            guard case .reject(let reason, true) = action else { continue }
            var text = ""
            for scalar in reason.unicodeScalars {
                if scalar == "\n" || scalar == "\r" || scalar == "\t" {
                    if !text.hasSuffix(" ") { text += " " }
                } else if scalar.value >= 0x20 && scalar.value < 0x7F {
                    text.unicodeScalars.append(scalar)
                } else {
                    text += "?"
                }
            }
            text = String(text.trimmingPrefix(" "))
            while text.hasSuffix(" ") { text.removeLast() }
            if text.count > 400 { text = String(text.prefix(400)) + "..." }
            if text.isEmpty { text = "Message rejected" }
            return DeliveryPlan.Rejection(failure: .refused(.rejected(reason: text)), reason: "ereject: \(text)")
        }
        return nil
    }

    /// Turns the result into the copies to store; sends what is to be sent.
    func carryOut(
        _ result: SieveResult, default defaultActions: [StoreAction], user: DeliveryUser, message: DeliveryMessage,
        source: SieveMessage, envelope: SieveEnvelope, tracking: SieveTrackingStore?, settings userSettings: SieveUserSettings,
        now: Date, log: Logger, msgid: String
    ) -> (stores: [StoreAction], marks: [SieveDuplicateMark]) {
        let defaultMailbox = defaultActions.first?.mailbox ?? user.mailbox
        let autocreate = settings.ldaMailboxAutocreate
        var stores: [StoreAction] = []
        var keepAnyway = false
        var marks = result.duplicateMarks

        func send(_ mail: SieveOutgoingMail) -> SubmissionError? {
            let outgoing =
                mail.appendOriginal
                ? RedirectedCopy.make(mail, message: message, source: source, hostname: hostname, now: now)
                : OutgoingMessage(prefix: mail.content)
            do {
                try submitter(for: user).submit(outgoing, from: mail.sender, to: mail.recipients)
                return nil
            } catch {
                return error
            }
        }
        func tracked(_ key: String) -> Bool {
            guard let tracking else { return false }
            return (try? asUser(user) { () throws(SieveTrackingError) in try tracking.contains(key: key, now: now) }) ?? false
        }

        for action in result.actions {
            switch action {
            case .keep(let flags):
                stores.append(StoreAction(mailbox: defaultMailbox, flags: Self.maildirFlags(flags), create: true))
            case .fileInto(let mailbox, let flags, let create, _):
                log.info("sieve: msgid=\(msgid): fileinto action: storing mail into mailbox '\(mailbox)'")
                stores.append(StoreAction(mailbox: mailbox, flags: Self.maildirFlags(flags), create: create || autocreate))
            case .discard:
                log.info("sieve: msgid=\(msgid): marked message to be discarded if not explicitly delivered (discard action)")
            case .redirect(let address, _):
                // The composer keeps the envelope sender it is given: sieve_redirect_envelope_from's.
                let redirector = SieveRedirectComposer()
                switch redirector.prepare(
                    headerFields: source.headerFields,
                    envelope: redirectEnvelope(envelope, user: user, settings: userSettings), target: address)
                {
                case .loop(let target):
                    log.warning("sieve: msgid=\(msgid): redirect action: not forwarding to <\(target)>: the message was already forwarded by this user (loop); keeping it")
                    keepAnyway = true
                case .send(let mail, let key):
                    if let key, tracked(key) {
                        log.info("sieve: msgid=\(msgid): redirect action: discarded duplicate forward to <\(address)>")
                        continue
                    }
                    if let error = send(mail) {
                        log.error("sieve: msgid=\(msgid): redirect action: failed to forward to <\(address)>: \(error); keeping the message")
                        keepAnyway = true
                    } else {
                        log.info("sieve: msgid=\(msgid): redirect action: forwarded to <\(address)>")
                        if let key { marks.append(SieveDuplicateMark(key: key, period: redirector.duplicatePeriod)) }
                    }
                }
            case .reject(let reason, let extended):
                let kind = extended ? "ereject" : "reject"
                let composer = SieveRejectComposer(
                    postmasterAddress: settings.postmasterAddress ?? "postmaster@\(hostname)", hostname: hostname)
                switch composer.compose(reason: reason, headerFields: source.headerFields, envelope: envelope, now: now) {
                case .skipNullSender:
                    log.info("sieve: msgid=\(msgid): \(kind) action: not sending a rejection for a message with the null sender (\(kind))")
                case .send(let mail):
                    if let error = send(mail) {
                        log.error("sieve: msgid=\(msgid): \(kind) action: failed to send the rejection to <\(envelope.from)>: \(error); keeping the message")
                        keepAnyway = true
                    } else {
                        log.info("sieve: msgid=\(msgid): \(kind) action: rejected message from <\(envelope.from)> (\(kind))")
                    }
                }
            case .vacation(let request):
                let responder = SieveVacationResponder(hostname: hostname, recipientDelimiter: settings.recipientDelimiter)
                switch responder.decide(headerFields: source.headerFields, envelope: envelope, request: request) {
                case .skip(let reason):
                    log.info("sieve: msgid=\(msgid): vacation action: \(reason)")
                case .respond(let sender):
                    let key = SieveVacationResponder.trackingKey(sender: sender, request: request)
                    if tracked(key) {
                        log.info("sieve: msgid=\(msgid): vacation action: discarded duplicate vacation response to <\(sender)>")
                        continue
                    }
                    var mail = responder.reply(
                        to: sender, headerFields: source.headerFields, envelope: envelope, request: request, now: now)
                    if userSettings.vacationSendFromRecipient { mail.sender = envelope.to }
                    if let error = send(mail) {
                        log.error("sieve: msgid=\(msgid): vacation action: failed to send the vacation response to <\(sender)>: \(error)")
                    } else {
                        log.info("sieve: msgid=\(msgid): vacation action: sent vacation response to <\(sender)>")
                        marks.append(SieveDuplicateMark(key: key, period: request.period))
                    }
                }
            }
        }
        if result.implicitKeep || keepAnyway {
            let keep = StoreAction(
                mailbox: keepAnyway ? "INBOX" : defaultMailbox, flags: Self.maildirFlags(result.implicitKeepFlags),
                create: true)
            stores.append(keep)
        }
        stores = Self.mergedByMailbox(stores)
        if stores.isEmpty {
            log.info("sieve: msgid=\(msgid): discarded by the script: nothing stored")
        }
        return (stores, marks)
    }

    /// The submitter for `user`'s mail: sendmail runs as the user (as Dovecot runs it), never
    /// as root; SMTP submission needs no privileges either way.
    func submitter(for user: DeliveryUser) -> any MailSubmitter {
        guard let sendmail = submitter as? SendmailSubmitter, let identity = user.identity else { return submitter }
        return sendmail.running(asUID: identity.uid, gid: identity.gid)
    }

    /// The envelope a redirected copy is sent with (`sieve_redirect_envelope_from`).
    func redirectEnvelope(_ envelope: SieveEnvelope, user: DeliveryUser, settings userSettings: SieveUserSettings) -> SieveEnvelope {
        var result = envelope
        switch userSettings.redirectEnvelopeFrom {
        case "sender": break
        case "recipient": result.from = envelope.to
        case "orig_recipient": result.from = envelope.originalRecipient ?? envelope.to
        case "user_email": result.from = user.user.contains("@") ? user.user : envelope.to
        case let address: result.from = String(address.dropFirst().dropLast())
        }
        return result
    }

    /// One copy per mailbox: `fileinto "INBOX"` and `keep` (or the implicit keep) store once,
    /// with the flags of both and created if either may create. INBOX matches in any case.
    static func mergedByMailbox(_ stores: [StoreAction]) -> [StoreAction] {
        var result: [StoreAction] = []
        for store in stores {
            let key = store.mailbox.uppercased() == "INBOX" ? "INBOX" : store.mailbox
            if let index = result.firstIndex(where: { ($0.mailbox.uppercased() == "INBOX" ? "INBOX" : $0.mailbox) == key }) {
                let letters = Set(result[index].flags).union(store.flags)
                result[index].flags = String(letters.sorted())
                result[index].create = result[index].create || store.create
            } else {
                result.append(store)
            }
        }
        return result
    }

    /// IMAP system flags as maildir info letters (`\Seen` → `S`...), sorted; keywords have no
    /// maildir letter without Dovecot's keyword file and are left out.
    static func maildirFlags(_ flags: [String]) -> String {
        var letters: Set<Character> = []
        for flag in flags {
            switch flag.lowercased() {
            case "\\seen": letters.insert("S")
            case "\\answered": letters.insert("R")
            case "\\flagged": letters.insert("F")
            case "\\deleted": letters.insert("T")
            case "\\draft": letters.insert("D")
            default: continue
            }
        }
        return String(letters.sorted())
    }
}
