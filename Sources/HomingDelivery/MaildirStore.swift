import HomingConfig
import HomingMaildir

/// Why one copy could not be stored, as the delivery layer needs to know it.
public struct MaildirStoreFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// The folder does not exist (and was not to be created): fall back to INBOX.
    public var isMissingMailbox: Bool
    /// The disk or the file system quota is full.
    public var isDiskFull: Bool

    public init(description: String, isMissingMailbox: Bool, isDiskFull: Bool) {
        self.description = description
        self.isMissingMailbox = isMissingMailbox
        self.isDiskFull = isDiskFull
    }
}

/// Stores one copy of a spooled message into one of a user's mailboxes. Blocking: runs on the
/// thread pool, with the whole store on one thread (the per-thread file system identity).
enum MaildirStore {
    static func store(
        _ spool: SpooledMessage, headerPrefix: [UInt8], user: DeliveryUser, mailbox: String, flags: String,
        create: Bool, fsync: HomingSettings.FsyncMode
    ) throws(MaildirStoreFailure) -> StoredMail {
        let directory: MailboxDirectory
        do {
            directory = try user.mailLocation.mailbox(named: mailbox)
        } catch {
            // An unusable folder name (from a recipient detail) is treated like a missing folder.
            throw MaildirStoreFailure(description: "\(error)", isMissingMailbox: true, isDiskFull: false)
        }
        let destination = MaildirDestination(
            mailbox: directory, createIfMissing: create, flags: flags, fsync: fsync, identity: user.identity)
        do {
            return try MaildirWriter().store(spool, headerPrefix: headerPrefix, into: destination)
        } catch {
            var isMissing = false
            if case .mailboxDoesNotExist = error { isMissing = true }
            throw MaildirStoreFailure(description: error.description, isMissingMailbox: isMissing, isDiskFull: error.isOutOfSpace)
        }
    }
}
