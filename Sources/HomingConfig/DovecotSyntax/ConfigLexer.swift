/// Splits the text of one Dovecot-style configuration file into statements, the way Dovecot's
/// parsers read lines. Pure: no file access.
///
/// - Leading and trailing blanks (space, tab) are ignored; a line starting with `#` is a comment.
/// - `#` starts a comment anywhere else too, except inside `"..."` or `'...'` (where `\` escapes
///   the next character). A `#` glued to the text before it is still a comment, with a warning,
///   as in Dovecot.
/// - A line ending with `\` continues on the next line; the pieces are joined with one space.
/// - `key = value`; a value wholly inside matching quotes is unquoted, `\x` giving `x`.
/// - `key = <path` (main configuration only) takes the value from a file.
/// - `type [name] {` opens a section, `}` closes it (main configuration only).
/// - `!include path` and `!include_try path`.
struct ConfigLexer: Sendable {
    /// Which grammar to accept.
    enum Flavor: Sendable {
        /// dovecot.conf and its includes: sections and `<file` values allowed.
        case main
        /// dovecot-sql.conf.ext style: only `key = value` and includes.
        case extFile
    }

    var flavor: Flavor

    /// The statements of `text` and any warnings, or the first syntax error.
    func statements(in text: String, file: String) throws(ConfigError) -> (statements: [ConfigStatement], warnings: [ConfigWarning]) {
        let lexed = lex(text, file: file)
        if let first = lexed.errors.first { throw first }
        return (lexed.statements, lexed.warnings)
    }

    /// The statements of the lines that are well formed, the warnings, and an error for each
    /// line that is not (so that every syntax error of a file can be reported at once).
    func lex(_ text: String, file: String) -> (statements: [ConfigStatement], warnings: [ConfigWarning], errors: [ConfigError]) {
        var errors: [ConfigError] = []
        var result: [ConfigStatement] = []
        var warnings: [ConfigWarning] = []
        var pending: [UInt8] = []
        var pendingStart = 0
        var lineNumber = 0
        let bytes = Array(text.utf8)
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if bytes.last == UInt8(ascii: "\n") { lines.removeLast() }
        for rawLine in lines {
            lineNumber += 1
            var line = Array(rawLine)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            let location = ConfigLocation(file: file, line: lineNumber)
            var start = 0
            while start < line.count, Self.isBlank(line[start]) { start += 1 }
            if start == line.count || line[start] == UInt8(ascii: "#") {
                // Dovecot lets a blank or comment line end a continuation.
                if !pending.isEmpty {
                    collect(pending, at: ConfigLocation(file: file, line: pendingStart), into: &result, errors: &errors)
                    pending = []
                }
                continue
            }
            var content = Array(line[start...])
            if let hash = Self.commentStart(in: content) {
                if hash > 0, !Self.isBlank(content[hash - 1]) {
                    warnings.append(ConfigWarning(
                        "ambiguous '#' character in line, treating it as a comment; add a space before it to remove this warning",
                        at: location))
                }
                content.removeSubrange(hash...)
            }
            while let last = content.last, Self.isBlank(last) { content.removeLast() }
            if content.last == UInt8(ascii: "\\") {
                content.removeLast()
                while let last = content.last, Self.isBlank(last) { content.removeLast() }
                if pending.isEmpty { pendingStart = lineNumber }
                pending += content
                pending.append(UInt8(ascii: " "))
                continue
            }
            if pending.isEmpty {
                collect(content, at: location, into: &result, errors: &errors)
            } else {
                pending += content
                collect(pending, at: ConfigLocation(file: file, line: pendingStart), into: &result, errors: &errors)
                pending = []
            }
        }
        if !pending.isEmpty {
            collect(pending, at: ConfigLocation(file: file, line: pendingStart), into: &result, errors: &errors)
        }
        return (result, warnings, errors)
    }

    private func collect(_ line: [UInt8], at location: ConfigLocation, into result: inout [ConfigStatement],
                         errors: inout [ConfigError]) {
        do {
            try finish(line, at: location, into: &result)
        } catch {
            errors.append(error)
            // A bad section opening still opens a section, so that its `}` does not close another.
            if line.last == UInt8(ascii: "{") {
                result.append(ConfigStatement(kind: .sectionStart(type: "(bad line)", name: nil), location: location))
            }
        }
    }

    // MARK: - One logical line

