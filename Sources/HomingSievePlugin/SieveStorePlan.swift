import HomingDelivery
import HomingMaildir
import HomingSieve

/// Turns a script's store actions (`keep`, `fileinto`, the implicit keep) into the copies
/// delivery writes: the folder (the keep goes to the recipient's default folder), the flags
/// as maildir letters, the keywords, and the header as `editheader` left it.
///
/// Folder names follow the namespace separator (Dovecot's rules, `SieveMailboxName`): a name
/// that is not valid makes the whole result fail, as in Pigeonhole, and the message is kept
/// in INBOX as received.
struct SieveStorePlan {
    /// What the result stores.
    enum Outcome: Equatable {
        /// The copies, in script order.
        case stores([StoreAction])
        /// A `fileinto` names a folder that cannot exist: Dovecot's reason.
        case invalidFolder(name: String, problem: String)
    }

    /// Where the keep goes (`lmtp_save_to_detail_mailbox` may make it the detail folder).
    var defaultMailbox: String
    /// `lda_mailbox_autocreate`: every `fileinto` may create its folder.
    var autocreate: Bool
    /// The hierarchy separator of mailbox names (the inbox namespace's `separator`, else the
    /// storage's: `.` for Maildir++, `/` for `LAYOUT=fs`).
    var separator: Character
    /// The mail location's layout (`.` is an ordinary character in `LAYOUT=fs` names).
    var layout: MailLocation.Layout

    /// The copies `result` stores. `messageStart` is the spool's header (at least up to the
    /// body); `nil` when the header could not be read, and the copies are then stored as
    /// received.
    func outcome(for result: SieveResult, messageStart: [UInt8]?) -> Outcome {
        var stores: [StoreAction] = []
        for store in result.storeActions() {
            let isInbox = store.mailbox.uppercased() == "INBOX"
            if !(store.isKeep && isInbox), let problem = folderProblem(store.mailbox) {
                return .invalidFolder(name: store.mailbox, problem: problem)
            }
            var action = StoreAction(
                mailbox: store.isKeep && isInbox ? defaultMailbox : store.mailbox,
                flags: store.flags.maildirLetters, create: store.isKeep || store.create || autocreate,
                keywords: store.flags.keywords)
            if let edited = store.header, let messageStart {
                action.header = Self.replacement(edited, messageStart: messageStart)
            }
            stores.append(action)
        }
        return .stores(stores)
    }

    /// Dovecot's reason why `name` cannot be a folder, `nil` when it can.
    func folderProblem(_ name: String) -> String? {
        if name.uppercased() == "INBOX" { return nil }
        guard layout == .fs else { return SieveMailboxName.problem(name, separator: separator) }
        // In LAYOUT=fs a dot is an ordinary character; the separator rules still apply.
        return SieveMailboxName.problem(name.replacingDots(), separator: separator)
    }

    /// The replacement header for a copy: the edited header and where the spool's body starts.
    static func replacement(_ edited: SieveEditedHeader, messageStart: [UInt8]) -> HeaderReplacement {
        let (header, bodyOffset) = edited.apply(toMessageStart: messageStart)
        return HeaderReplacement(header: header, bodyOffset: bodyOffset, messageStart: messageStart)
    }
}

extension String {
    /// The name with `.` replaced by `_`, for checks where a dot is not a separator.
    fileprivate func replacingDots() -> String {
        String(map { $0 == "." ? "_" : $0 })
    }
}
