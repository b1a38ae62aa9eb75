#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Dovecot's `%` variables, for userdb templates, queries, mail_location and the other
/// templates of a configuration, in the syntax the configuration is written in (``syntax``).
///
/// With ``VariableSyntax/dovecot24`` the template is read as Dovecot 2.4 reads it (see
/// ``Dovecot24Program``: `%{user | domain}`, filters, `%{ldap:attr | default('x')}`); `values`
/// are looked up by their long names, except the 2.3 aliases 2.4 dropped (`username`, `domain`,
/// `lip`, `orig_user`...); `original_user`, `auth_user` and `owner_user` default to `user`,
/// `protocol` to `service`; a provider that has no value is an error that `| default(...)`
/// can catch. The rest of this comment describes the 2.3 syntax.
///
/// `%[offset.][width][modifiers]letter` or `%[...]{long_name}`:
/// - short letters map to long names (`u` user, `n` username, `d` domain, `h` home,
///   `s` service, `l` local_ip, `r` remote_ip, `p` pid, `i` uid, `a` local_port,
///   `b` remote_port); a letter with no long name is looked up as itself (so callers can
///   supply `m` for a message id, say). `%%` is a `%`. A known variable without a value
///   (see ``knownLongNames``) expands to the empty string; an unknown one is an error.
/// - modifiers, applied in order: `L` lowercase, `U` uppercase, `E` escape `"` `'` `\` with
///   `\`, `R` reverse, `X` decimal number to hex, `H` 32-bit hash as hex (width = modulus),
///   `D` `sub.example.com` to `sub,dc=example,dc=com`, `T` trim trailing whitespace.
/// - substrings: `%1n` first character, `%2.1u` the third, `%-2.2u` the last two, `%0.-2u` all
///   but the last two; a width written with a leading zero pads with `0` instead of cutting.
/// - `%{provider:key}` and `%{provider:key:default}` ask a caller-supplied provider (for example
///   `ldap` for LDAP attributes); `%{env:NAME}` reads the environment.
///
/// The `escape` function given to ``expand(_:escape:)`` is applied to each substituted value
/// before modifiers, like Dovecot's SQL/LDAP escaping; literal text is never escaped.
public struct VariableExpander: Sendable {
    /// Values by long name (`user`, `domain`, ...) or by single letter.
    public var values: [String: String]
    /// `%{name:key}` providers: given `key`, return the value or nil when there is none.
    public var providers: [String: @Sendable (String) -> String?]
    /// The language of the templates this expander reads.
    public var syntax: VariableSyntax

    /// Short letters and the long names they stand for.
    public static let shortNames: [Character: String] = [
        "u": "user", "n": "username", "d": "domain", "h": "home", "s": "service",
        "l": "local_ip", "r": "remote_ip", "p": "pid", "i": "uid", "a": "local_port", "b": "remote_port",
    ]

    /// Long names Dovecot defines for mail users; when the caller has no value for one of these
    /// (no `%r` on a UNIX socket, say), it expands to the empty string, as in Dovecot.
    public static let knownLongNames: Set<String> = Set(shortNames.values).union([
        "hostname", "gid", "session", "orig_user", "orig_username", "orig_domain", "auth_user", "auth_username",
        "auth_domain", "local_name", "master_user", "userdb_mail", "session_pid", "real_local_ip", "real_remote_ip",
    ])

    /// An expander over `values` (by long name or single letter) and `%{name:key}` `providers`.
    public init(values: [String: String], providers: [String: @Sendable (String) -> String?] = [:],
                syntax: VariableSyntax = .dovecot23) {
        self.values = values
        self.providers = providers
        self.syntax = syntax
    }

    /// Values for a user name: `user`, `username` (before the last `@`, or all of it) and
    /// `domain` (after the last `@`, or empty), plus `service` and any `extra` values.
    public static func userValues(user: String, service: String = "lmtp", extra: [String: String] = [:]) -> [String: String] {
        let parts = splitUser(user)
        var result: [String: String] = [
            "user": user, "service": service, "username": parts.username, "domain": parts.domain,
        ]
        result.merge(extra) { _, new in new }
        return result
    }

    /// `%n` and `%d` of a user name: the part before the last `@` (or all of it) and the part
    /// after it (or empty).
    public static func splitUser(_ user: String) -> (username: String, domain: String) {
        guard let at = user.lastIndex(of: "@") else { return (user, "") }
        return (String(user[..<at]), String(user[user.index(after: at)...]))
    }

    /// Process-wide values Dovecot always offers: `pid` and `hostname` (without domain, or
    /// `DOVECOT_HOSTNAME` from the environment).
    public static func processValues() -> [String: String] {
        var result = ["pid": String(getpid())]
        if let override = getenv("DOVECOT_HOSTNAME") {
            result["hostname"] = String(cString: override)
        } else {
            var buffer = [CChar](repeating: 0, count: 256)
            if gethostname(&buffer, buffer.count - 1) == 0 {
                let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                result["hostname"] = String(name.prefix { $0 != "." })
            }
        }
        return result
    }

    /// Expands every variable in `template`.
    public func expand(_ template: String, escape: (String) -> String = { $0 }) throws(VariableExpansionError) -> String {
        switch syntax {
        case .dovecot23: return try expand23(template, escape: escape)
        case .dovecot24: return try expand24(template, escape: escape)
        }
    }

