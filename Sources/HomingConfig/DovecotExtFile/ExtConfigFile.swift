/// A driver configuration file such as dovecot-sql.conf.ext or dovecot-ldap.conf.ext, read as
/// Dovecot reads it: `key = value` lines, `#` comments (also after a value, but not inside
/// quotes), a trailing `\` continuing the value on the next line (joined with one space), values
/// in `"..."` or `'...'` unquoted with `\` escapes, and `!include` / `!include_try` (globs allowed,
/// relative to the including file). Sections are not allowed.
///
/// A syntax error is a ``ConfigError`` whose description is `file:line: what is wrong`.
public struct ExtConfigFile: Sendable, Hashable {
    /// The settings in file order (included files in place of their `!include` line).
    public var entries: [ExtConfigEntry]
    /// Non-fatal remarks (an ambiguous `#` glued to a value, say).
    public var warnings: [ConfigWarning]

    /// A file made of `entries` (for tests and for drivers building one by hand).
    public init(entries: [ExtConfigEntry], warnings: [ConfigWarning] = []) {
        self.entries = entries
        self.warnings = warnings
    }

    /// The value of the last `key` line, or nil. Keys match exactly.
    public func value(_ key: String) -> String? {
        entries.last { $0.key == key }?.value
    }

    /// The last entry for `key` (to point error messages at its line), or nil.
    public func entry(_ key: String) -> ExtConfigEntry? {
        entries.last { $0.key == key }
    }

    /// Reads the file at `path` and the files it includes.
    public static func load(path: String) throws(ConfigError) -> ExtConfigFile {
        var reader = Reader()
        try reader.read(path: path, includedFrom: nil, stack: [])
        return ExtConfigFile(entries: reader.entries, warnings: reader.warnings)
    }

    /// Parses `text` as if it were the file `file`. `!include` paths are relative to
    /// `baseDirectory` (default: the directory of `file`).
    public static func parse(text: String, file: String, baseDirectory: String? = nil) throws(ConfigError) -> ExtConfigFile {
        var reader = Reader()
        try reader.read(text: text, file: file, directory: baseDirectory ?? ConfigFileAccess.directory(of: file), stack: [])
        return ExtConfigFile(entries: reader.entries, warnings: reader.warnings)
    }

    // MARK: - Reading

    private struct Reader {
        var entries: [ExtConfigEntry] = []
        var warnings: [ConfigWarning] = []

        mutating func read(path: String, includedFrom: (ConfigLocation, String)?, stack: [String]) throws(ConfigError) {
            let text: String
            do {
                text = try ConfigFileAccess.readText(at: path)
            } catch {
                guard case .system(let reason) = error else { return }
                if let (location, directive) = includedFrom {
                    let shown = ConfigFileAccess.hasWildcards(directive) ? "\(path): " : ""
                    throw ConfigError("\(directive): \(shown)\(reason)", at: location)
                }
                throw ConfigError("can't read \(path): \(reason)")
            }
            try read(text: text, file: path, directory: ConfigFileAccess.directory(of: path),
                     stack: stack + [ConfigFileAccess.canonicalPath(path)])
        }

        mutating func read(text: String, file: String, directory: String, stack: [String]) throws(ConfigError) {
            let lexed = try ConfigLexer(flavor: .extFile).statements(in: text, file: file)
            warnings += lexed.warnings
            for statement in lexed.statements {
                switch statement.kind {
                case .setting(let key, let value, _):
                    entries.append(ExtConfigEntry(key: key, value: value, location: statement.location))
                case .include(let pattern, let optional):
                    let directive = (optional ? "!include_try " : "!include ") + pattern
                    let paths = try IncludeExpansion.paths(for: pattern, directory: directory, optional: optional,
                                                           directive: directive, at: statement.location)
                    for path in paths {
                        if stack.contains(ConfigFileAccess.canonicalPath(path)) {
                            throw ConfigError("\(directive): include loop (\(path) is already being read)", at: statement.location)
                        }
                        try read(path: path, includedFrom: (statement.location, directive), stack: stack)
                    }
                case .settingFromFile, .sectionStart, .sectionEnd:
                    throw ConfigError("unexpected line in this file", at: statement.location)
                }
            }
        }
    }
}
