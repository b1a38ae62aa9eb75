import Foundation
import Glibc
import HomingConfig
import HomingDSN
import HomingDelivery
import HomingSubmission
import HomingUserdb
import Logging
import NIOPosix

/// What `homing deliver` ends with: the exit status and the lines for standard error.
public struct LDAResult: Sendable, Equatable {
    public var status: Int32
    public var standardError: [String]

    public init(status: Int32, standardError: [String] = []) {
        self.status = status
        self.standardError = standardError
    }
}

/// `homing deliver`, dovecot-lda's front end over the delivery core (as ``LMTPLocalBackend`` is
/// LMTP's): one message from standard input (or `-p`) for one user, the same userdb, quota,
/// Sieve and storage as LMTP, and dovecot-lda's exit statuses (``LDAExitStatus``).
///
/// - With `-d USER` the user is looked up in the userdb (`auth_username_format` applied, no
///   detail split: Postfix passes the detail with `-m ${extension}`); without it, the invoking
///   Unix user (`USER` and `HOME`, else the passwd entry of the effective uid) without a lookup,
///   as dovecot-lda does. Started as root, files are written as the user (the core's
///   ``FilesystemIdentity``); started as a user, as that user, who must be the one delivered to.
/// - Like dovecot-lda, no trace header is added (Postfix's `local` and `pipe` add
///   `Delivered-To` and `Return-Path` themselves).
/// - The envelope recipient is `-r`, else `-a`, else the user (`@hostname` added to a bare
///   name); the original recipient (Sieve's `orig_to`, `%{to_envelope}`) is `-a`, else the
///   same. The sender is `-f`, else a first `From ` line's, else `MAILER-DAEMON`.
public struct LocalDeliveryAgent: Sendable {
    private let delivery: LocalDelivery
    private let threadPool: NIOThreadPool
    private let submitter: NotificationSubmitter
    private let logger: Logger
    private let processUID: UInt32
    private let environment: [String: String]

    /// dovecot-lda's envelope sender when neither `-f` nor a `From ` line gives one.
    public static let defaultSender = "MAILER-DAEMON"

    public init(
        delivery: LocalDelivery, threadPool: NIOThreadPool, submitter: NotificationSubmitter, logger: Logger,
        processUID: UInt32 = geteuid(), environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.delivery = delivery
        self.threadPool = threadPool
        self.submitter = submitter
        self.logger = logger
        self.processUID = processUID
        self.environment = environment
    }

    private var settings: HomingSettings { delivery.settings }

    /// Delivers the message read from `input` (standard input) or `line.inputPath`.
    public func run(_ line: LDACommandLine, input: Int32 = STDIN_FILENO) async -> LDAResult {
        let sessionID = Self.sessionID()
        var log = logger
        log[metadataKey: "session"] = "\(sessionID)"
        let user: DeliveryUser
        switch await resolveUser(line, log: &log) {
        case .user(let found): user = found
        case .end(let result): return result
        }
        if let broken = line.brokenSender {
            log.debug("Broken -f parameter: \(broken) (proceeding with <> as sender)")
        }

        var envelope = DeliveryEnvelope(
            sessionID: sessionID, sender: line.sender ?? Self.defaultSender, receivedProtocol: "LDA",
            addsTraceHeaders: false)
        let spool: MessageSpool
        do {
            spool = try await delivery.makeSpool(for: envelope)
        } catch {
            return LDAResult(status: LDAExitStatus.temporaryFailure)
        }
        let read: LDAMessageInput
        do {
            read = try await readMessage(line, into: spool)
        } catch {
            log.error("\(error)")
            await spool.discard()
            return LDAResult(status: LDAExitStatus.temporaryFailure)
        }
        if line.sender == nil, let sender = read.fromLineSender { envelope.sender = sender }

        let final = line.finalRecipient ?? line.originalRecipient ?? recipientAddress(for: user.user)
        let recipient = EnvelopeRecipient(
            address: final, originalAddress: line.originalRecipient ?? final, logID: sessionID)
        let outcomes = await delivery.deliver(
            spool, to: [AcceptedRecipient(recipient: recipient, user: user)], envelope: envelope)
        let outcome = outcomes.first.map(LDAExitStatus.outcome(for:)) ?? .deferred(reason: "Temporary internal error")
        let action = LDAExitStatus.action(for: outcome, rejectionsToStandardError: line.rejectionsToStandardError)
        var result = LDAResult(status: action.status, standardError: action.standardError.map { [$0] } ?? [])
        guard case .refused(let reason, let mailboxFull) = outcome else { return result }
        let messageID = MessageHeaderBlock.firstField("Message-ID", in: read.header) ?? ""
        log.info("msgid=\(messageID.isEmpty ? "unspecified" : messageID): rejected: \(reason)")
        if action.sendsRejection {
            result.status = await sendRejection(
                reason: reason, mailboxFull: mailboxFull, sender: envelope.sender, recipient: final, user: user,
                header: read.header, messageID: messageID, log: log)
        }
        return result
    }

    // MARK: - Pieces

