import HomingConfig

/// Where and how ``MaildirWriter`` stores one message.
public struct MaildirDestination: Sendable, Hashable {
    /// The maildir directory of the folder (holding `cur/`, `new/`, `tmp/`), absolute.
    public var directory: String
    /// Where the administrator's part of the path ends (see `HomingFileSystem.TreePath`):
    /// absolute, equal to `directory` or one of its ancestors. It and the way to it may be
    /// symlinks; every level below it is opened without following one. Missing directories on
    /// the way are created (mode 0700, as the user).
    public var trustedBase: String
    /// Create the folder when it does not exist. INBOX is always created.
    public var createIfMissing: Bool
    /// True for INBOX; other folders get an empty `maildirfolder` file when created.
    public var isInbox: Bool
    /// Maildir info flags (`"S"`, `"FS"`); when non-empty the file goes to `cur/` with `:2,<flags>`.
    public var flags: String
    /// `mail_fsync`: `never` skips fsync of the file and directories.
    public var fsync: HomingSettings.FsyncMode
    /// Whom to act as on the filesystem, or nil for the process itself.
    public var identity: FilesystemIdentity?
    /// Removing old files from `tmp/` as Dovecot does, or nil for none.
    public var tmpCleanup: MaildirTmpCleanup?
    /// IMAP keywords (`$Label1`, `Work`), stored as Dovecot stores them: letters `a`...`z` in
    /// the file name's info, named in the folder's `dovecot-keywords` file. A message with
    /// keywords goes to `cur/`.
    public var keywords: [String] = []
    /// When the store creates the folder, add it to the `subscriptions` file at the mail root
    /// (`lda_mailbox_autosubscribe`); `nil` for no subscription.
    public var subscribeIfCreated: MailboxSubscription?

    public init(
        directory: String,
        trustedBase: String,
        createIfMissing: Bool,
        isInbox: Bool,
        flags: String = "",
        fsync: HomingSettings.FsyncMode = .optimized,
        identity: FilesystemIdentity?,
        tmpCleanup: MaildirTmpCleanup? = nil
    ) {
        self.directory = directory
        self.trustedBase = trustedBase
        self.tmpCleanup = tmpCleanup
        self.createIfMissing = createIfMissing
        self.isInbox = isInbox
        self.flags = flags
        self.fsync = fsync
        self.identity = identity
    }

    /// A destination for a mailbox mapped by ``MailLocation/mailbox(named:)``.
    public init(
        mailbox: MailboxDirectory,
        createIfMissing: Bool,
        flags: String = "",
        fsync: HomingSettings.FsyncMode = .optimized,
        identity: FilesystemIdentity?,
        tmpCleanup: MaildirTmpCleanup? = nil
    ) {
        self.init(
            directory: mailbox.path, trustedBase: mailbox.trustedBase, createIfMissing: createIfMissing,
            isInbox: mailbox.isInbox, flags: flags, fsync: fsync, identity: identity, tmpCleanup: tmpCleanup)
    }
}
