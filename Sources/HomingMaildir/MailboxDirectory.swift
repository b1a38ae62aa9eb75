import HomingFileSystem

/// Where one mailbox (folder) of a user lives on disk, from ``MailLocation/mailbox(named:)``.
public struct MailboxDirectory: Sendable, Hashable {
    /// The mailbox name as asked for (`INBOX`, `lists`, `Archiv/2024`).
    public var name: String
    /// The maildir directory (holding `cur/`, `new/`, `tmp/`).
    public var path: String
    /// Where the administrator's part of the path ends (``MailLocation/trustedBase(for:)``):
    /// the home when the maildir is inside it, else the parent of the mail root (or of the
    /// `INBOX=` path for INBOX). Below it no symlink is followed.
    public var trustedBase: String
    /// True for INBOX (always created when missing; never gets a `maildirfolder` file).
    public var isInbox: Bool
    /// How the `subscriptions` file at the mail root names the folder (`nil` for INBOX).
    public var subscription: MailboxSubscription?

    public init(
        name: String, path: String, trustedBase: String, isInbox: Bool, subscription: MailboxSubscription? = nil
    ) {
        self.name = name
        self.path = path
        self.trustedBase = trustedBase
        self.isInbox = isInbox
        self.subscription = subscription
    }
}

extension MailboxDirectory {
    /// The directory split at its trusted base, for `HomingFileSystem.TreeDirectory.open`.
    public var treePath: TreePath {
        let baseParts = TreePath.components(ofAbsolute: trustedBase) ?? []
        let parts = TreePath.components(ofAbsolute: path) ?? []
        guard parts.starts(with: baseParts) else { return TreePath(base: path) }
        return TreePath(base: trustedBase, components: Array(parts.dropFirst(baseParts.count)))
    }
}

extension MailLocation {
    /// Where the administrator's part of `path` (the mail root, the `INBOX=` path, a file
    /// below them) ends, by the rule of `HomingFileSystem.TreePath`: the home when `path` is
    /// inside it (or is it), else the parent directory of `path`.
    public func trustedBase(for path: String) -> String {
        (try? TreePath(path, home: home))?.base ?? path
    }

    /// `path` split at its trusted base (see ``trustedBase(for:)``).
    public func treePath(of path: String) throws(FileAccessError) -> TreePath {
        try TreePath(path, home: home)
    }

    /// The maildir directory of mailbox `name`: INBOX (any case) is the root (or `INBOX=`),
    /// Maildir++ `a/b` or `a.b` is `<root>/.a.b`, `LAYOUT=fs` `a/b` is `<root>/a/b`.
    public func directory(forMailbox name: String) throws(MailLocationError) -> String {
        try mailbox(named: name).path
    }

    /// Maps an untrusted mailbox name (from a recipient detail or a Sieve script) to its directory.
    ///
    /// Non-ASCII names are stored in modified UTF-7 (unless the `UTF-8` option is set). Refused:
    /// empty names or levels, `.`/`..` levels, names starting with `~`, control characters, and,
    /// with `LAYOUT=fs`, levels named `cur`, `new`, `tmp` or the `DIRNAME`.
    public func mailbox(named name: String) throws(MailLocationError) -> MailboxDirectory {
        func refuse(_ reason: String) -> MailLocationError { .invalidMailboxName(name: name, reason: reason) }
        if name.isEmpty { throw refuse("the name is empty") }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw refuse("it contains a control character")
        }
        if name.uppercased() == "INBOX" && name.allSatisfy(\.isASCII) {
            let inbox = inboxPath ?? root
            return MailboxDirectory(name: name, path: inbox, trustedBase: trustedBase(for: inbox), isInbox: true)
        }
        if name.hasPrefix("~") { throw refuse("it starts with ~") }
        let separators: Set<Character> = layout == .fs ? ["/"] : ["/", "."]
        let levels = name.split(omittingEmptySubsequences: false, whereSeparator: { separators.contains($0) })
        if levels.contains(where: \.isEmpty) {
            throw refuse("it has an empty hierarchy level (a leading, trailing or doubled separator)")
        }
        if levels.contains(where: { $0 == "." || $0 == ".." }) {
            throw refuse("it has a . or .. level")
        }
        let encoded = levels.map { utf8 ? String($0) : ModifiedUTF7.encode(String($0)) }
        switch layout {
        case .maildirPlusPlus:
            let directory = "." + encoded.joined(separator: ".")
            if directory.utf8.count > 255 { throw refuse("it is longer than a directory name may be") }
            return MailboxDirectory(
                name: name, path: root + "/" + directory, trustedBase: trustedBase(for: root), isInbox: false,
                subscription: MailboxSubscription(levels: encoded, separator: ".", root: root))
        case .fs:
            for level in encoded {
                if level.utf8.count > 255 { throw refuse("a level is longer than a directory name may be") }
                if ["cur", "new", "tmp"].contains(level) || level == directoryName {
                    throw refuse("the level \"\(level)\" would clash with a maildir directory")
                }
            }
            var path = root
            if let mailboxDirectoryName { path += "/" + mailboxDirectoryName }
            path += "/" + encoded.joined(separator: "/")
            if let directoryName { path += "/" + directoryName }
            return MailboxDirectory(
                name: name, path: path, trustedBase: trustedBase(for: root), isInbox: false,
                subscription: MailboxSubscription(levels: encoded, separator: "/", root: root))
        }
    }
}