    /// The user to deliver to, or the result to end with.
    private enum UserResolution {
        case user(DeliveryUser)
        case end(LDAResult)
    }

    private func resolveUser(_ line: LDACommandLine, log: inout Logger) async -> UserResolution {
        let record: UserRecord
        if let name = line.destinationUser {
            log[metadataKey: "user"] = "\(name)"
            do throws(RecipientResolver.Failure) {
                record = try await delivery.resolver.lookup(name, service: "lda")
            } catch {
                switch error {
                case .notFound(let lookedUp), .invalidAddress(let lookedUp, _):
                    log.info("userdb lookup: user \(lookedUp) doesn't exist")
                    return .end(LDAResult(status: LDAExitStatus.noUser))
                case .userdbUnavailable(let reason), .unusable(let reason), .notPermitted(let reason):
                    log.error("userdb lookup(\(name)) failed: \(reason)")
                    return .end(LDAResult(status: LDAExitStatus.temporaryFailure))
                }
            }
        } else {
            guard processUID != 0 else {
                return .end(
                    LDAResult(status: LDAExitStatus.usage, standardError: ["destination user parameter (-d user) not given"]))
            }
            guard let own = invokingUser() else {
                return .end(
                    LDAResult(
                        status: LDAExitStatus.usage, standardError: ["Couldn't lookup our username (uid=\(processUID))"]))
            }
            record = own
            log[metadataKey: "user"] = "\(own.user)"
            log.debug("userdb lookup skipped, username taken from the environment or the passwd entry of uid \(processUID)")
        }
        var user: DeliveryUser
        do throws(RecipientResolver.Failure) {
            user = try delivery.resolver.prepare(record, detail: nil, service: "lda")
        } catch {
            log.error("\(error.temporaryReason ?? "user \(record.user) cannot be delivered to")")
            return .end(LDAResult(status: LDAExitStatus.temporaryFailure))
        }
        log[metadataKey: "user"] = "\(user.user)"
        if let mailbox = line.mailbox { user.mailbox = mailbox }
        return .user(user)
    }

    /// The invoking user as dovecot-lda finds them: `USER` and `HOME` from the environment when
    /// both are set, else the passwd entry of the effective uid.
    private func invokingUser() -> UserRecord? {
        if let name = environment["USER"], !name.isEmpty, let home = environment["HOME"], !home.isEmpty {
            return UserRecord(user: name, fields: [UserdbField("home", home)])
        }
        guard let entry = getpwuid(processUID), let namePointer = entry.pointee.pw_name else { return nil }
        let name = String(cString: namePointer)
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? entry.pointee.pw_dir.map { String(cString: $0) } ?? ""
        return UserRecord(user: name, fields: home.isEmpty ? [] : [UserdbField("home", home)])
    }

    /// `user@hostname` for a bare user name, as dovecot-lda makes the recipient.
    private func recipientAddress(for user: String) -> String {
        user.contains("@") ? user : "\(user)@\(delivery.hostname)"
    }

    private func readMessage(_ line: LDACommandLine, into spool: MessageSpool) async throws -> LDAMessageInput {
        guard let path = line.inputPath else {
            return try await LDAMessageInput.read(from: STDIN_FILENO, into: spool, threadPool: threadPool)
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SystemCallError("open the message file", path: path) }
        defer { close(descriptor) }
        return try await LDAMessageInput.read(from: descriptor, into: spool, threadPool: threadPool)
    }

    /// Sends dovecot-lda's rejection report to the sender; returns the exit status: 0 when
    /// sent or not to be sent (null sender, an automatic message), 75 when sending failed for
    /// now.
    private func sendRejection(
        reason: String, mailboxFull: Bool, sender: String, recipient: String, user: DeliveryUser, header: [UInt8],
        messageID: String, log: Logger
    ) async -> Int32 {
        let report = RejectionReport(
            hostname: delivery.hostname,
            postmasterAddress: settings.postmasterAddress ?? "postmaster@\(delivery.hostname)", sender: sender,
            recipient: recipient, reason: reason, mailboxFull: mailboxFull, originalHeader: header)
        let shownID = messageID.isEmpty ? "" : messageID
        if let skip = report.skipReason {
            log.info("msgid=\(shownID): \(skip), rejection reason: \(reason)")
            return LDAExitStatus.ok
        }
        let outgoing = submitter.submitter(for: user)
        do {
            try await threadPool.runIfActive {
                try outgoing.submit(OutgoingMessage(prefix: report.compose(now: Date())), from: "", to: [sender])
            }
            return LDAExitStatus.ok
        } catch let error as SubmissionError where !error.isTemporary {
            log.info("msgid=\(shownID): Permanently failed to send rejection: \(error)")
            return LDAExitStatus.ok
        } catch {
            log.error("msgid=\(shownID): Temporarily failed to send rejection: \(error)")
            return LDAExitStatus.temporaryFailure
        }
    }

    /// 22 characters of base64 of 16 random bytes, as Dovecot's session ids.
    static func sessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        for _ in 0..<2 {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        var text = Data(bytes).base64EncodedString()
        while text.last == "=" { text.removeLast() }
        return text
    }
}
