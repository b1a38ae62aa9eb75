/// A Dovecot 2.4 configuration as a tree of settings and sections, read from the file and its
/// includes: `!include`, `<file` values and `$SET:name` / `$ENV:name` references resolved.
struct Dovecot24Node: Sendable {
    var key: String
    /// The value of a setting; nil for a section.
    var value: String?
    /// The section's name (`userdb users {`), nil when none.
    var name: String?
    var children: [Dovecot24Node] = []
    var location: ConfigLocation

    var isSection: Bool { value == nil }
    var title: String { name.map { "\(key) \($0)" } ?? key }
}

/// Reads files into ``Dovecot24Node``s, collecting every syntax error.
struct Dovecot24TreeReader {
    private(set) var nodes: [Dovecot24Node] = []
    private(set) var files: [String] = []
    private(set) var warnings: [ConfigWarning] = []
    var diagnostics = ConfigDiagnostics()
    /// The open sections: their node and where they go when closed.
    private var stack: [Dovecot24Node] = []
    private var includeStack: [String] = []
    /// The latest value of each setting by name, for `$SET:name`.
    private var values: [String: String] = [:]

    /// Settings whose `<file` value is read (others are not: the file may be readable only by
    /// the server Homing replaces, an SSL key say).
    static let fileValueKeys: Set<String> = [
        "ldap_auth_dn_password", "password", "query", "iterate_query", "filter", "iterate_filter", "postmaster_address",
    ]

    mutating func read(text: String, file: String, directory: String) {
        files.append(file)
        includeStack.append(ConfigFileAccess.canonicalPath(file))
        defer { includeStack.removeLast() }
        let lexed = ConfigLexer(flavor: .main).lex(text, file: file)
        warnings += lexed.warnings
        for error in lexed.errors { diagnostics.error(error) }
        for statement in lexed.statements {
            do {
                try handle(statement, directory: directory)
            } catch {
                diagnostics.error(error)
            }
        }
    }

    /// The top-level nodes; an unclosed section is an error (its contents are kept).
    mutating func finish() -> [Dovecot24Node] {
        while let open = stack.popLast() {
            diagnostics.error("section '\(open.title)' is not closed (missing '}')", at: open.location)
            append(open)
        }
        return nodes
    }

    private mutating func append(_ node: Dovecot24Node) {
        if stack.isEmpty {
            nodes.append(node)
        } else {
            stack[stack.count - 1].children.append(node)
        }
    }

    private mutating func handle(_ statement: ConfigStatement, directory: String) throws(ConfigError) {
        let location = statement.location
        switch statement.kind {
        case .include(let pattern, let optional):
            let files = try IncludeExpansion.files(
                for: pattern, optional: optional, directory: directory, reading: includeStack, at: location)
            for file in files {
                read(text: file.text, file: file.path, directory: ConfigFileAccess.directory(of: file.path))
            }
        case .sectionEnd:
            guard let open = stack.popLast() else { throw ConfigError("unexpected '}' (no section is open)", at: location) }
            append(open)
        case .sectionStart(let type, let name):
            stack.append(Dovecot24Node(key: type, value: nil, name: name, location: location))
        case .setting(let key, let value, let quoted):
            let resolved = quoted ? value : try resolveReferences(in: value, key: key, at: location)
            values[key] = resolved
            append(Dovecot24Node(key: key, value: resolved, location: location))
        case .settingFromFile(let key, let path):
            var text = ""
            if Self.fileValueKeys.contains(key) {
                do {
                    text = try ConfigFileAccess.readText(at: ConfigFileAccess.resolve(path, relativeTo: directory))
                } catch {
                    guard case .system(let reason) = error else { return }
                    throw ConfigError("\(key): can't read <\(path): \(reason)", at: location)
                }
                while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            }
            values[key] = text
            append(Dovecot24Node(key: key, value: text, location: location))
        }
    }

    /// `$SET:name` is the current value of setting `name`, `$ENV:name` an environment variable;
    /// a bare `$name` (2.3) is an error naming `$SET:name`.
    private func resolveReferences(in value: String, key: String, at location: ConfigLocation) throws(ConfigError) -> String {
        guard value.contains("$") else { return value }
        var words: [String] = []
        for word in value.split(separator: " ", omittingEmptySubsequences: false) {
            if word.hasPrefix("$SET:") {
                let name = String(word.dropFirst(5))
                guard let current = values[name] ?? SettingDefinitions.all[name]?.defaultValue else {
                    throw ConfigError("\(key): \(word) refers to an unknown or unset setting", at: location)
                }
                words.append(current)
            } else if word.hasPrefix("$ENV:") {
                words.append(getenv(String(word.dropFirst(5))).map { String(cString: $0) } ?? "")
            } else if word.hasPrefix("$"), word.count > 1,
                      word.dropFirst().allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
                throw ConfigError("\(key): \(word) is Dovecot 2.3 syntax: in a 2.4 file write $SET:\(word.dropFirst())",
                                  at: location)
            } else {
                words.append(String(word))
            }
        }
        return words.joined(separator: " ").trimmingBlanks()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
