/// A parsed `mail_location` (or userdb `mail`) value: where a user's maildir lives and how its
/// folders are laid out, as Dovecot 2.3 reads it.
///
/// Parse the value after `%` variable expansion with ``parse(_:home:)``; map a mailbox name to
/// its directory with ``directory(forMailbox:)`` or ``mailbox(named:)``.
public struct MailLocation: Sendable, Hashable {
    /// How folders other than INBOX are laid out under the root.
    public enum Layout: String, Sendable, Hashable {
        /// Maildir++ (the default): every folder is `<root>/.<name>`, hierarchy separated by `.`.
        case maildirPlusPlus = "maildir++"
        /// `LAYOUT=fs`: folders are directories under the root, `<root>/a/b`.
        case fs
    }

    /// One option after the root, as given (`LAYOUT=fs`, `NO-NOSELECT`), with `~` expanded in path values.
    public struct Option: Sendable, Hashable {
        /// The option name, e.g. `INDEX`, `NO-NOSELECT`, `UTF-8`.
        public var key: String
        /// The value after `=`, or nil for a flag option.
        public var value: String?

        public init(key: String, value: String?) {
            self.key = key
            self.value = value
        }
    }

    /// The mail root directory (absolute, normalised, `~` expanded): INBOX and, for Maildir++, the folders' parent.
    public var root: String
    /// `INBOX=`: where INBOX lives when it is not the root.
    public var inboxPath: String?
    /// `LAYOUT=`.
    public var layout: Layout
    /// `UTF-8` (or `UTF8`): folder names are stored in UTF-8 instead of modified UTF-7.
    public var utf8: Bool
    /// `DIRNAME=` (or `FULLDIRNAME=`): with `LAYOUT=fs`, the maildir of a folder is `<folder>/<DIRNAME>`.
    public var directoryName: String?
    /// `MAILBOXDIR=`: with `LAYOUT=fs`, folders live under `<root>/<MAILBOXDIR>/`.
    public var mailboxDirectoryName: String?
    /// Every option in the order given, including those Homing keeps but does not act on
    /// (`INDEX`, `CONTROL`, `VOLATILEDIR`, `NO-NOSELECT`, ...).
    public var options: [Option]
    /// The user's home, as given to ``parse(_:home:)``: the boundary of the symlink rule
    /// (``trustedBase(for:)``).
    public var home: String?

    public init(
        root: String,
        inboxPath: String? = nil,
        layout: Layout = .maildirPlusPlus,
        utf8: Bool = false,
        directoryName: String? = nil,
        mailboxDirectoryName: String? = nil,
        options: [Option] = [],
        home: String? = nil
    ) {
        self.home = home
        self.root = root
        self.inboxPath = inboxPath
        self.layout = layout
        self.utf8 = utf8
        self.directoryName = directoryName
        self.mailboxDirectoryName = mailboxDirectoryName
        self.options = options
    }

    /// The value of the last option named `key` (exact, case-sensitive as in Dovecot), or nil.
    /// A flag option gives `""`.
    public func optionValue(_ key: String) -> String? {
        guard let option = options.last(where: { $0.key == key }) else { return nil }
        return option.value ?? ""
    }
}

// MARK: - Parsing

extension MailLocation {
    /// Mailbox formats Dovecot knows that Homing does not store into.
    static let otherFormats: Set<String> = [
        "mbox", "sdbox", "mdbox", "dbox", "cydir", "imapc", "pop3c", "raw", "shared", "virtual",
        "fail", "obox", "imapdir",
    ]
    /// Options whose value is a directory path (`~` expanded, must be absolute).
    static let pathOptions: Set<String> = ["INBOX", "INDEX", "INDEXPVT", "INDEXCACHE", "CONTROL", "ALT", "VOLATILEDIR"]
    /// Options whose value is a name or relative path.
    static let nameOptions: Set<String> = [
        "LAYOUT", "SUBSCRIPTIONS", "DIRNAME", "FULLDIRNAME", "MAILBOXDIR", "LISTINDEX", "BROKENCHAR",
    ]
    /// Options without a value.
    static let flagOptions: Set<String> = [
        "ALTNOCHECK", "ITERINDEX", "NO-NOSELECT", "KEEP-NOSELECT", "NO-FS-VALIDATION", "UTF-8", "UTF8",
    ]

