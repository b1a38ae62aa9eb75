/// A folder as Dovecot's `subscriptions` file names it: its hierarchy levels as stored (modified
/// UTF-7 unless the mail location has `UTF-8`), and the separator the storage puts between them
/// (`.` for Maildir++, `/` for `LAYOUT=fs`), used by files of the old version 1 format; and the
/// mail root, where the file is.
public struct MailboxSubscription: Sendable, Hashable {
    /// The levels, as stored (`["Lists", "Other"]`).
    public var levels: [String]
    /// The storage's hierarchy separator.
    public var separator: Character
    /// The mail root (the directory holding `subscriptions`), absolute.
    public var root: String

    /// Creates a subscription entry.
    public init(levels: [String], separator: Character, root: String = "/") {
        self.levels = levels
        self.separator = separator
        self.root = root
    }
}

/// The contents of a mailbox list's `subscriptions` file (Dovecot's `subscription-file.c`).
///
/// Version 2, which Dovecot writes for a new file, starts with `V<TAB>2<LF><LF>` and holds one
/// line per subscribed folder, its levels separated by tabs, each level tab-escaped (`\001`
/// followed by `1`, `t`, `r` or `n` for `\001`, tab, CR and LF). A file without that header is
/// version 1: one storage name per line, levels joined with the storage's separator. Lines are
/// kept as they are; a subscription is added at the end unless an identical line exists.
public struct MaildirSubscriptionList: Sendable, Hashable {
    /// The header of a version 2 file.
    public static let version2Header: [UInt8] = Array("V\t2\n\n".utf8)

    /// 2 or 1.
    public private(set) var version: Int
    /// The lines after the header, as written (without their line ends).
    public private(set) var lines: [[UInt8]]

    /// An empty version 2 list (what a missing file means).
    public init() {
        version = 2
        lines = []
    }

    /// Reads a file's contents.
    public init(parsing bytes: [UInt8]) {
        var body = bytes[...]
        if bytes.starts(with: Self.version2Header) {
            version = 2
            body = bytes.dropFirst(Self.version2Header.count)
        } else {
            version = 1
        }
        lines = body.split(separator: 0x0A, omittingEmptySubsequences: true).map { Array($0) }
    }

    /// The line naming `subscription` in this file's version.
    public func line(for subscription: MailboxSubscription) -> [UInt8] {
        if version < 2 {
            return Array(subscription.levels.joined(separator: String(subscription.separator)).utf8)
        }
        var out: [UInt8] = []
        for (index, level) in subscription.levels.enumerated() {
            if index > 0 { out.append(0x09) }
            for byte in level.utf8 {
                switch byte {
                case 0x01: out += [0x01, UInt8(ascii: "1")]
                case 0x09: out += [0x01, UInt8(ascii: "t")]
                case 0x0D: out += [0x01, UInt8(ascii: "r")]
                case 0x0A: out += [0x01, UInt8(ascii: "n")]
                default: out.append(byte)
                }
            }
        }
        return out
    }

    /// Adds `subscription` unless it is there; returns whether the list changed.
    public mutating func subscribe(_ subscription: MailboxSubscription) -> Bool {
        let entry = line(for: subscription)
        if lines.contains(entry) { return false }
        lines.append(entry)
        return true
    }

    /// The file's contents.
    public var contents: [UInt8] {
        var out = version >= 2 ? Self.version2Header : []
        for line in lines { out += line + [0x0A] }
        return out
    }
}