    private func expand23(_ template: String, escape: (String) -> String) throws(VariableExpansionError) -> String {
        let characters = Array(template)
        var output = ""
        var index = 0
        while index < characters.count {
            let character = characters[index]
            guard character == "%" else {
                output.append(character)
                index += 1
                continue
            }
            let start = index
            index += 1
            var spec = VariableSubstringSpec()
            spec.parseNumbers(characters, &index)
            var modifiers: [(Character, Int)] = []
            while index < characters.count, Self.modifierLetters.contains(characters[index]) {
                modifiers.append((characters[index], start))
                index += 1
            }
            guard index < characters.count else { throw .incompleteVariable(position: start) }
            var raw: String
            if characters[index] == "{" {
                var depth = 1
                var end = index + 1
                while end < characters.count {
                    if characters[end] == "\\" { end += 2; continue }
                    if characters[end] == "{" { depth += 1 }
                    if characters[end] == "}" { depth -= 1; if depth == 0 { break } }
                    end += 1
                }
                guard end < characters.count else { throw .unterminatedBrace(position: start) }
                let name = String(characters[(index + 1)..<end])
                raw = try lookUpLong(name, position: start, escape: escape)
                index = end + 1
            } else {
                let letter = characters[index]
                index += 1
                if letter == "%", modifiers.isEmpty, spec.isEmpty {
                    output.append("%")
                    continue
                }
                raw = try lookUpShort(letter, position: start, escape: escape)
            }
            for (modifier, position) in modifiers {
                raw = try Self.apply(modifier, to: raw, spec: &spec, position: position)
            }
            output += spec.cut(raw)
        }
        return output
    }

    // MARK: - Lookup

    private func lookUpShort(_ letter: Character, position: Int, escape: (String) -> String) throws(VariableExpansionError) -> String {
        if letter == "%" { return "%" }
        if let long = Self.shortNames[letter] {
            return escape(values[long] ?? values[String(letter)] ?? "")
        }
        if let value = values[String(letter)] { return escape(value) }
        throw .unknownVariable(name: String(letter), position: position)
    }

    private func lookUpLong(_ name: String, position: Int, escape: (String) -> String) throws(VariableExpansionError) -> String {
        if let value = values[name] { return escape(value) }
        if Self.knownLongNames.contains(name) { return escape("") }
        guard let colon = name.firstIndex(of: ":") else {
            throw .unknownVariable(name: name, position: position)
        }
        let provider = String(name[..<colon])
        let rest = name[name.index(after: colon)...]
        let key: String
        let fallback: String?
        if let second = rest.firstIndex(of: ":") {
            key = String(rest[..<second])
            fallback = String(rest[rest.index(after: second)...])
        } else {
            key = String(rest)
            fallback = nil
        }
        let found: String?
        if let lookup = providers[provider] {
            found = lookup(key)
        } else if provider == "env" {
            found = getenv(key).map { String(cString: $0) }
        } else {
            throw .unknownVariable(name: name, position: position)
        }
        return escape(found ?? fallback ?? "")
    }

    // MARK: - Modifiers

    static let modifierLetters: Set<Character> = ["L", "U", "E", "X", "R", "H", "N", "M", "D", "T"]

    private static func apply(_ modifier: Character, to value: String, spec: inout VariableSubstringSpec,
                              position: Int) throws(VariableExpansionError) -> String {
        switch modifier {
        case "L": return asciiMapped(value) { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        case "U": return asciiMapped(value) { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
        case "E":
            var out = ""
            for character in value {
                if character == "\"" || character == "'" || character == "\\" { out.append("\\") }
                out.append(character)
            }
            return out
        case "R": return String(value.reversed())
        case "X":
            let number = UInt64(value) ?? 0
            return String(number, radix: 16)
        case "H":
            var hash = dovecotStringHash(value)
            if spec.width > 0 {
                hash %= UInt32(spec.width)
                spec.width = 0
            }
            var hex = String(hash, radix: 16)
            if spec.offset > hex.count { hex = String(repeating: "0", count: spec.offset - hex.count) + hex }
            spec.offset = 0
            return hex
        case "D":
            return value.split(separator: ".", omittingEmptySubsequences: false).joined(separator: ",dc=")
        case "T":
            var trimmed = Substring(value)
            while let last = trimmed.last, last.isWhitespace { trimmed.removeLast() }
            return String(trimmed)
        default:
            throw .unsupportedModifier(modifier: modifier, position: position)
        }
    }

    private static func asciiMapped(_ value: String, _ transform: (UInt8) -> UInt8) -> String {
        String(decoding: value.utf8.map(transform), as: UTF8.self)
    }

    /// Dovecot's `str_hash` (a PJW-style 32-bit hash over the bytes).
    static func dovecotStringHash(_ value: String) -> UInt32 {
        var hash: UInt32 = 0
        for byte in value.utf8 {
            hash = (hash << 4) &+ UInt32(byte)
            let high = hash & 0xF000_0000
            if high != 0 {
                hash ^= high >> 24
                hash ^= high
            }
        }
        return hash
    }
}
