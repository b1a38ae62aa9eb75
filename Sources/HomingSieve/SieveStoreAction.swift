/// IMAP flags split the way storage needs them: system flags (`\Seen`...) become maildir info
/// letters, keywords (`$Label1`, `Work`) go through Dovecot's `dovecot-keywords` file.
public struct SieveFlagSet: Sendable, Hashable {
    /// The system flags, canonically spelled (`\Seen`, `\Answered`, `\Flagged`, `\Deleted`,
    /// `\Draft`), in the order given.
    public var systemFlags: [String]
    /// The keywords, as the script spelled them (first spelling of each), in the order given.
    public var keywords: [String]

    /// Splits a flag list (as `SieveAction` and `SieveResult` carry them).
    public init(_ flags: [String]) {
        var system: [String] = []
        var keywords: [String] = []
        for flag in SieveFlags.normalize(flags) {
            if flag.hasPrefix("\\") { system.append(flag) } else { keywords.append(flag) }
        }
        self.systemFlags = system
        self.keywords = keywords
    }

    /// All flags, system flags first.
    public var all: [String] { systemFlags + keywords }

    /// The maildir info letters of the system flags, sorted (`\Seen` `\Flagged` → `FS`).
    public var maildirLetters: String {
        var letters: Set<Character> = []
        for flag in systemFlags {
            switch flag {
            case "\\Seen": letters.insert("S")
            case "\\Answered": letters.insert("R")
            case "\\Flagged": letters.insert("F")
            case "\\Deleted": letters.insert("T")
            case "\\Draft": letters.insert("D")
            default: continue
            }
        }
        return String(letters.sorted())
    }
}

/// One copy of the message to store, as `SieveResult.storeActions` plans them.
public struct SieveStoreAction: Sendable, Hashable {
    /// The folder as the script named it (`INBOX` for `keep` and the implicit keep).
    public var mailbox: String
    /// Whether this copy is the keep (explicit or implicit), which delivery may store into the
    /// recipient's default folder (`lmtp_save_to_detail_mailbox`) instead of INBOX.
    public var isKeep: Bool
    /// The flags to store with.
    public var flags: SieveFlagSet
    /// `fileinto :create`: create the folder if it does not exist.
    public var create: Bool
    /// The header to store instead of the received one (`editheader`), `nil` for unchanged.
    public var header: SieveEditedHeader?

    /// Creates a store action.
    public init(mailbox: String, isKeep: Bool, flags: SieveFlagSet, create: Bool, header: SieveEditedHeader?) {
        self.mailbox = mailbox
        self.isKeep = isKeep
        self.flags = flags
        self.create = create
        self.header = header
    }
}

extension SieveResult {
    /// The copies to store, in script order: each `keep` and `fileinto`, then the implicit
    /// keep when it applies, merged by folder (RFC 5228 section 2.10.3: `fileinto "INBOX";
    /// keep;` stores once; INBOX matches in any case): flags united, created if any asked,
    /// the header of the first.
    public func storeActions() -> [SieveStoreAction] {
        var stores: [SieveStoreAction] = []
        var flagLists: [[String]] = []
        func add(_ mailbox: String, keep: Bool, flags: [String], create: Bool, header: SieveEditedHeader?) {
            if let index = stores.firstIndex(where: { SieveResultBuilder.sameMailbox($0.mailbox, mailbox) }) {
                flagLists[index] = SieveFlags.union(flagLists[index], flags)
                stores[index].flags = SieveFlagSet(flagLists[index])
                stores[index].create = stores[index].create || create
                stores[index].isKeep = stores[index].isKeep || keep
                return
            }
            stores.append(
                SieveStoreAction(mailbox: mailbox, isKeep: keep, flags: SieveFlagSet(flags), create: create, header: header))
            flagLists.append(flags)
        }
        for (index, action) in actions.enumerated() {
            switch action {
            case .keep(let flags):
                add("INBOX", keep: true, flags: flags, create: true, header: editedHeaders[index])
            case .fileInto(let mailbox, let flags, let create, _):
                add(mailbox, keep: false, flags: flags, create: create, header: editedHeaders[index])
            default:
                continue
            }
        }
        if implicitKeep {
            add("INBOX", keep: true, flags: implicitKeepFlags, create: true, header: implicitKeepHeader)
        }
        return stores
    }
}