    /// Parses a `mail_location` or userdb `mail` value after `%` expansion.
    ///
    /// Accepts `maildir:<path>[:KEY=value...]`, or a bare path (Dovecot autodetects; Homing takes it
    /// as maildir). `~` and `~/` expand to `home`. `::` stands for a literal `:` inside a path.
    /// - Parameters:
    ///   - value: the expanded value, e.g. `maildir:~/Maildir:LAYOUT=fs`.
    ///   - home: the user's home directory, needed only when the value uses `~`.
    public static func parse(_ value: String, home: String?) throws(MailLocationError) -> MailLocation {
        if value.isEmpty { throw .empty }
        if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw .controlCharacter(location: value)
        }
        let rest = try stripFormat(value)
        let arguments = splitArguments(rest)
        guard let rootArgument = arguments.first, !rootArgument.isEmpty, !rootArgument.hasPrefix("INBOX=") else {
            throw .missingRoot(location: value)
        }
        let paths = PathExpander(home: home, location: value)
        var location = MailLocation(root: try paths.expand(rootArgument, what: "mail root directory"), home: home)
        for argument in arguments.dropFirst() {
            try location.apply(argument, paths: paths)
        }
        if location.optionValue("ITERINDEX") != nil, (location.optionValue("INDEX") ?? "").isEmpty {
            throw .invalidOptionValue(
                option: "ITERINDEX", value: "", reason: "ITERINDEX requires INDEX to be set explicitly", location: value)
        }
        return location
    }

    /// Removes and checks the `format:` prefix; returns the rest (root and options).
    private static func stripFormat(_ value: String) throws(MailLocationError) -> Substring {
        guard let colon = value.firstIndex(of: ":") else { return value[...] }
        let prefix = value[..<colon]
        let isFormatName = !prefix.isEmpty && prefix.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
        guard isFormatName else { return value[...] }
        let format = prefix.lowercased()
        if format == "maildir" { return value[value.index(after: colon)...] }
        if otherFormats.contains(format) { throw .unsupportedFormat(format: format, location: value) }
        throw .unknownFormat(format: String(prefix), location: value)
    }

    /// Splits at `:`; `::` is a literal `:`, and a trailing `:` is ignored (as Dovecot does).
    static func splitArguments(_ text: Substring) -> [String] {
        var arguments: [String] = []
        var current = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if character == ":" {
                if next < text.endIndex, text[next] == ":" {
                    current.append(":")
                    index = text.index(after: next)
                    continue
                }
                arguments.append(current)
                current = ""
            } else {
                current.append(character)
            }
            index = next
        }
        if !current.isEmpty || arguments.isEmpty { arguments.append(current) }
        return arguments
    }

    /// Records one `KEY=value` or flag argument.
    private mutating func apply(_ argument: String, paths: PathExpander) throws(MailLocationError) {
        let key: String
        let rawValue: String?
        if let equals = argument.firstIndex(of: "=") {
            key = String(argument[..<equals])
            rawValue = String(argument[argument.index(after: equals)...])
        } else {
            key = argument
            rawValue = nil
        }
        let location = paths.location
        if Self.flagOptions.contains(key) {
            if key == "UTF-8" || key == "UTF8" { utf8 = true }
            options.append(Option(key: key, value: rawValue))
            return
        }
        let value = rawValue ?? ""
        if Self.pathOptions.contains(key) {
            let expanded: String
            if key == "INBOX" {
                guard !value.isEmpty else {
                    throw .invalidOptionValue(option: key, value: value, reason: "INBOX needs a path", location: location)
                }
                expanded = try paths.expand(value, what: "INBOX path")
                inboxPath = expanded
            } else if value.isEmpty || (value == "MEMORY" && key.hasPrefix("INDEX")) {
                expanded = value
            } else {
                expanded = try paths.expand(value, what: "\(key) path")
            }
            options.append(Option(key: key, value: expanded))
            return
        }
        guard Self.nameOptions.contains(key) else {
            throw .unknownOption(option: key, location: location)
        }
        switch key {
        case "LAYOUT":
            switch value {
            case "maildir++": layout = .maildirPlusPlus
            case "fs": layout = .fs
            case "index", "imapdir":
                throw .invalidOptionValue(
                    option: key, value: value, reason: "Homing supports LAYOUT=maildir++ and LAYOUT=fs only",
                    location: location)
            default:
                throw .invalidOptionValue(
                    option: key, value: value, reason: "unknown layout (use maildir++ or fs)", location: location)
            }
        case "DIRNAME", "FULLDIRNAME":
            directoryName = try Self.relativeName(value, key: key, allowSlash: false, location: location)
        case "MAILBOXDIR":
            mailboxDirectoryName = try Self.relativeName(value, key: key, allowSlash: true, location: location)
        case "BROKENCHAR":
            guard value.utf8.count == 1 else {
                throw .invalidOptionValue(
                    option: key, value: value, reason: "BROKENCHAR value must be a single character", location: location)
            }
        default:
            break
        }
        options.append(Option(key: key, value: value))
    }

    /// Validates a relative directory name option (`DIRNAME`, `MAILBOXDIR`); empty gives nil.
    private static func relativeName(
        _ value: String, key: String, allowSlash: Bool, location: String
    ) throws(MailLocationError) -> String? {
        if value.isEmpty { return nil }
        let components = value.split(separator: "/", omittingEmptySubsequences: false)
        let bad =
            value.hasPrefix("/") || value.hasPrefix("~") || (!allowSlash && components.count > 1)
            || components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
        if bad {
            let expected = allowSlash ? "a relative directory path without . or .. levels" : "a single directory name"
            throw .invalidOptionValue(option: key, value: value, reason: "must be \(expected)", location: location)
        }
        return value
    }
}

/// Expands `~` and normalises absolute paths of one `mail_location` value.
struct PathExpander {
    var home: String?
    var location: String

    /// `~` or `~/x` → home based; otherwise the path must be absolute. Collapses `//` and `.`,
    /// refuses `..`, drops a trailing `/`.
    func expand(_ path: String, what: String) throws(MailLocationError) -> String {
        var absolute = path
        if path == "~" || path.hasPrefix("~/") {
            guard let home, !home.isEmpty else { throw .noHome(location: location) }
            guard home.hasPrefix("/") else { throw .relativeHome(home: home) }
            absolute = home + path.dropFirst()
        }
        guard absolute.hasPrefix("/") else {
            throw .relativePath(what: what, path: path, location: location)
        }
        let components = absolute.split(separator: "/").filter { $0 != "." }
        if components.contains("..") {
            throw .parentComponent(what: what, path: path, location: location)
        }
        return "/" + components.joined(separator: "/")
    }
}
