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

    /// Sends what the result sends (redirects, rejections, vacation replies, notifications) and
    /// returns the copies to store: `stores`, and INBOX when a redirect or rejection that was to
    /// replace the keep could not be sent.
    func carryOut(
        _ result: SieveResult, stores: [StoreAction], user: DeliveryUser, message: DeliveryMessage,
        source: SieveMessage, envelope: SieveEnvelope, messageStart: [UInt8]?, tracking: SieveTrackingStore?,
        settings userSettings: SieveUserSettings, now: Date, log: Logger, msgid: String
    ) -> (stores: [StoreAction], marks: [SieveDuplicateMark]) {
        var stores = stores
        var keepAnyway = false
        var marks = result.duplicateMarks

        /// Submits `mail`; a redirected copy (`appendOriginal`) carries `header` when the
        /// script edited it.
        func send(_ mail: SieveOutgoingMail, header: HeaderReplacement? = nil) -> SubmissionError? {
            let outgoing =
                mail.appendOriginal
                ? RedirectedCopy.make(
                    mail, message: message, source: source, editedHeader: header, hostname: hostname, now: now)
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

        for (index, action) in result.actions.enumerated() {
            switch action {
            case .keep:
                continue
            case .fileInto(let mailbox, _, _, _):
                log.info("sieve: msgid=\(msgid): fileinto action: storing mail into mailbox '\(mailbox)'")
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
                    let header = result.editedHeaders[index].flatMap { edited in
                        messageStart.map { SieveStorePlan.replacement(edited, messageStart: $0) }
                    }
                    if let error = send(mail, header: header) {
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
        for notification in result.notifications {
            switch notification.delivery {
            case .skip(let reason):
                log.info("sieve: msgid=\(msgid): notify action: \(reason)")
            case .send(let mail):
                let targets = Self.notificationTargets(mail.recipients)
                if let error = send(mail) {
                    log.error("sieve: msgid=\(msgid): notify action: failed to send mail notification to \(targets): \(error)")
                } else {
                    log.info("sieve: msgid=\(msgid): notify action: sent mail notification to \(targets)")
                }
            }
        }
        if keepAnyway, !stores.contains(where: { $0.mailbox.uppercased() == "INBOX" }) {
            let flags = SieveFlagSet(result.implicitKeepFlags)
            var keep = StoreAction(mailbox: "INBOX", flags: flags.maildirLetters, create: true, keywords: flags.keywords)
            if let edited = result.implicitKeepHeader, let messageStart {
                keep.header = SieveStorePlan.replacement(edited, messageStart: messageStart)
            }
            stores.append(keep)
        }
        if stores.isEmpty {
            log.info("sieve: msgid=\(msgid): discarded by the script: nothing stored")
        }
        return (stores, marks)
    }

    /// Pigeonhole's list of notification recipients for its log lines: `<a>, <b>, <c>`, then
    /// `, ... (N total)` past three.
    static func notificationTargets(_ recipients: [String]) -> String {
        var text = recipients.prefix(3).map { "<\($0)>" }.joined(separator: ", ")
        if recipients.count > 3 { text += ", ... (\(recipients.count) total)" }
        return text
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
}
