import HomingFileSystem

/// Adds a folder to the `subscriptions` file at the root of a user's mail tree, as Dovecot's
/// `lda_mailbox_autosubscribe` does for a folder delivery creates: under `subscriptions.lock`
/// (created with `O_EXCL`, overridden after 30 s without change), the current file is read,
/// the folder appended, and the lock renamed over the file.
enum MaildirSubscriptionsFile {
    static let fileName = "subscriptions"
    /// A list larger than this is not a subscriptions file Homing edits.
    static let sizeLimit = 4 << 20

    /// Subscribes `subscription` in the mail root open at `root`.
    /// - Parameter fsync: sync the new file and the directory.
    static func subscribe(
        _ subscription: MailboxSubscription, inRoot root: borrowing TreeDirectory, fsync: Bool,
        timing: MaildirDotLock.Timing = .subscriptions
    ) throws(MaildirError) {
        let lock = try MaildirDotLock.create(for: fileName, in: root, timing: timing, writePID: false)
        let existing: [UInt8]?
        do {
            existing = try MaildirControlFile.read(fileName, in: root, limit: sizeLimit)
        } catch {
            MaildirDotLock.remove(for: fileName, in: root)
            throw error
        }
        var list = existing.map { MaildirSubscriptionList(parsing: $0) } ?? MaildirSubscriptionList()
        guard list.subscribe(subscription) else {
            MaildirDotLock.remove(for: fileName, in: root)
            return
        }
        try MaildirControlFile.commit(
            list.contents, lock: lock, for: fileName, in: root, fsync: fsync,
            newerThan: MaildirControlFile.modificationTime(fileName, in: root))
    }
}
