import HomingConfig
import HomingMaildir

/// How copies are written: `mail_fsync`, `mail_temp_scan_interval` (seconds, 0: never: how
/// often `tmp/` is cleaned of files older than 36 hours, ``HomingMaildir/MaildirTmpCleanup``),
/// who is told what a cleanup removed, and whether folders delivery creates are subscribed
/// (`lda_mailbox_autosubscribe`).
struct StoreOptions: Sendable {
    var fsync: HomingSettings.FsyncMode
    var tmpScanInterval: Int = 0
    var reportTmpCleanup: (@Sendable (MaildirTmpCleanupReport) -> Void)? = nil
    var autosubscribe: Bool = false
}

/// Stores one copy of a spooled message into one of a user's mailboxes. Blocking: runs on the
/// thread pool, with the whole store on one thread (the per-thread file system identity).
enum MaildirStore {
    static func store(
        _ spool: SpooledMessage, headerPrefix: [UInt8], user: DeliveryUser, action: StoreAction, options: StoreOptions
    ) throws(StoreFailure) -> StoredMail {
        let directory: MailboxDirectory
        do {
            directory = try user.mailLocation.mailbox(named: action.mailbox)
        } catch {
            // An unusable folder name (from a recipient detail) is treated like a missing folder.
            throw .missingMailbox("\(error)")
        }
        var destination = MaildirDestination(
            mailbox: directory, createIfMissing: action.create, flags: action.flags, fsync: options.fsync,
            identity: user.identity,
            tmpCleanup: options.tmpScanInterval > 0 ? MaildirTmpCleanup(scanInterval: options.tmpScanInterval) : nil)
        destination.keywords = action.keywords
        if options.autosubscribe { destination.subscribeIfCreated = directory.subscription }
        do {
            return try MaildirWriter(reportTmpCleanup: options.reportTmpCleanup)
                .store(spool, headerPrefix: headerPrefix, replacingHeader: action.header, into: destination)
        } catch {
            if case .mailboxDoesNotExist = error { throw .missingMailbox(error.description) }
            if error.isOutOfSpace { throw .diskFull(error.description) }
            throw .failed(error.description)
        }
    }
}
