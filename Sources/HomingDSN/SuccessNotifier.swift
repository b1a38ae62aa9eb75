import Foundation
import HomingDelivery
import HomingSubmission
import Logging
import NIOPosix

/// Sends the "delivered" notification (``SuccessReport``) for each recipient that asked
/// `NOTIFY=SUCCESS`, to the envelope sender, with the null envelope sender, as the recipient's
/// user. A message from the null sender gets none (nobody to tell, and RFC 3461 forbids a
/// notification about a notification). A notification that cannot be sent is logged; the
/// delivery stands.
public struct SuccessNotifier: DeliveryNotifier {
    private let hostname: String
    private let fromAddress: String
    private let submitter: NotificationSubmitter
    private let threadPool: NIOThreadPool
    private let logger: Logger

    /// - Parameters:
    ///   - fromAddress: the report's From (`postmaster_address`).
    ///   - threadPool: where the header is read and the report handed to sendmail or SMTP.
    public init(
        hostname: String, fromAddress: String, submitter: NotificationSubmitter, threadPool: NIOThreadPool,
        logger: Logger
    ) {
        self.hostname = hostname
        self.fromAddress = fromAddress
        self.submitter = submitter
        self.threadPool = threadPool
        self.logger = logger
    }

    public func delivered(
        _ message: DeliveryMessage, to recipient: EnvelopeRecipient, user: DeliveryUser, mailboxes: [String]
    ) async {
        var log = logger
        log[metadataKey: "user"] = "\(user.user)"
        log[metadataKey: "session"] = "\(recipient.logID)"
        let sender = message.envelope.sender
        guard !sender.isEmpty else {
            log.info("dsn: not sending a delivery notification for a message with the null sender")
            return
        }
        let arrival = Date()
        let report = SuccessReport(
            hostname: hostname, fromAddress: fromAddress, sender: sender, envelopeID: message.envelope.envelopeID,
            arrivalDate: arrival,
            recipients: [
                .init(
                    originalAddress: recipient.originalAddress, originalAddressType: recipient.originalAddressType,
                    finalAddress: recipient.address, detail: "delivered to mailbox")
            ],
            originalHeader: [])
        let spool = message.spool
        let outgoing = submitter.submitter(for: user)
        do {
            try await threadPool.runIfActive {
                var filled = report
                filled.originalHeader = MessageHeaderBlock.read(from: spool)
                try outgoing.submit(OutgoingMessage(prefix: filled.compose(now: arrival)), from: "", to: [sender])
            }
            log.info("dsn: sent the delivery notification (NOTIFY=SUCCESS) to <\(sender)>")
        } catch {
            log.error("dsn: failed to send the delivery notification (NOTIFY=SUCCESS) to <\(sender)>: \(error)")
        }
    }
}