    private func finish(_ line: [UInt8], at location: ConfigLocation, into result: inout [ConfigStatement]) throws(ConfigError) {
        var line = line
        while let last = line.last, Self.isBlank(last) { line.removeLast() }
        guard !line.isEmpty else { return }
        var index = 0
        while index < line.count, !Self.isBlank(line[index]), line[index] != UInt8(ascii: "=") { index += 1 }
        let key = Self.string(line[0..<index])
        while index < line.count, Self.isBlank(line[index]) { index += 1 }
        let rest = Array(line[index...])

        if key == "!include" || key == "!include_try" {
            guard !rest.isEmpty else {
                throw ConfigError("\(key) needs a file name or pattern", at: location)
            }
            let pattern = Self.unquoted(rest) ?? Self.string(rest[...])
            result.append(ConfigStatement(kind: .include(pattern: pattern, optional: key == "!include_try"), location: location))
            return
        }

        if rest.first == UInt8(ascii: "=") {
            guard !key.isEmpty else { throw ConfigError("missing setting name before '='", at: location) }
            var valueStart = 1
            while valueStart < rest.count, Self.isBlank(rest[valueStart]) { valueStart += 1 }
            let value = Array(rest[valueStart...])
            if flavor == .main, value.first == UInt8(ascii: "<") {
                var pathStart = 1
                while pathStart < value.count, Self.isBlank(value[pathStart]) { pathStart += 1 }
                let path = Self.string(value[pathStart...])
                guard !path.isEmpty else { throw ConfigError("\(key): missing file name after '<'", at: location) }
                result.append(ConfigStatement(kind: .settingFromFile(key: key, path: path), location: location))
                return
            }
            if let unquoted = Self.unquoted(value) {
                result.append(ConfigStatement(kind: .setting(key: key, value: unquoted, quoted: true), location: location))
            } else {
                result.append(ConfigStatement(kind: .setting(key: key, value: Self.string(value[...]), quoted: false), location: location))
            }
            return
        }

        if key == "}" {
            guard flavor == .main else { throw ConfigError("unexpected '}': sections are not allowed in this file", at: location) }
            guard rest.isEmpty else { throw ConfigError("garbage after '}': \(Self.string(rest[...]))", at: location) }
            result.append(ConfigStatement(kind: .sectionEnd, location: location))
            return
        }

        guard flavor == .main else {
            throw ConfigError("expecting '=' after '\(key)' (write key = value)", at: location)
        }
        // `type [name] {`
        var name: String?
        var position = 0
        if rest.first == UInt8(ascii: "{") {
            name = nil
        } else if rest.first == UInt8(ascii: "\"") {
            var end = 1
            var collected: [UInt8] = []
            while end < rest.count, rest[end] != UInt8(ascii: "\"") {
                if rest[end] == UInt8(ascii: "\\"), end + 1 < rest.count { end += 1 }
                collected.append(rest[end])
                end += 1
            }
            guard end < rest.count else { throw ConfigError("\(key): missing closing '\"' in section name", at: location) }
            name = Self.string(collected[...])
            position = end + 1
            while position < rest.count, Self.isBlank(rest[position]) { position += 1 }
        } else {
            while position < rest.count, !Self.isBlank(rest[position]) { position += 1 }
            name = Self.string(rest[0..<position])
            while position < rest.count, Self.isBlank(rest[position]) { position += 1 }
        }
        guard position < rest.count, rest[position] == UInt8(ascii: "{") else {
            if rest.isEmpty {
                throw ConfigError("expecting '=' or '{' after '\(key)' (write key = value, or name {)", at: location)
            }
            throw ConfigError("expecting '{' after '\(key) \(name ?? "")'", at: location)
        }
        guard position + 1 == rest.count else {
            throw ConfigError("garbage after '{': \(Self.string(rest[(position + 1)...]).trimmingBlanks()) (put each setting on its own line)", at: location)
        }
        result.append(ConfigStatement(kind: .sectionStart(type: key, name: name), location: location))
    }

    // MARK: - Helpers

    static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// The index of the `#` starting a comment, skipping quoted text.
    static func commentStart(in line: [UInt8]) -> Int? {
        var index = 0
        while index < line.count {
            let byte = line[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                index += 1
                while index < line.count, line[index] != byte {
                    if line[index] == UInt8(ascii: "\\"), index + 1 < line.count { index += 1 }
                    index += 1
                }
                if index >= line.count { return nil }
            } else if byte == UInt8(ascii: "#") {
                return index
            }
            index += 1
        }
        return nil
    }

    /// The value without its surrounding matching quotes and with `\x` turned into `x`,
    /// or nil when the value is not wholly quoted.
    static func unquoted(_ value: [UInt8]) -> String? {
        guard value.count >= 2, let first = value.first, first == value.last,
              first == UInt8(ascii: "\"") || first == UInt8(ascii: "'")
        else { return nil }
        var out: [UInt8] = []
        var index = 1
        let end = value.count - 1
        while index < end {
            if value[index] == UInt8(ascii: "\\") {
                index += 1
                if index >= end { break }
            }
            out.append(value[index])
            index += 1
        }
        return string(out[...])
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
