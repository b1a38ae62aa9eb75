import HomingConfig
import HomingMaildir

/// Stores one copy of a spooled message into one of a user's mailboxes. Blocking: runs on the
/// thread pool, with the whole store on one thread (the per-thread file system identity).
enum MaildirStore {
    /// - Parameters:
    ///   - tmpScanInterval: `mail_temp_scan_interval` (seconds, 0: never): how often `tmp/` is
    ///     cleaned of files older than 36 hours (``HomingMaildir/MaildirTmpCleanup``).
    ///   - reportTmpCleanup: told what a cleanup removed (for the log).
    static func store(
        _ spool: SpooledMessage, headerPrefix: [UInt8], user: DeliveryUser, mailbox: String, flags: String,
        create: Bool, fsync: HomingSettings.FsyncMode, tmpScanInterval: Int = 0,
        reportTmpCleanup: (@Sendable (MaildirTmpCleanupReport) -> Void)? = nil
    ) throws(StoreFailure) -> StoredMail {
        let directory: MailboxDirectory
        do {
            directory = try user.mailLocation.mailbox(named: mailbox)
        } catch {
            // An unusable folder name (from a recipient detail) is treated like a missing folder.
            throw .missingMailbox("\(error)")
        }
        let destination = MaildirDestination(
            mailbox: directory, createIfMissing: create, flags: flags, fsync: fsync, identity: user.identity,
            tmpCleanup: tmpScanInterval > 0 ? MaildirTmpCleanup(scanInterval: tmpScanInterval) : nil)
        do {
            return try MaildirWriter(reportTmpCleanup: reportTmpCleanup)
                .store(spool, headerPrefix: headerPrefix, into: destination)
        } catch {
            if case .mailboxDoesNotExist = error { throw .missingMailbox(error.description) }
            if error.isOutOfSpace { throw .diskFull(error.description) }
            throw .failed(error.description)
        }
    }
}
