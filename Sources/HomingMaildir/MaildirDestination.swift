import HomingConfig

/// Where and how ``MaildirWriter`` stores one message.
public struct MaildirDestination: Sendable, Hashable {
    /// The maildir directory of the folder (holding `cur/`, `new/`, `tmp/`), absolute.
    public var directory: String
    /// The boundary of the user's tree, absolute, equal to `directory` or one of its ancestors.
    /// From here downward every component is opened without following symlinks; ancestors above
    /// it belong to the administrator and may be symlinks. Missing directories on the way are
    /// created (mode 0700, as the user).
    public var treeRoot: String
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
    /// IMAP keywords (`$Label1`, `Work`), stored as Dovecot stores them: letters `a`...`z` in
    /// the file name's info, named in the folder's `dovecot-keywords` file. A message with
    /// keywords goes to `cur/`.
    public var keywords: [String] = []
    /// When the store creates the folder, add it to the `subscriptions` file at the tree root
    /// (`lda_mailbox_autosubscribe`); `nil` for no subscription.
    public var subscribeIfCreated: MailboxSubscription?

    public init(
        directory: String,
        treeRoot: String,
        createIfMissing: Bool,
        isInbox: Bool,
        flags: String = "",
        fsync: HomingSettings.FsyncMode = .optimized,
        identity: FilesystemIdentity?
    ) {
        self.directory = directory
        self.treeRoot = treeRoot
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
        identity: FilesystemIdentity?
    ) {
        self.init(
            directory: mailbox.path, treeRoot: mailbox.treeRoot, createIfMissing: createIfMissing,
            isInbox: mailbox.isInbox, flags: flags, fsync: fsync, identity: identity)
    }
}
